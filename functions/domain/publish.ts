import type { Collector, LeaseOwner } from './collector.ts';
import { readRecord } from './commit-records.ts';
import { StateContended, StateCorrupt } from './errors.ts';
import { formatHour, HOUR_MS } from './hours.ts';
import { commitHourPrefix, commitKey, publishedKey, stagingKey, startOfCommitKey } from './keys.ts';
import type { CommitRecord, CommitTask, EntityCounts, Lease } from './schemas.ts';
import { excludedEntities, lastWholeHour, readState, writeState } from './state-store.ts';
import {
  describeWindow,
  formatMinute,
  MINUTE_MS,
  newestDueEnd,
  type Window,
  windowField,
  windowOf,
} from './windows.ts';

/**
 * How long a publisher holds a window. Longer than a Lambda can run (15 min), so a lease that has
 * expired belongs to an invocation that is surely gone, and taking it over cannot race a live writer.
 * Before that, only a lease whose holder is provably gone is taken over: a local run's process, on the
 * same machine, that no longer exists ({@link Collector.isGone}).
 */
export const LEASE_MS = 20 * 60_000;

export { readRecord, recordsOfHour } from './commit-records.ts';
export type { CommitRecord, CommitTask, EntityCounts, Lease };

export interface CommitResult {
  /** The window's start. */
  readonly start: string;
  /** The window's end. */
  readonly end: string;
  /**
   * `published`: this run published the window (its own objects, or a crashed run's it took over);
   * `already-published`: it was published before, nothing was written;
   * `publishing-elsewhere`: another live run holds the window; nothing was written, the state did not move.
   */
  readonly outcome: 'published' | 'already-published' | 'publishing-elsewhere';
  /** The run whose staged objects are (being) published. */
  readonly publishedBy: string;
  readonly objects: number;
  readonly rows: number;
  readonly entities: Record<string, EntityCounts>;
  /** For `publishing-elsewhere`: the lease of the run that holds the window, and until when. */
  readonly heldBy?: Lease;
  /** The state after this commit, and why it did or did not move. */
  readonly state: {
    lastHour: string | null;
    moved: boolean;
    reason: string;
    /** When this commit moved the state: where it was (its last window's end; null: no state), and is. */
    from?: string | null;
    to?: string;
  };
}

const now = (c: Collector) => (c.now ?? Date.now)();

function leased(c: Collector, record: CommitRecord, runId: string): CommitRecord {
  const until = new Date(now(c) + LEASE_MS).toISOString();
  const owner = c.leaseOwner ? { host: c.leaseOwner.host, pid: c.leaseOwner.pid } : {};
  return { ...record, lease: { holder: runId, until, ...owner } };
}

/** The process that holds a lease, when the lease names one (a local run's). */
function leaseOwnerOf(lease: Lease): LeaseOwner | null {
  const { host, pid } = lease;
  return typeof host === 'string' &&
    host !== '' &&
    typeof pid === 'number' &&
    Number.isInteger(pid) &&
    pid > 0
    ? { host, pid }
    : null;
}

/**
 * Whether a lease that has not expired may be taken over all the same: only when its holder is a
 * process that provably no longer runs. A Lambda's lease names no process and is always waited out.
 */
function holderGone(c: Collector, lease: Lease): boolean {
  const owner = leaseOwnerOf(lease);
  return owner !== null && c.isGone?.(owner) === true;
}

const serialize = (record: CommitRecord) => `${JSON.stringify(record, null, 2)}\n`;

/**
 * The claims of the window's hour that overlap it and start elsewhere: windows of runs of another window
 * size. Checked claims never overlap one another, so of the claims that start before the window only the
 * last one can reach into it; a claim that starts inside the window overlaps it by its start alone. A
 * claim that was never checked and whose lease expired belongs to a run that died before its check, so
 * it published nothing: it is removed.
 */
