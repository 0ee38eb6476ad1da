import { type Comparable, type EdmType, type Row, type Schema, sqlGuidKey } from './filter.ts';
import { formatInstant, HOUR_MS, HOUR_TICKS, TICKS_PER_MS } from './time.ts';

/**
 * Deterministic, lazily generated rows. Every row is a pure function of (seed, entity, hour, index), and
 * row times increase with the index, so a time range is found by binary search and a page is built row by
 * row without ever materializing an hour. What changes later (the live table) is kept in table.ts.
 */

/** CreatedDate (and FailureDate) precede ModifiedDate by less than this. */
const MAX_LAG_MS = 2 * HOUR_MS;
/** Integer keys are hour * this + index, so they stay unique while an hour holds fewer rows. */
export const MAX_ROWS_PER_HOUR = 10_000_000;
const QUANTA = [10_000_000, 100_000, 10_000, 1]; // 0, 2, 3 and 7 fraction digits

/** A 32-bit hash of two numbers. */
export function mix(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: a tiny seeded PRNG, far cheaper than crypto per row. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed;
  }
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
    const item = items[this.below(items.length)];
    if (item === undefined) throw new Error('Rng.pick: nothing to pick from');
    return item;
  }
}

const HEX = Array.from({ length: 256 }, (_, k) => k.toString(16).padStart(2, '0'));
const hex2 = (v: number, shift: number): string => HEX[(v >>> shift) & 255] ?? '00';
const hex4 = (v: number): string => hex2(v, 8) + hex2(v, 0);
const hex6 = (v: number): string => hex2(v, 16) + hex4(v);

/**
 * A GUID unique per (seed, entity, hour, index): the last 12 digits encode hour and index bijectively
 * (24 bits each: hours since 1970 and indexes stay below 2^24).
 */
function guid(es: number, hour: number, index: number): string {
  const a = mix(es, mix(hour, index));
  const b = mix(a, 1);
  const c = mix(a, 2);
  const tail = hex6(hour ^ mix(es, 3)) + hex6(index ^ mix(es, 4));
  return `${hex4(a >>> 16)}${hex4(a)}-${hex4(b)}-${hex4(0x4000 | (b >>> 20))}-${hex4(0x8000 | (c & 0x3fff))}-${tail}`;
}

/** What a row is generated from: its generator, its entity's seed, its place, and its two stamps as text. */
interface RowFacts {
  readonly rng: Rng;
  /** Seed of the entity. */
  readonly es: number;
  /** Hours since 1970 of the row's hour. */
  readonly hour: number;
  /** The row's index within its hour. */
  readonly index: number;
  readonly modified: string;
  readonly created: string;
}

/** What a row builder sees. A class, not a literal with closures: it is built once per row. */
class RowCtx implements RowFacts {
  private readonly data: Dataset;
  declare readonly rng: Rng;
  declare readonly es: number;
  declare readonly hour: number;
  declare readonly index: number;
  declare readonly modified: string;
  declare readonly created: string;

  constructor(data: Dataset, facts: RowFacts) {
    this.data = data;
    Object.assign(this, facts);
  }
  /** Integer key, unique per entity. */
  get id(): number {
    return this.hour * MAX_ROWS_PER_HOUR + this.index;
  }
  /** A GUID of another entity's row, from a stable pool. */
  ref(entity: string, poolSize: number): string {
    return this.data.ref(entity, poolSize, this.rng);
  }
}

/** How an entity is generated and how its rows change. */
interface EntitySpec {
  key: string;
  props: Record<string, EdmType>;
  /** Time properties that hold the row's creation instant (they trail ModifiedDate by < MAX_LAG_MS). */
  created: string[];
  /** The row's own fields, in the order served; Dataset.row appends CreatedDate and ModifiedDate. */
  build(c: RowCtx): Row;
  /** The fields a change rewrites (ModifiedDate aside), given the row before and now as .NET text. */
  change(row: Row, now: string): Row;
}

/** An entity: its schema, row builder and change rule. */
export interface EntityDef extends Schema {
  code: number;
  /** Guid keys order as SQL Server's uniqueidentifier; integer keys numerically. */
  keyKind: 'guid' | 'int';
  created: readonly string[];
  build(c: RowCtx): Row;
  change(row: Row, now: string): Row;
}

