import { type Dataset, type EntityDef, mix, type Position, Rng } from './data.ts';
import {
  type Comparable,
  compareSortKeys,
  compareValues,
  compile,
  conjuncts,
  type Filter,
  type Node as FilterNode,
  intersectTime,
  type KeyBound,
  type OrderItem,
  type Predicate,
  parseFilter,
  parseOrderBy,
  type Row,
  sortKeys,
  sqlGuidKey,
  withinKey,
} from './filter.ts';
import {
  addTicks,
  compareInstants,
  formatInstant,
  HOUR_MS,
  type Instant,
  instantKey,
  TICKS_PER_MS,
  ticksSince,
} from './time.ts';

/**
 * The live table: generated rows (data.ts) plus what changed since. A change removes the row from its
 * generated position and keeps it, materialized, with ModifiedDate = now: like the Monitor database, where
 * any update moves a row out of every past hour window. Queries run over both, in the database's order,
 * and page by OFFSET, so a change under an offset pager shifts every later row down one place.
 */

/** A change made to a row: the row before and after, in the order changes were made. */
export interface Change {
  entity: string;
  key: string | number;
  before: Row;
  after: Row;
}

/** Churn: after each page of a listed entity, change this many of the rows that page delivered. */
export interface ChurnOptions {
  entities: string[];
  rowsPerPage: number;
  /** Seed of the choice of rows; default 1. */
  seed?: number;
}

/** A span of time [fromMs, toMs), in ms since 1970. */
export interface TimeSpan {
  fromMs: number;
  toMs: number;
}

/** The rows whose time `field` (default ModifiedDate) is in [fromMs, toMs). */
export interface RowWindow extends TimeSpan {
  field?: string;
}

interface LiveRow {
  key: string | number;
  row: Row;
  modified: Instant;
  /** The key in the database's order. */
  ord: Comparable;
}

/** Where a changed row's candidate stands: at no generated position. */
const NO_POSITION: Position = { h: 0, i: 0, n: 0 };

/** A row a query can return: a generated position (h, i of n) or a changed row. */
export class Candidate {
  row: Row | undefined;
  /** Sort key of the stream's order (key or ModifiedDate), computed when streams are merged. */
  ord: Comparable | undefined;
  sort: (Comparable | null)[] | undefined;
  readonly h: number;
  readonly i: number;
  readonly n: number;
  readonly live: LiveRow | null;
  constructor({ h, i, n }: Position, live: LiveRow | null) {
    this.h = h;
    this.i = i;
    this.n = n;
    this.live = live;
  }
}

/** One request's query, with the total order already made (it ends with the key). */
export interface TableQuery {
  filter: Filter | null;
  orderby: OrderItem[];
  skip: number;
  /** Rows this request may return: the page size, or less under `$top`. */
  limit: number;
  count: boolean;
}

/** What one request gets. */
export interface TablePage {
  rows: Row[];
  candidates: Candidate[];
  /** Whether a row follows the ones returned. */
  hasNext: boolean;
  /** Rows the query stepped over for `$skip` (the query-time cost of offset paging). */
  skipped: number;
  count?: number;
}

/** Rows still to step over for `$skip`, and rows stepped over so far. */
interface SkipState {
  left: number;
  done: number;
}

/** A run of positions [from, to) in which only `gone` are missing, walked in one direction. */
interface PositionRun {
  from: number;
  to: number;
  /** The missing positions, sorted in the direction of travel. */
  gone: number[];
  desc: boolean;
}

/** How a stream walks its rows: in which direction, and the skip state when it may step over rows. */
interface Walk {
  desc: boolean;
  skip?: SkipState | null;
}

interface HourRange {
  h: number;
  n: number;
  /** Index range [lo, hi) that the ModifiedDate bounds (and an integer key's bounds) allow. */
  lo: number;
  hi: number;
}

interface Plan {
  def: EntityDef;
  hours: HourRange[];
  keyLo: KeyBound | null;
  keyHi: KeyBound | null;
  /** The creation-instant bounds, used to skip generated rows before building them. */
  created: { lo: Instant | null; hi: Instant | null } | null;
  /** What generated rows must still pass beyond the index ranges and key bounds. */
  residual: Predicate | null;
  /** The whole filter, for changed rows (they sit outside every index). */
  full: Predicate | null;
}

const floorHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** The tighter of two key bounds: the greater lower (`side` 1) or the lesser upper (-1); exclusive on ties. */
function tighter(a: KeyBound | null, b: KeyBound | null, side: 1 | -1): KeyBound | null {
  if (!a || !b) return a ?? b;
  const c = compareValues(a.value, b.value) * side;
  return c > 0 || (c === 0 && !a.inclusive) ? a : b;
}

function head(s: Iterator<Candidate>): Candidate | undefined {
  const r = s.next();
  return r.done ? undefined : r.value;
}

/** Merges streams sorted by `cmp` into one (a single stream passes through without comparisons). */
function* merge(streams: Iterator<Candidate>[], cmp: (a: Candidate, b: Candidate) => number) {
  const heads = streams.map(head);
  for (;;) {
    let best: Candidate | undefined;
    let at = -1;
    let open = 0;
    heads.forEach((c, k) => {
      if (!c) return;
      open++;
      if (!best || cmp(c, best) < 0) {
        best = c;
        at = k;
      }
    });
    const stream = streams[at];
    if (!best || !stream) return;
    yield best;
    if (open === 1) {
      for (let c = head(stream); c; c = head(stream)) yield c;
      return;
    }
    heads[at] = head(stream);
  }
}

type TimeRange = { lo: Instant | null; hi: Instant | null };

/** What a filter's top-level conjuncts say that an index can use, and the conjuncts left to test. */
interface FilterBounds {
  mod: TimeRange;
  created: TimeRange | null;
  keyLo: KeyBound | null;
  keyHi: KeyBound | null;
  rest: FilterNode[];
}

function filterBounds(def: EntityDef, filter: Filter | null): FilterBounds {
  const b: FilterBounds = { mod: { lo: null, hi: null }, created: null, keyLo: null, keyHi: null, rest: [] };
  for (const c of conjuncts(filter, def)) {
    if (c.time && c.prop === 'ModifiedDate') {
      b.mod = intersectTime(b.mod, c.time);
    } else if (c.key) {
      b.keyLo = tighter(b.keyLo, c.key.lo, 1);
      b.keyHi = tighter(b.keyHi, c.key.hi, -1);
    } else {
      if (c.time && c.prop && def.created.includes(c.prop))
        b.created = intersectTime(b.created ?? { lo: null, hi: null }, c.time);
      b.rest.push(c.node);
    }
  }
  return b;
}

/** An hour of a Guid-keyed entity in key order: positions in that order, found by binary search. */
class HourKeyOrder {
  private readonly order: Uint32Array;
  private readonly keyOrd: (i: number) => Comparable;

  constructor(order: Uint32Array, keyOrd: (i: number) => Comparable) {
    this.order = order;
    this.keyOrd = keyOrd;
  }

  /** The row index at a key-order position. */
  indexAt(pos: number): number {
    return this.order[pos] ?? 0;
  }

  /** The first position whose key is `past` (a predicate false then true along the order). */
  search(past: (v: Comparable) => boolean): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (past(this.keyOrd(this.indexAt(mid)))) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The positions [start, end) the key bounds allow. */
  range(keyLo: KeyBound | null, keyHi: KeyBound | null): { start: number; end: number } {
    const start = keyLo ? this.search((v) => v > keyLo.value || (keyLo.inclusive && v === keyLo.value)) : 0;
    const end = keyHi
      ? this.search((v) => v > keyHi.value || (!keyHi.inclusive && v === keyHi.value))
      : this.order.length;
    return { start, end };
  }
}

/** The generated rows and their changes, queried like the database. */
export class LiveTable {
  private readonly removed = new Map<string, Map<number, Set<number>>>();
  private readonly liveRows = new Map<string, Map<string, LiveRow>>();
  private readonly log: Change[] = [];
  /** Key-order positions of removed rows, per entity-hour: found once, they never move. */
  private readonly keyPositions = new Map<string, Map<number, number>>();
  private lastStamp: Instant = { ms: 0, sub: 0 };
  private churnSetting: { entities: Set<string>; rowsPerPage: number; rng: Rng } | null = null;
  private readonly data: Dataset;
  private readonly clock: () => number;

  constructor(data: Dataset, clock: () => number = Date.now) {
    this.data = data;
    this.clock = clock;
  }