async function overlapping(c: Collector, window: Window, own: string): Promise<CommitRecord[]> {
  const keys = await c.work.list(commitHourPrefix(c.config, window.start - (window.start % HOUR_MS)));
  const starts = keys
    .map((key) => ({ key, start: startOfCommitKey(key) }))
    .filter((k): k is { key: string; start: number } => k.start !== null && k.key !== own);
  const found: CommitRecord[] = [];
  /** The claim at `key`, unless it is a dead run's unchecked one (then removed). */
  const live = async ({ key, start }: { key: string; start: number }) => {
    const other = await readRecord(c, start);
    if (other?.record.unchecked && Date.parse(other.record.lease.until) <= now(c)) {
      await c.work.deleteAll([key]);
      c.log(
        'removed the claim of a run that died before checking it',
        { key, run: other.record.run },
        'warn',
      );
      return null;
    }
    return other?.record ?? null;
  };
  const reaches = (r: CommitRecord) => windowOf(r.start, r.end, 'its window').end > window.start;
  // Before the window, from the nearest back to the first checked claim: unchecked ones may overlap
  // anything, checked ones only what no other checked one holds.
  for (const k of starts.filter((x) => x.start < window.start).sort((a, b) => b.start - a.start)) {
    const other = await live(k);
    if (!other) continue;
    if (reaches(other)) found.push(other);
    if (!other.unchecked) break;
  }
  for (const k of starts.filter((x) => x.start > window.start && x.start < window.end)) {
    const other = await live(k);
    if (other) found.push(other);
  }
  return found;
}

/**
 * Checks a claim of this run against overlapping claims (runs of another window size that planned from
 * another start): with none, the claim is marked checked and may be published; with one, it is withdrawn
 * and nothing of it is published. Of two overlapping claims, whichever was written second sees the first,
 * so at most one of them is ever published (both withdraw when both see each other).
 */
async function checked(
  c: Collector,
  window: Window,
  claim: { record: CommitRecord; etag: string },
): Promise<{ record: CommitRecord; etag: string } | { other: CommitRecord }> {
  const key = commitKey(c.config, window.start);
  const others = await overlapping(c, window, key);
  if (others[0]) {
    await c.work.deleteAll([key]);
    return { other: others[0] };
  }
  const { unchecked: _, ...record } = claim.record;
  const outcome = await c.work.putIf(key, serialize(record), { ifMatch: claim.etag });
  if (!outcome.written) {
    throw new StateCorrupt(
      `The commit record of ${describeWindow(window)} changed while this run held its lease; run again (nothing is published twice).`,
    );
  }
  return { record, etag: outcome.etag };
}

/** One commit of one window: the tenant's collector, the window, and the Commit Task's event. */
interface WindowCommit {
  readonly c: Collector;
  readonly window: Window;
  readonly task: CommitTask;
}

/** This run's claim on a window (fresh or resumed), or why it has none. */
type Claim = { kind: 'fresh' | 'resumed'; record: CommitRecord; etag: string };
type Held = { kind: 'busy' | 'other-window'; record: CommitRecord };
type Taken = Claim | Held | { kind: 'published'; record: CommitRecord };
const isHeld = (taken: Taken): taken is Held => taken.kind === 'busy' || taken.kind === 'other-window';

/**
 * A new claim of the window (`If-None-Match: *`), checked against overlapping claims; null when another
 * run wrote the record first.
 */
async function claimFresh({ c, window, task }: WindowCommit): Promise<Taken | null> {
  const entities: CommitRecord['entities'] = {};
  for (const f of task.fetched) entities[f.entity] = { objects: f.objects, rows: f.rows };
  const claim = leased(
    c,
    {
      start: formatMinute(window.start),
      end: formatMinute(window.end),
      run: task.runId,
      status: 'publishing',
      entities,
      claimed_at: new Date(now(c)).toISOString(),
      lease: { holder: '', until: '' },
      unchecked: true,
    },
    task.runId,
  );
  const outcome = await c.work.putIf(commitKey(c.config, window.start), serialize(claim), {
    ifNoneMatch: '*',
  });
  if (!outcome.written) return null;
  const cleared = await checked(c, window, { record: claim, etag: outcome.etag });
  return 'other' in cleared ? { kind: 'other-window', record: cleared.other } : { kind: 'fresh', ...cleared };
}

