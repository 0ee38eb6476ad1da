import type { EntityShape, Range } from './query.ts';
import { formatInstant, HOUR_MS, HOUR_TICKS, TICKS_PER_MS, ticksSince } from './time.ts';

/**
 * Deterministic, lazily generated rows. Every row is a pure function of (seed, entity, hour, index), and
 * row times are non-decreasing in the index, so a page is found by binary search and built row by row
 * without ever materializing an hour.
 */

/** CreatedDate (and FailureDate) precede ModifiedDate by less than this. */
const MAX_LAG_MS = 2 * HOUR_MS;
/** Integer keys are hour * this + index, so they stay unique while an hour holds fewer rows. */
export const MAX_ROWS_PER_HOUR = 10_000_000;
const QUANTA = [10_000_000, 100_000, 10_000, 1]; // 0, 2, 3 and 7 fraction digits

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: a tiny seeded PRNG, far cheaper than crypto per row. */
class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }
  below(n: number): number {
    return this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)] as T;
  }
}

const HEX = Array.from({ length: 256 }, (_, k) => k.toString(16).padStart(2, '0'));
const hex2 = (v: number, shift: number): string => HEX[(v >>> shift) & 255] ?? '00';
const hex4 = (v: number): string => hex2(v, 8) + hex2(v, 0);
const hex6 = (v: number): string => hex2(v, 16) + hex4(v);

/** A GUID unique per (seed, entity, hour, index): the last 12 digits encode hour and index bijectively. */
function guid(es: number, hour: number, index: number): string {
  const a = mix(es, mix(hour, index));
  const b = mix(a, 1);
  const c = mix(a, 2);
  const tail = hex6(hour ^ mix(es, 3)) + hex6(index ^ mix(es, 4));
  return `${hex4(a >>> 16)}${hex4(a)}-${hex4(b)}-${hex4(0x4000 | (b >>> 20))}-${hex4(0x8000 | (c & 0x3fff))}-${tail}`;
}

/** What a row builder sees. A class, not a literal with closures: it is built once per row. */
class RowCtx {
  constructor(
    private readonly data: Dataset,
    readonly rng: Rng,
    /** Seed of the entity. */
    readonly es: number,
    readonly hour: number,
    readonly index: number,
    readonly modified: string,
    readonly created: string,
  ) {}
  /** Integer key, unique per entity. */
  get id(): number {
    return this.hour * MAX_ROWS_PER_HOUR + this.index;
  }
  /** A GUID of another entity's row, from a stable pool. */
  ref(entity: string, poolSize: number): string {
    return this.data.ref(entity, poolSize, this.rng);
  }
}

/** An entity: its shape and row builder. */
export interface EntityDef extends EntityShape {
  code: number;
  build(c: RowCtx): Record<string, unknown>;
}

const pad4 = (n: number): string => String(n).padStart(4, '0');
const FIRST = ['Ana', 'Ben', 'Chen', 'Dara', 'Emil', 'Fatima', 'Goran', 'Hana', 'Ivo', 'Jun'];
const LAST = ['Silva', 'Novak', 'Okafor', 'Larsen', 'Tanaka', 'Moreau', 'Fischer', 'Kowalski'];
const APPS = ['Microsoft Word', 'Microsoft Excel', 'Outlook', 'SAP GUI', 'Notepad++', 'Chrome', 'Teams'];