const pad4 = (n: number): string => String(n).padStart(4, '0');
const FIRST = ['Ana', 'Ben', 'Chen', 'Dara', 'Emil', 'Fatima', 'Goran', 'Hana', 'Ivo', 'Jun'];
const LAST = ['Silva', 'Novak', 'Okafor', 'Larsen', 'Tanaka', 'Moreau', 'Fischer', 'Kowalski'];
const APPS = ['Microsoft Word', 'Microsoft Excel', 'Outlook', 'SAP GUI', 'Notepad++', 'Chrome', 'Teams'];
const FAILURES = [1, 2, 3, 4, 5, 8, 10];
const DATE: EdmType = 'Edm.DateTimeOffset';

/**
 * An entity's properties with the two stamps every Monitor entity ends with, and its creation properties:
 * `createdAlso` (e.g. StartDate), then CreatedDate.
 */
function stamped(
  props: Record<string, EdmType>,
  ...createdAlso: string[]
): Pick<EntitySpec, 'props' | 'created'> {
  return {
    props: { ...props, CreatedDate: DATE, ModifiedDate: DATE },
    created: [...createdAlso, 'CreatedDate'],
  };
}

/** String properties, in the order named. */
function strings(...names: string[]): Record<string, EdmType> {
  return Object.fromEntries(names.map((name): [string, EdmType] => [name, 'Edm.String']));
}

// Appending an entity keeps the others' rows: an entity's seed is its position here.
const SPECS: Record<string, EntitySpec> = {
  Machines: {
    key: 'Id',
    ...stamped({
      Id: 'Edm.Guid',
      ...strings('Name', 'DnsName'),
      CatalogId: 'Edm.Guid',
      DesktopGroupId: 'Edm.Guid',
      CurrentRegistrationState: 'Edm.Int32',
      IsInMaintenanceMode: 'Edm.Boolean',
      LifecycleState: 'Edm.Int32',
    }),
    build: (c) => {
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
      };
    },
    // The machine registers, or drops its registration.
    change: (row) => ({ CurrentRegistrationState: row.CurrentRegistrationState === 1 ? 2 : 1 }),
  },
  Sessions: {
    key: 'SessionKey',
    ...stamped(
      {
        SessionKey: 'Edm.Guid',
        StartDate: DATE,
        EndDate: DATE,
        ConnectionState: 'Edm.Int32',
        CurrentConnectionId: 'Edm.Int64',
        UserId: 'Edm.Int32',
        MachineId: 'Edm.Guid',
        SessionType: 'Edm.Int32',
      },
      'StartDate',
    ),
    build: (c) => {
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
      };
    },
    // The session logs off (3 = Terminated): the change that moves most rows out of past hours.
    change: (_, now) => ({ ConnectionState: 3, EndDate: now }),
  },
  Connections: {
    key: 'Id',
    ...stamped(
      {
        Id: 'Edm.Int64',
        SessionKey: 'Edm.Guid',
        ...strings(
          'ClientName',
          'ClientAddress',
          'ClientVersion',
          'ConnectedViaHostName',
          'LaunchedViaHostName',
        ),
        IsReconnect: 'Edm.Boolean',
        ProtocolType: 'Edm.Int32',
        BrokeringDate: DATE,
      },
      'BrokeringDate',
    ),
    build: (c) => ({
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
    }),
    // The client reconnects through the next gateway.
    change: (row) => {
      const gw = Number(/gw0(\d)/.exec(String(row.ConnectedViaHostName))?.[1] ?? 1);
      return { IsReconnect: true, ConnectedViaHostName: `gw0${(gw % 3) + 1}.example.com` };
    },
  },
  Applications: {
    key: 'Id',
    ...stamped({
      Id: 'Edm.Guid',
      ...strings('Name', 'PublishedName'),
      ApplicationType: 'Edm.Int32',
      Path: 'Edm.String',
    }),
    build: (c) => {
      const app = c.rng.pick(APPS);
      return {
        Id: guid(c.es, c.hour, c.index),
        Name: `${app} ${c.index}`,
        PublishedName: app,
        ApplicationType: c.rng.below(2),
        Path: `C:\\Program Files\\${app}\\app${c.rng.below(100)}.exe`,
      };
    },
    // An administrator points the application at a newer executable.
    change: (row) => ({
      Path: String(row.Path).replace(/app(\d+)\.exe$/, (_, v: string) => `app${Number(v) + 1}.exe`),
    }),
  },
  Users: {
    key: 'Id',
    ...stamped({ Id: 'Edm.Int64', ...strings('Sid', 'UserName', 'FullName', 'Domain', 'Upn') }),
    build: (c) => {
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
      };
    },
    // The directory moves the user's UPN suffix (and back).
    change: (row) => {
      const upn = String(row.Upn);
      return {
        Upn: upn.endsWith('@corp.example.com') ? upn.replace('@corp.', '@') : upn.replace('@', '@corp.'),
      };
    },
  },
  ConnectionFailureLogs: {
    key: 'Id',
    ...stamped(
      {
        Id: 'Edm.Int64',
        SessionKey: 'Edm.Guid',
        FailureDate: DATE,
        ConnectionFailureEnumValue: 'Edm.Int32',
        UserId: 'Edm.Int32',
        MachineId: 'Edm.Guid',
      },
      'FailureDate',
    ),
    build: (c) => ({
      Id: c.id,
      SessionKey: c.ref('Sessions', 5000),
      FailureDate: c.created,
      ConnectionFailureEnumValue: c.rng.pick(FAILURES),
      UserId: 1 + c.rng.below(5000),
      MachineId: c.ref('Machines', 500),
    }),
    // The failure is reclassified.
    change: (row) => {
      const k = FAILURES.indexOf(Number(row.ConnectionFailureEnumValue));
      return { ConnectionFailureEnumValue: FAILURES[(k + 1) % FAILURES.length] };
    },
  },
  MachineFailureLogs: {
    key: 'Id',
    ...stamped(
      {
        Id: 'Edm.Int64',
        MachineId: 'Edm.Guid',
        FailureStartDate: DATE,
        FailureEndDate: DATE,
        FaultState: 'Edm.Int32',
      },
      'FailureStartDate',
    ),
    build: (c) => {
      const ended = c.rng.below(3) !== 0;
      return {
        Id: c.id,
        MachineId: c.ref('Machines', 500),
        FailureStartDate: c.created,
        FailureEndDate: ended ? c.modified : null,
        FaultState: c.rng.pick([1, 2, 3, 4, 6]),
      };
    },
    // The machine recovers: the failure ends now.
    change: (_, now) => ({ FailureEndDate: now }),
  },
};