  /** Entity by name; throws for an unknown one. */
  entity(name: string): EntityDef {
    const def = this.data.entities.get(name);
    if (!def) throw new Error(`Unknown entity '${name}'`);
    return def;
  }

  private removedIn(def: EntityDef, h: number): Set<number> | undefined {
    return this.removed.get(def.name)?.get(h);
  }

  private lives(def: EntityDef): Map<string, LiveRow> {
    let m = this.liveRows.get(def.name);
    if (!m) {
      m = new Map();
      this.liveRows.set(def.name, m);
    }
    return m;
  }

  private rowOf(def: EntityDef, c: Candidate): Row {
    if (!c.row) c.row = c.live ? c.live.row : this.data.row(def, c);
    return c.row;
  }

  private plan(def: EntityDef, filter: Filter | null): Plan {
    const bounds = filterBounds(def, filter);
    const hours: HourRange[] = [];
    const { first, end } = this.hourSpan(bounds);
    for (let h = first; h < end; h += HOUR_MS) {
      const range = this.hourRange(def, h, bounds);
      if (range) hours.push(range);
    }
    return {
      def,
      hours,
      keyLo: bounds.keyLo,
      keyHi: bounds.keyHi,
      created: bounds.created,
      residual: compile(bounds.rest),
      full: filter ? compile([filter.root]) : null,
    };
  }

  /** The data hours [first, end) the ModifiedDate and creation bounds leave. */
  private hourSpan({ mod, created }: FilterBounds): { first: number; end: number } {
    // Generated rows were created less than maxLagMs before their ModifiedDate: creation bounds bound hours.
    let first = this.data.fromMs;
    let end = this.data.toMs;
    if (mod.lo) first = Math.max(first, floorHour(mod.lo.ms));
    if (mod.hi) end = Math.min(end, floorHour(mod.hi.ms) + HOUR_MS);
    if (created?.lo) first = Math.max(first, floorHour(created.lo.ms));
    if (created?.hi) end = Math.min(end, floorHour(created.hi.ms + this.data.maxLagMs) + HOUR_MS);
    return { first, end };
  }

  /** The index range of hour `h` the ModifiedDate bounds (and an integer key's bounds) allow; null if empty. */
  private hourRange(def: EntityDef, h: number, { mod, keyLo, keyHi }: FilterBounds): HourRange | null {
    const n = this.data.rowsIn(def.name, h);
    if (n === 0) return null;
    let lo = mod.lo ? this.data.lowerBound(def, { h, n }, ticksSince(mod.lo, h)) : 0;
    let hi = mod.hi ? this.data.lowerBound(def, { h, n }, ticksSince(mod.hi, h)) : n;
    if (def.keyKind === 'int') {
      // Integer keys are hour * MAX_ROWS_PER_HOUR + index: a key range is an index range.
      const base = Number(this.data.keyAt(def, h, 0));
      if (keyLo) {
        const v = Number(keyLo.value);
        lo = Math.max(lo, (keyLo.inclusive ? Math.ceil(v) : Math.floor(v) + 1) - base);
      }
      if (keyHi) {
        const v = Number(keyHi.value);
        hi = Math.min(hi, (keyHi.inclusive ? Math.floor(v) + 1 : Math.ceil(v)) - base);
      }
    }
    return lo < hi ? { h, n, lo, hi } : null;
  }

  /** Whether a generated candidate passes what the index ranges did not decide. */
  private accepts(p: Plan, c: Candidate, checkKey: boolean): boolean {
    if (this.removedIn(p.def, c.h)?.has(c.i)) return false;
    if (checkKey && p.def.keyKind === 'guid' && (p.keyLo || p.keyHi)) {
      if (!withinKey(this.data.keyOrd(p.def, c.h, c.i), p.keyLo, p.keyHi)) return false;
    }
    if (p.created) {
      const t = this.data.createdTicks(p.def, c);
      if (p.created.lo && t < ticksSince(p.created.lo, c.h)) return false;
      if (p.created.hi && t >= ticksSince(p.created.hi, c.h)) return false;
    }
    return !p.residual || p.residual(this.rowOf(p.def, c));
  }