const BUILDERS: Record<string, (c: RowCtx) => Record<string, unknown>> = {
  Machines: (c) => {
    const n = pad4(c.rng.below(10_000));
    return {
      Id: guid(c.es, c.hour, c.index),
      Name: `CORP\\VDA-${n}`,
      DnsName: `vda-${n}.corp.example.com`,
      CatalogId: c.ref('Catalogs', 8),
      DesktopGroupId: c.ref('DesktopGroups', 12),
      CurrentRegistrationState: c.rng.pick([2, 2, 2, 0, 1, 3]),
      IsInMaintenanceMode: c.rng.below(10) === 0,
      LifecycleState: c.rng.pick([0, 0, 0, 0, 1, 2]),
      CreatedDate: c.created,
      ModifiedDate: c.modified,
    };
  },
  Sessions: (c) => {
    const state = c.rng.pick([5, 5, 5, 1, 2, 3, 3]);
    return {
      SessionKey: guid(c.es, c.hour, c.index),
      StartDate: c.created,
      EndDate: state === 3 ? c.modified : null,
      ConnectionState: state,
      CurrentConnectionId: c.id,
      UserId: 1 + c.rng.below(5000),
      MachineId: c.ref('Machines', 500),
      SessionType: c.rng.below(2),
      CreatedDate: c.created,
      ModifiedDate: c.modified,
    };
  },
  Connections: (c) => ({
    Id: c.id,
    SessionKey: c.ref('Sessions', 5000),
    ClientName: `WKS-${pad4(c.rng.below(10_000))}`,
    ClientAddress: `10.${c.rng.below(256)}.${c.rng.below(256)}.${1 + c.rng.below(254)}`,
    ClientVersion: c.rng.pick(['24.2.0.65', '23.11.0.132', '2402.1.0.12']),
    ConnectedViaHostName: `gw0${1 + c.rng.below(3)}.example.com`,
    LaunchedViaHostName: `sf0${1 + c.rng.below(2)}.corp.example.com`,
    IsReconnect: c.rng.below(4) === 0,
    ProtocolType: c.rng.pick([1, 1, 1, 2]),
    BrokeringDate: c.created,
    CreatedDate: c.created,
    ModifiedDate: c.modified,
  }),
  Applications: (c) => {
    const app = c.rng.pick(APPS);
    return {
      Id: guid(c.es, c.hour, c.index),
      Name: `${app} ${c.index}`,
      PublishedName: app,
      ApplicationType: c.rng.below(2),
      Path: `C:\\Program Files\\${app}\\app${c.rng.below(100)}.exe`,
      CreatedDate: c.created,
      ModifiedDate: c.modified,
    };
  },
  Users: (c) => {
    const first = c.rng.pick(FIRST);
    const last = c.rng.pick(LAST);
    const login = `${first[0]}${last}${c.id % 100_000}`.toLowerCase();
    return {
      Id: c.id,
      Sid: `S-1-5-21-3623811015-3361044348-30300820-${1000 + c.id}`,
      UserName: login,
      FullName: `${first} ${last}`,
      Domain: 'CORP',
      Upn: `${login}@corp.example.com`,
      CreatedDate: c.created,
      ModifiedDate: c.modified,
    };
  },
  ConnectionFailureLogs: (c) => ({
    Id: c.id,
    SessionKey: c.ref('Sessions', 5000),
    FailureDate: c.created,
    ConnectionFailureEnumValue: c.rng.pick([1, 2, 3, 4, 5, 8, 10]),
    UserId: 1 + c.rng.below(5000),
    MachineId: c.ref('Machines', 500),
    CreatedDate: c.created,
    ModifiedDate: c.modified,
  }),
};

/** Options of the generated data set. */
export interface DataOptions {
  seed: number;
  rowsPerHour: number | ((entity: string, hourStartMs: number) => number);
  fromMs: number;
  toMs: number;
}

/** One row position: hour start, index within the hour, rows in the hour. */
export interface Position {
  h: number;
  i: number;
  n: number;
}

/** The generated data set: entity definitions, row times, scans and rows. */
export class Dataset {
  readonly entities = new Map<string, EntityDef>();
  private readonly counts = new Map<string, number>();
  private readonly pools = new Map<string, { es: number; n: number }>();
  private readonly fromMs: number;
  private readonly toMs: number;

  constructor(private readonly opts: DataOptions) {
    this.fromMs = Math.floor(opts.fromMs / HOUR_MS) * HOUR_MS;
    this.toMs = Math.floor(opts.toMs / HOUR_MS) * HOUR_MS;
    Object.entries(BUILDERS).forEach(([name, build], code) => {
      const def: EntityDef = { name, code, build, fields: [], timeFields: [] };
      this.entities.set(name, def);
      const sample = Object.keys(this.row(def, { h: this.fromMs, i: 0, n: 1 }));
      def.fields = sample;
      def.timeFields = sample.filter(
        (f) => f === 'CreatedDate' || f === 'ModifiedDate' || f === 'FailureDate',
      );
    });
  }

  /** Rows of an entity in the hour starting at `h` (0 outside the data span). */
  rowsIn(entity: string, h: number): number {
    if (h < this.fromMs || h >= this.toMs) return 0;
    const key = `${entity}@${h}`;
    let n = this.counts.get(key);
    if (n === undefined) {
      const r = this.opts.rowsPerHour;
      n = Math.min(MAX_ROWS_PER_HOUR, Math.max(0, Math.floor(typeof r === 'number' ? r : r(entity, h))));
      this.counts.set(key, n);
    }
    return n;
  }

  private seedOf(def: EntityDef): number {
    return mix(this.opts.seed, def.code + 1);
  }

  /**
   * ModifiedDate of row i of n, in ticks after the hour: row 0 exactly on the hour, row n-1 on the last
   * tick, the others in their own slot [i/n, (i+1)/n) of the hour, rounded to 0, 2, 3 or 7 fraction digits
   * when that stays in the slot. Slots make times non-decreasing in i.
   */
  private start(es: number, h: number, i: number, n: number): { rng: Rng; t: number } {
    const rng = new Rng(mix(mix(es, h / HOUR_MS), i));
    const jitter = rng.next() / 2 ** 32;
    const quantum = QUANTA[rng.below(4)] ?? 1;
    if (i === 0) return { rng, t: 0 };
    if (i === n - 1) return { rng, t: HOUR_TICKS - 1 };
    const step = HOUR_TICKS / n;
    const lo = Math.floor(i * step);
    const hi = Math.floor((i + 1) * step);
    const raw = lo + Math.floor(jitter * (hi - lo));
    const down = raw - (raw % quantum);
    return { rng, t: down >= lo ? down : down + quantum < hi ? down + quantum : raw };
  }