/** Options of the generated data set. */
export interface DataOptions {
  seed: number;
  rowsPerHour: number | ((entity: string, hourStartMs: number) => number);
  fromMs: number;
  toMs: number;
}

/** An hour of generated rows: its start, and the rows it holds. */
export interface HourRows {
  h: number;
  n: number;
}

/** One generated row position: hour start, index within the hour, rows in the hour. */
export interface Position extends HourRows {
  i: number;
}

/** Key orders of entity-hours kept at once (a million-row hour costs 4 MB). */
const KEY_ORDER_CACHE = 64;

/** The generated data set: entity definitions, row times, key orders and rows. */
export class Dataset {
  readonly entities = new Map<string, EntityDef>();
  /** First hour holding data. */
  readonly fromMs: number;
  /** End of the last hour holding data. */
  readonly toMs: number;
  private readonly counts = new Map<string, number>();
  private readonly pools = new Map<string, { es: number; n: number }>();
  private readonly keyOrders = new Map<string, Uint32Array>();
  private readonly opts: DataOptions;

  constructor(opts: DataOptions) {
    this.opts = opts;
    this.fromMs = Math.floor(opts.fromMs / HOUR_MS) * HOUR_MS;
    this.toMs = Math.floor(opts.toMs / HOUR_MS) * HOUR_MS;
    Object.entries(SPECS).forEach(([name, spec], code) => {
      const keyKind = spec.props[spec.key] === 'Edm.Guid' ? 'guid' : 'int';
      const typeName = `Citrix.Monitor.Repository.V2.${name.replace(/s$/, '')}`;
      const def: EntityDef = { name, typeName, code, keyKind, ...spec };
      this.entities.set(name, def);
      // The declared types are what $filter checks against: they must be the properties rows carry.
      const sample = Object.keys(this.row(def, { h: this.fromMs, i: 0, n: 1 }));
      const declared = Object.keys(spec.props);
      if (sample.join() !== declared.join()) {
        throw new Error(
          `${name}: rows carry ${sample.join(', ')} but the types declare ${declared.join(', ')}`,
        );
      }
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
   * when that stays in the slot. Slots make times strictly increasing in i.
   */
  private start(es: number, { h, i, n }: Position): { rng: Rng; t: number } {
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

  private lag(rng: Rng): number {
    return rng.below(3) === 0 ? 0 : rng.below(MAX_LAG_MS) * TICKS_PER_MS;
  }

  /** ModifiedDate of a generated row, in ticks after its hour. */
  modifiedTicks(def: EntityDef, pos: Position): number {
    return this.start(this.seedOf(def), pos).t;
  }

  /** The creation instant of a generated row (its `created` properties), in ticks after its hour. */
  createdTicks(def: EntityDef, pos: Position): number {
    const { rng, t } = this.start(this.seedOf(def), pos);
    return t - this.lag(rng);
  }

  /** How far before its ModifiedDate a row can have been created. */
  get maxLagMs(): number {
    return MAX_LAG_MS;
  }

  /** First index of the hour whose ModifiedDate (ticks after the hour) is at or after `rel`. */
  lowerBound(def: EntityDef, { h, n }: HourRows, rel: number): number {
    if (rel <= 0) return 0;
    if (rel >= HOUR_TICKS) return n;
    const es = this.seedOf(def);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.start(es, { h, i: mid, n }).t < rel) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The row at a position. */
  row(def: EntityDef, pos: Position): Row {
    const es = this.seedOf(def);
    const { rng, t } = this.start(es, pos);
    const created = t - this.lag(rng);
    const modified = formatInstant(pos.h, t);
    const createdText = created === t ? modified : formatInstant(pos.h, created);
    const facts = { rng, es, hour: pos.h / HOUR_MS, index: pos.i, modified, created: createdText };
    const row = def.build(new RowCtx(this, facts));
    // Added last, in place: every entity's rows end with the two stamps (no copy per row).
    row.CreatedDate = createdText;
    row.ModifiedDate = modified;
    return row;
  }

  /** The key of the row at (hour start, index), without building the row. */
  keyAt(def: EntityDef, h: number, i: number): string | number {
    const hour = h / HOUR_MS;
    return def.keyKind === 'guid' ? guid(this.seedOf(def), hour, i) : hour * MAX_ROWS_PER_HOUR + i;
  }

  /** The key of the row at (hour start, index) in the database's key order. */
  keyOrd(def: EntityDef, h: number, i: number): Comparable {
    const key = this.keyAt(def, h, i);
    return typeof key === 'string' ? sqlGuidKey(key) : key;
  }

  /**
   * Indexes of an hour's rows in key order (Guid-keyed entities). SQL Server compares a uniqueidentifier's
   * last six bytes first, and there a generated Guid holds its hour (3 bytes, the same for the whole hour)
   * then its index XOR a constant (3 bytes, unique): so within an hour key order is the order of
   * `index ^ constant`, a typed-array sort, built once per entity-hour and cached.
   */
  keyOrder(def: EntityDef, h: number, n: number): Uint32Array {
    const cacheKey = `${def.name}@${h}/${n}`;
    let order = this.keyOrders.get(cacheKey);
    if (!order) {
      const m = mix(this.seedOf(def), 4) & 0xffffff;
      order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i ^ m;
      order.sort();
      for (let k = 0; k < n; k++) order[k] = (order[k] ?? 0) ^ m;
      if (this.keyOrders.size >= KEY_ORDER_CACHE) {
        const oldest = this.keyOrders.keys().next().value;
        if (oldest !== undefined) this.keyOrders.delete(oldest);
      }
      this.keyOrders.set(cacheKey, order);
    }
    return order;
  }

  /** The generated position holding `key`, or null if no generated row has it. */
  locate(def: EntityDef, key: string | number): Position | null {
    let hour: number;
    let i: number;
    if (def.keyKind === 'guid') {
      const text = String(key).toLowerCase();
      const es = this.seedOf(def);
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text)) return null;
      hour = (Number.parseInt(text.slice(24, 30), 16) ^ mix(es, 3)) & 0xffffff;
      i = (Number.parseInt(text.slice(30, 36), 16) ^ mix(es, 4)) & 0xffffff;
      if (guid(es, hour, i) !== text) return null;
    } else {
      const id = Number(key);
      if (!Number.isSafeInteger(id) || id < 0) return null;
      hour = Math.floor(id / MAX_ROWS_PER_HOUR);
      i = id % MAX_ROWS_PER_HOUR;
    }
    const h = hour * HOUR_MS;
    const n = this.rowsIn(def.name, h);
    return i < n ? { h, i, n } : null;
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