  /**
   * Steps over `skip.left` rows of a run of positions [from, to) in which only `gone` (sorted in the
   * direction of travel) are missing, without visiting the others; returns where to start.
   */
  private static skipOver(skip: SkipState, { from, to, gone, desc }: PositionRun): number | null {
    const avail = to - from - gone.length;
    if (skip.left >= avail) {
      skip.left -= avail;
      skip.done += avail;
      return null;
    }
    let left = skip.left;
    let pos = desc ? to - 1 : from;
    for (const x of gone) {
      const between = desc ? pos - x : x - pos;
      if (between >= left) break;
      left -= between;
      pos = desc ? x - 1 : x + 1;
    }
    skip.done += skip.left;
    skip.left = 0;
    return desc ? pos - left : pos + left;
  }

  /** Whether generated rows of this plan need no test beyond their position (and removal). */
  private static positional(p: Plan): boolean {
    return !p.residual && !p.created && (p.def.keyKind === 'int' || (!p.keyLo && !p.keyHi));
  }

  private gone(p: Plan, { h, lo, hi }: HourRange, desc: boolean): number[] {
    const out = [...(this.removedIn(p.def, h) ?? [])].filter((i) => i >= lo && i < hi);
    return out.sort((a, b) => (desc ? b - a : a - b));
  }

  /**
   * Generated rows in (hour, index) order: ModifiedDate order, and key order for integer keys. With a
   * skip state (only when this is the query's sole stream), offsets are stepped over by arithmetic.
   */
  private *byIndex(p: Plan, desc: boolean, skip: SkipState | null = null): Generator<Candidate> {
    const hours = desc ? [...p.hours].reverse() : p.hours;
    const positional = LiveTable.positional(p);
    for (const range of hours) {
      const { h, n, lo, hi } = range;
      let first = desc ? hi - 1 : lo;
      if (skip && skip.left > 0 && positional) {
        const at = LiveTable.skipOver(skip, { from: lo, to: hi, gone: this.gone(p, range, desc), desc });
        if (at === null) continue;
        first = at;
      }
      const count = desc ? first - lo + 1 : hi - first;
      for (let k = 0; k < count; k++) {
        const c = new Candidate({ h, i: desc ? first - k : first + k, n }, null);
        if (this.accepts(p, c, true)) yield c;
      }
    }
  }

  /** Generated rows of one hour in Guid key order, from the key bounds found by binary search. */
  private *byGuidKey(p: Plan, r: HourRange, { desc, skip = null }: Walk): Generator<Candidate> {
    const keys = new HourKeyOrder(this.data.keyOrder(p.def, r.h, r.n), (i) =>
      this.data.keyOrd(p.def, r.h, i),
    );
    const { start, end } = keys.range(p.keyLo, p.keyHi);
    let first = desc ? end - 1 : start;
    // A whole hour with no other test: only changed rows are missing, found by their key.
    if (skip && skip.left > 0 && !p.residual && !p.created && r.lo === 0 && r.hi === r.n) {
      const gone = this.goneByKey(p, r, keys)
        .filter((pos) => pos >= start && pos < end)
        .sort((a, b) => (desc ? b - a : a - b));
      const at = LiveTable.skipOver(skip, { from: start, to: end, gone, desc });
      if (at === null) return;
      first = at;
    }
    const count = desc ? first - start + 1 : end - first;
    for (let k = 0; k < count; k++) {
      const i = keys.indexAt(desc ? first - k : first + k);
      if (i < r.lo || i >= r.hi) continue;
      const c = new Candidate({ h: r.h, i, n: r.n }, null);
      if (this.accepts(p, c, false)) yield c;
    }
  }

  /** Key-order positions of the hour's changed rows (memoized: found once, they never move). */
  private goneByKey(p: Plan, r: HourRange, keys: HourKeyOrder): number[] {
    const memoKey = `${p.def.name}@${r.h}/${r.n}`;
    let memo = this.keyPositions.get(memoKey);
    if (!memo) {
      memo = new Map();
      this.keyPositions.set(memoKey, memo);
    }
    const positions = memo;
    return [...(this.removedIn(p.def, r.h) ?? [])].map((i) => {
      let pos = positions.get(i);
      if (pos === undefined) {
        const v = this.data.keyOrd(p.def, r.h, i);
        pos = keys.search((w) => w >= v);
        positions.set(i, pos);
      }
      return pos;
    });
  }

  private changedMatching(p: Plan): Candidate[] {
    const out: Candidate[] = [];
    for (const live of this.lives(p.def).values()) {
      if (!p.full || p.full(live.row)) out.push(new Candidate(NO_POSITION, live));
    }
    return out;
  }