/**
 * Takes the window for this run: a new claim (`If-None-Match: *`, then checked against overlapping
 * claims), or the lease of an unfinished claim when it is this run's own (a retry or redrive: Step
 * Functions starts those only after the previous attempt ended), has expired (its holder is gone), or
 * names a local process that provably died (a killed local run, rerun on the same machine). Every change
 * is a compare-and-swap on the record.
 */
async function acquire(at: WindowCommit): Promise<Taken> {
  const { c, window, task } = at;
  const key = commitKey(c.config, window.start);
  for (let attempt = 0; attempt < 5; attempt++) {
    const found = await readRecord(c, window.start);
    if (!found) {
      const claimed = await claimFresh(at);
      if (claimed) return claimed;
      continue;
    }
    const { record, etag } = found;
    // A run of another window size claimed this start first: its window, not this one, is published.
    if (windowOf(record.start, record.end, 'its window').end !== window.end)
      return { kind: 'other-window', record };
    if (record.status === 'published') return { kind: 'published', record };
    const live = record.lease.holder !== task.runId && Date.parse(record.lease.until) > now(c);
    if (live && !holderGone(c, record.lease)) return { kind: 'busy', record };
    if (live) {
      c.log(
        'lease holder is gone; taking the window over',
        {
          execution: task.runId,
          window: windowField(task),
          holder: record.lease.holder,
          host: record.lease.host,
          pid: record.lease.pid,
        },
        'warn',
      );
    }
    const taken = leased(c, record, task.runId);
    const outcome = await c.work.putIf(key, serialize(taken), { ifMatch: etag });
    if (!outcome.written) continue;
    if (!taken.unchecked) return { kind: 'resumed', record: taken, etag: outcome.etag };
    // A claim whose run died before checking it: checked now, before anything of it is published.
    const cleared = await checked(c, window, { record: taken, etag: outcome.etag });
    return 'other' in cleared
      ? { kind: 'other-window', record: cleared.other }
      : { kind: 'resumed', ...cleared };
  }
  throw new StateContended(
    `The commit record of ${describeWindow(window)} kept changing while this run tried to take it; run again.`,
  );
}

/**
 * Publishes a window once every entity succeeded, then advances the state.
 *
 * Exactly once at the feed: one claim per window start names the staged objects to publish (a run that
 * planned a window of another size from the same start finds the claim and writes nothing); one lease holder at a
 * time writes them; a fresh claim publishes objects no one ever wrote, and a resumed one first asks the
 * feed bucket whether a page was ever written (versioning keeps that after the feed deletes it), so no
 * published key is written twice. The record is marked published before the state moves, and the state
 * moves by compare-and-swap, forward only, one window at a time.
 */
export async function commitWindow(c: Collector, task: CommitTask): Promise<CommitResult> {
  const window = windowOf(task.start, task.end, 'The task window');
  const at: WindowCommit = { c, window, task };
  const taken = await acquire(at);
  if (isHeld(taken)) return heldElsewhere(at, taken);
  const { record, objects } =
    taken.kind === 'published' ? { record: taken.record, objects: 0 } : await publish(c, window, taken);
  await cleanStaging(at, record);
  const state = await advanceState(at);
  const result: CommitResult = {
    start: formatMinute(window.start),
    end: formatMinute(window.end),
    outcome: taken.kind === 'published' ? 'already-published' : 'published',
    publishedBy: record.run,
    objects,
    rows: rowsOf(record),
    entities: record.entities,
    state,
  };
  report(at, result);
  return result;
}