  /** First index whose ModifiedDate (ticks after the hour) is at or after `rel`. */
  private lowerBound(es: number, h: number, n: number, rel: number): number {
    if (rel <= 0) return 0;
    if (rel >= HOUR_TICKS) return n;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.start(es, h, mid, n).t < rel) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private lag(rng: Rng): number {
    return rng.below(3) === 0 ? 0 : rng.below(MAX_LAG_MS) * TICKS_PER_MS;
  }

  /**
   * Per hour that can hold matches (from hour `fromH` on): the index range [lo, hi) that ModifiedDate
   * bounds allow, found by binary search, and the bounds [after, before) left for CreatedDate/FailureDate
   * (the same instant), in ticks after the hour. Those trail ModifiedDate by less than MAX_LAG_MS, which
   * bounds the hours to scan.
   */
  private *hours(def: EntityDef, ranges: Map<string, Range>, fromH = Number.NEGATIVE_INFINITY) {
    const es = this.seedOf(def);
    const mod = ranges.get('ModifiedDate') ?? { lo: null, hi: null };
    const others = [...ranges].filter(([f]) => f !== 'ModifiedDate').map(([, r]) => r);
    let first = Math.max(this.fromMs, fromH);
    let end = this.toMs;
    for (const r of [mod, ...others]) {
      if (r.lo) first = Math.max(first, Math.floor(r.lo.ms / HOUR_MS) * HOUR_MS);
      if (r.hi)
        end = Math.min(end, (Math.floor((r.hi.ms + (r === mod ? 0 : MAX_LAG_MS)) / HOUR_MS) + 1) * HOUR_MS);
    }
    for (let h = first; h < end; h += HOUR_MS) {
      const n = this.rowsIn(def.name, h);
      if (n === 0) continue;
      let after = Number.NEGATIVE_INFINITY;
      let before = Number.POSITIVE_INFINITY;
      for (const r of others) {
        if (r.lo) after = Math.max(after, ticksSince(r.lo, h));
        if (r.hi) before = Math.min(before, ticksSince(r.hi, h));
      }
      const lo = this.lowerBound(es, h, n, mod.lo ? ticksSince(mod.lo, h) : 0);
      const hi = this.lowerBound(es, h, n, mod.hi ? ticksSince(mod.hi, h) : HOUR_TICKS);
      yield { es, h, n, lo, hi, after, before, checkOthers: others.length > 0 };
    }
  }

  /** Positions of the rows matching `ranges`, in server order (ModifiedDate, then index), from `from`. */
  *positions(
    def: EntityDef,
    ranges: Map<string, Range>,
    from?: { h: number; i: number },
  ): Generator<Position> {
    for (const { es, h, n, lo, hi, after, before, checkOthers } of this.hours(def, ranges, from?.h)) {
      for (let i = h === from?.h ? Math.max(lo, from.i) : lo; i < hi; i++) {
        if (checkOthers) {
          const { rng, t } = this.start(es, h, i, n);
          const created = t - this.lag(rng);
          if (created < after || created >= before) continue;
        }
        yield { h, i, n };
      }
    }
  }

  /** Number of rows matching `ranges`; on ModifiedDate alone, only binary searches. */
  count(def: EntityDef, ranges: Map<string, Range>): number {
    let total = 0;
    if ([...ranges.keys()].some((f) => f !== 'ModifiedDate')) {
      for (const _ of this.positions(def, ranges)) total++;
    } else {
      for (const { lo, hi } of this.hours(def, ranges)) total += Math.max(0, hi - lo);
    }
    return total;
  }

  /** The row at a position. */
  row(def: EntityDef, pos: Position): Record<string, unknown> {
    const es = this.seedOf(def);
    const { rng, t } = this.start(es, pos.h, pos.i, pos.n);
    const created = t - this.lag(rng);
    const modified = formatInstant(pos.h, t);
    const createdText = created === t ? modified : formatInstant(pos.h, created);
    return def.build(new RowCtx(this, rng, es, pos.h / HOUR_MS, pos.i, modified, createdText));
  }

  /** A GUID of a generated row of the first data hour (or of a pool, for entities not generated). */
  ref(entity: string, poolSize: number, rng: Rng): string {
    const key = `${entity}/${poolSize}`;
    let pool = this.pools.get(key);
    if (!pool) {
      const target = this.entities.get(entity);
      const hash = [...entity].reduce((a, ch) => mix(a, ch.charCodeAt(0)), 7);
      const es = target ? this.seedOf(target) : mix(this.opts.seed, hash);
      pool = { es, n: (target && Math.min(poolSize, this.rowsIn(entity, this.fromMs))) || poolSize };
      this.pools.set(key, pool);
    }
    return guid(pool.es, this.fromMs / HOUR_MS, rng.below(pool.n));
  }
}