  /**
   * Every row matching the plan, in the query's total order. `skip` goes to a stream that can step over
   * rows without visiting them, when it is the only one (a merge must see every head).
   */
  private stream(p: Plan, items: OrderItem[], skip: SkipState): Iterator<Candidate> {
    const { def } = p;
    const first = items[0];
    const desc = first?.desc ?? false;
    const changed = this.changedMatching(p);
    const full = (a: Candidate, b: Candidate): number => {
      a.sort ??= sortKeys(items, this.rowOf(def, a));
      b.sort ??= sortKeys(items, this.rowOf(def, b));
      return compareSortKeys(items, a.sort, b.sort);
    };
    if (first?.prop === def.key) {
      const ord = (c: Candidate): Comparable => {
        c.ord ??= c.live ? c.live.ord : this.data.keyOrd(def, c.h, c.i);
        return c.ord;
      };
      const cmp = (a: Candidate, b: Candidate): number => (desc ? -1 : 1) * compareValues(ord(a), ord(b));
      const only = changed.length === 0 ? skip : null;
      if (def.keyKind === 'int') return merge([this.byIndex(p, desc, only), changed.sort(cmp).values()], cmp);
      const generated = p.hours.map((r) =>
        this.byGuidKey(p, r, { desc, skip: p.hours.length === 1 ? only : null }),
      );
      return merge([...generated, changed.sort(cmp).values()], cmp);
    }
    if (first?.prop === 'ModifiedDate') {
      // Generated ModifiedDates are unique and increase with (hour, index): ties only involve changed rows.
      const ord = (c: Candidate): Comparable => {
        if (c.ord === undefined) {
          const t = c.live ? null : this.data.modifiedTicks(def, c);
          c.ord = instantKey(
            c.live
              ? c.live.modified
              : { ms: c.h + Math.floor((t ?? 0) / TICKS_PER_MS), sub: (t ?? 0) % TICKS_PER_MS },
          );
        }
        return c.ord;
      };
      const cmp = (a: Candidate, b: Candidate): number =>
        (desc ? -1 : 1) * compareValues(ord(a), ord(b)) || full(a, b);
      const only = changed.length === 0 ? skip : null;
      return merge([this.byIndex(p, desc, only), changed.sort(cmp).values()], cmp);
    }
    // Any other order: what a table scan and a sort would do.
    const all = [...this.byIndex(p, false), ...changed];
    return all.sort(full).values();
  }

  private count(p: Plan): number {
    const changed = this.changedMatching(p).length;
    if (LiveTable.positional(p)) {
      let total = changed;
      for (const { h, lo, hi } of p.hours) {
        total += hi - lo;
        for (const i of this.removedIn(p.def, h) ?? []) if (i >= lo && i < hi) total--;
      }
      return total;
    }
    let total = changed;
    const generated =
      p.def.keyKind === 'guid' && (p.keyLo || p.keyHi)
        ? p.hours.map((r) => this.byGuidKey(p, r, { desc: false }))
        : [this.byIndex(p, false)];
    for (const g of generated) for (let r = g.next(); !r.done; r = g.next()) total++;
    return total;
  }

  /** Runs one request: filter, order, `$skip`, then at most `limit` rows. */
  query(entity: string, q: TableQuery): TablePage {
    const def = this.entity(entity);
    const plan = this.plan(def, q.filter);
    const skip: SkipState = { left: q.skip, done: 0 };
    const it = this.stream(plan, q.orderby, skip);
    let r = it.next();
    while (!r.done && skip.left > 0) {
      skip.left--;
      skip.done++;
      r = it.next();
    }
    const candidates: Candidate[] = [];
    while (!r.done && candidates.length < q.limit) {
      candidates.push(r.value);
      r = it.next();
    }
    return {
      rows: candidates.map((c) => this.rowOf(def, c)),
      candidates,
      hasNext: !r.done,
      skipped: skip.done,
      count: q.count ? this.count(plan) : undefined,
    };
  }