const rowsOf = (record: CommitRecord) => Object.values(record.entities).reduce((n, e) => n + e.rows, 0);

/**
 * The window is another run's: it holds the lease, or it claimed the start with another window size.
 * This run's staged objects go; nothing is published and the state does not move.
 */
async function heldElsewhere(at: WindowCommit, taken: Held): Promise<CommitResult> {
  const { c, window, task } = at;
  const { record } = taken;
  const owner = leaseOwnerOf(record.lease);
  const where = owner ? `, process ${owner.pid} on ${owner.host}` : '';
  const reason =
    taken.kind === 'other-window'
      ? `run ${record.run} claimed the window that starts at ${record.start} with another window size (${describeWindow(windowOf(record.start, record.end, 'its window'))}); this run wrote nothing, and the next run goes on from that window`
      : `${describeWindow(window)} is being published by run ${record.lease.holder}${where} (lease until ${record.lease.until}); it or a later run finishes it`;
  // The holder may be publishing this run's own objects (it took over this run's claim): they stay.
  if (record.run !== task.runId) await cleanStaging(at, record);
  c.log('window held by another run; nothing written', {
    execution: task.runId,
    window: windowField(task),
    holder: record.lease.holder,
    until: record.lease.until,
    ...owner,
  });
  const state = await readState(c.work, c.config);
  return {
    start: formatMinute(window.start),
    end: formatMinute(window.end),
    outcome: 'publishing-elsewhere',
    publishedBy: record.run,
    objects: 0,
    rows: rowsOf(record),
    entities: record.entities,
    heldBy: record.lease,
    state: {
      lastHour: state.lastHourMs === null ? null : formatHour(state.lastHourMs),
      moved: false,
      reason,
    },
  };
}

/** Publishes the staged objects the claim names, then marks its record published (compare-and-swap). */
async function publish(
  c: Collector,
  window: Window,
  taken: Claim,
): Promise<{ record: CommitRecord; objects: number }> {
  const objects = await publishObjects(c, window, taken);
  const done: CommitRecord = {
    ...taken.record,
    status: 'published',
    published_at: new Date(now(c)).toISOString(),
  };
  const marked = await c.work.putIf(commitKey(c.config, window.start), serialize(done), {
    ifMatch: taken.etag,
  });
  if (!marked.written) {
    throw new StateCorrupt(
      `The commit record of ${describeWindow(window)} changed while this run held its lease; run again (nothing is published twice).`,
    );
  }
  return { record: done, objects };
}

/** The commit's metrics (objects published; the lag, once the state moved) and its log line. */
function report({ c, window, task }: WindowCommit, result: CommitResult): void {
  c.metric('PublishedObjects', result.objects);
  if (result.state.moved) {
    const { windowMinutes, settleMinutes } = c.config;
    const behind = newestDueEnd(now(c), windowMinutes, settleMinutes) - window.end;
    c.metric('LagMinutes', Math.max(0, behind) / MINUTE_MS);
  }
  const published = result.outcome === 'published';
  c.log(published ? 'window published' : 'window already published; nothing written', {
    execution: task.runId,
    window: windowField(task),
    objectsOf: result.publishedBy,
    objects: result.objects,
    rows: result.rows,
    state: result.state,
  });
}

/**
 * Copies each staged object the record names to its published key, eight at a time. A resumed claim
 * first asks the feed bucket whether the key was ever written, so that nothing is published twice.
 * Returns how many objects this call wrote.
 */