  /** Ground truth: current rows with `field` in [fromMs, toMs), in key order. */
  rowsFor(entity: string, { fromMs, toMs, field = 'ModifiedDate' }: RowWindow): Row[] {
    const def = this.entity(entity);
    if (def.props[field] !== 'Edm.DateTimeOffset')
      throw new Error(`'${field}' is not a time field of ${entity}`);
    const page = this.query(entity, {
      filter: this.window(def, { fromMs, toMs, field }),
      orderby: parseOrderBy(undefined, def),
      skip: 0,
      limit: Number.POSITIVE_INFINITY,
      count: false,
    });
    return page.rows.map((row) => ({ ...row }));
  }

  /** Current rows with ModifiedDate in [fromMs, toMs): index arithmetic, no row built. */
  countFor(entity: string, { fromMs, toMs }: TimeSpan): number {
    const def = this.entity(entity);
    return this.count(this.plan(def, this.window(def, { fromMs, toMs })));
  }

  private window(def: EntityDef, { fromMs, toMs, field = 'ModifiedDate' }: RowWindow): Filter {
    const at = (ms: number): string => new Date(ms).toISOString();
    return parseFilter(`${field} ge ${at(fromMs)} and ${field} lt ${at(toMs)}`, def);
  }

  /** Changes made so far, oldest first (copies). */
  changes(entity?: string): Change[] {
    return this.log
      .filter((c) => entity === undefined || c.entity === entity)
      .map((c) => ({ ...c, before: { ...c.before }, after: { ...c.after } }));
  }

  /** Changes the row with `key` now; throws if no current row has it. */
  changeKey(entity: string, key: string | number): Change {
    const def = this.entity(entity);
    const live = this.lives(def).get(String(key).toLowerCase());
    if (live) return this.change(def, new Candidate(NO_POSITION, live));
    const pos = this.data.locate(def, key);
    if (!pos || this.removedIn(def, pos.h)?.has(pos.i))
      throw new Error(`${entity} has no row with key ${key}`);
    return this.change(def, new Candidate(pos, null));
  }

  // Stamps of changes strictly increase, as two updates of the database never share a tick here.
  private stamp(): Instant {
    const now: Instant = { ms: this.clock(), sub: 0 };
    this.lastStamp = compareInstants(now, this.lastStamp) > 0 ? now : addTicks(this.lastStamp, 1);
    return this.lastStamp;
  }

  private change(def: EntityDef, c: Candidate): Change {
    const before = this.rowOf(def, c);
    const key = before[def.key];
    if (typeof key !== 'string' && typeof key !== 'number')
      throw new Error(`${def.name}: the row's key ${def.key} is neither a string nor a number`);
    if (!c.live) {
      let hours = this.removed.get(def.name);
      if (!hours) {
        hours = new Map();
        this.removed.set(def.name, hours);
      }
      let set = hours.get(c.h);
      if (!set) {
        set = new Set();
        hours.set(c.h, set);
      }
      set.add(c.i);
    }
    const modified = this.stamp();
    const now = formatInstant(modified.ms, modified.sub);
    const after: Row = { ...before, ...def.change(before, now), ModifiedDate: now };
    const ord = typeof key === 'string' ? sqlGuidKey(key) : key;
    this.lives(def).set(String(key).toLowerCase(), { key, row: after, modified, ord });
    const change = { entity: def.name, key, before, after };
    this.log.push(change);
    return change;
  }

  /** Switches churn on with these settings, or off with null. */
  setChurn(options: ChurnOptions | null): void {
    if (!options) {
      this.churnSetting = null;
      return;
    }
    for (const e of options.entities) this.entity(e);
    if (!Number.isInteger(options.rowsPerPage) || options.rowsPerPage < 0) {
      throw new Error(`churn.rowsPerPage must be a non-negative integer, got ${options.rowsPerPage}`);
    }
    this.churnSetting = {
      entities: new Set(options.entities),
      rowsPerPage: options.rowsPerPage,
      rng: new Rng(mix(options.seed ?? 1, 0x636875)),
    };
  }

  /** After a page was delivered: churn changes some of its rows (chosen by the seeded generator). */
  delivered(entity: string, candidates: readonly Candidate[]): void {
    const churn = this.churnSetting;
    if (!churn?.entities.has(entity)) return;
    const def = this.entity(entity);
    const pool = [...candidates];
    for (let k = 0; k < Math.min(churn.rowsPerPage, pool.length); k++) {
      const j = k + churn.rng.below(pool.length - k);
      const picked = pool[j];
      const current = pool[k];
      if (!picked || !current) return;
      pool[j] = current;
      this.change(def, picked);
    }
  }
}