async function publishObjects(c: Collector, window: Window, taken: Claim): Promise<number> {
  const { record } = taken;
  const resumed = taken.kind === 'resumed';
  const copies: Array<{ from: string; to: string }> = [];
  for (const [entity, { objects: count }] of Object.entries(record.entities)) {
    for (let object = 0; object < count; object++) {
      copies.push({
        from: stagingKey(c.config, record.run, { entity, window, object }),
        to: publishedKey(c.config, { entity, window, object }),
      });
    }
  }
  let written = 0;
  let blind = false;
  const worker = async () => {
    for (let next = copies.shift(); next; next = copies.shift()) {
      const { from, to } = next;
      if (resumed) {
        const before = await c.feed.everWritten(to);
        if (before === true) continue;
        blind ||= before === null;
      }
      const outcome = await c.feed.copyIfAbsent(c.work.bucket, from, to);
      if (outcome === 'source-missing') {
        throw new StateCorrupt(
          `${describeWindow(window)}: the staged object s3://${c.work.bucket}/${from} of run ${record.run} is gone before it was published (expired or deleted). The commit record ${commitKey(c.config, window.start)} lists it; see docs/operating.md, "When a run fails: redrive".`,
        );
      }
      if (outcome === 'written') written++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (blind) {
    c.log(
      'resumed publication on a bucket without versioning: an object the feed already took and deleted may be published again',
      { window: windowField(record) },
      'warn',
    );
  }
  return written;
}

/**
 * Deletes what this run staged for the window: the objects its fetches counted, and those its own record
 * names, each with a DeleteObject of its own (free, where a LIST and a DeleteObjects are two billed
 * requests). Only once nothing of them is to be published any more: the window is published, or
 * another run's claim holds it. An object a crashed attempt staged beyond the count is never published
 * and is left to the bucket's lifecycle rule on the staging prefix.
 */
async function cleanStaging({ c, window, task }: WindowCommit, record: CommitRecord): Promise<void> {
  const counts = new Map(task.fetched.map((f) => [f.entity, f.objects]));
  if (record.run === task.runId) {
    for (const [entity, { objects }] of Object.entries(record.entities))
      counts.set(entity, Math.max(objects, counts.get(entity) ?? 0));
  }
  const keys = [...counts].flatMap(([entity, objects]) =>
    Array.from({ length: objects }, (_, object) =>
      stagingKey(c.config, task.runId, { entity, window, object }),
    ),
  );
  await c.work.deleteEach(keys);
}

/**
 * Moves the state to the end of `window`, forward only and without a gap: only from the window's start
 * (or from no state). A window published ahead of the state (a backfill, a rerun of an hour) leaves it
 * where it is, behind the windows not yet published; the schedule publishes those and moves on.
 */
async function advanceState({ c, window, task }: WindowCommit): Promise<CommitResult['state']> {
  const label = describeWindow(window);
  for (let attempt = 0; attempt < 5; attempt++) {
    const state = await readState(c.work, c.config);
    const current = state.lastHourMs === null ? null : formatHour(state.lastHourMs);
    const at = state.end === null ? 'no state' : formatMinute(state.end);
    if (state.end !== null && state.end >= window.end) {
      return { lastHour: current, moved: false, reason: `the state is already at ${at}` };
    }
    if (state.end !== null && state.end !== window.start) {
      return {
        lastHour: current,
        moved: false,
        reason: `windows between ${at} and ${formatMinute(window.start)} are not published yet; the scheduled run publishes them, then moves past ${label}`,
      };
    }
    const excluded = excludedEntities(
      state.file,
      c.config.entities,
      formatHour(window.start - (window.start % HOUR_MS)),
    );
    const written = await writeState(
      c,
      { previous: state, end: window.end },
      {
        updated_at: new Date(now(c)).toISOString(),
        updated_by: task.runId,
        entities: [...c.config.entities],
        ...(excluded?.length ? { excluded_entities: excluded } : {}),
      },
    );
    if (written) {
      const lastHour = formatHour(lastWholeHour(window.end));
      const [from, to] = [state.end === null ? null : formatMinute(state.end), formatMinute(window.end)];
      return { lastHour, moved: true, reason: `advanced from ${at} to ${to}`, from, to };
    }
  }
  throw new StateContended(`The state file kept changing while ${label} was being committed; run again.`);
}
