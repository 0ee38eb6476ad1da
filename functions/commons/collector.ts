import type { CitrixClient } from './citrix-client.ts';
import type { Config } from './config.ts';
import { BadConfiguration, StateCorrupt } from './errors.ts';
import { dueHours, formatHour, HOUR_MS, newestDueHour, parseHour } from './hours.ts';
import { commitKey, publishedKey, stagingKey, stagingRunPrefix } from './keys.ts';
import { encodePage } from './ndjson.ts';
import { readState, type State, writeState } from './state-store.ts';
import type { ObjectStore } from './store.ts';

/** What the domain operations need; built once per Lambda container or per local run. */
export interface Collector {
  readonly config: Config;
  readonly store: ObjectStore;
  readonly citrix: CitrixClient;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
  readonly now?: () => number;
}

export interface PlannedHour {
  readonly hour: string;
  /** True when a commit record says the hour was already published: only the state may move. */
  readonly published: boolean;
}

export interface Plan {
  readonly runId: string;
  /** `scheduled` catches up from the state; `explicit` collects the one hour asked for. */
  readonly mode: 'scheduled' | 'explicit';
  readonly lastHour: string | null;
  readonly hours: readonly PlannedHour[];
  readonly entities: readonly string[];
  readonly maxConcurrency: number;
}

export interface Continuation {
  readonly nextLink: string;
  readonly page: number;
  readonly rows: number;
  readonly bytes: number;
}

export interface FetchTask {
  readonly hour: string;
  readonly entity: string;
  readonly runId: string;
  readonly continuation: Continuation | null;
}

export interface FetchResult extends FetchTask {
  /** False when the time budget ran out: the state machine loops back with `continuation`. */
  readonly done: boolean;
  /** Pages staged so far for this entity-hour (pages with rows only). */
  readonly pages: number;
  readonly rows: number;
  readonly bytes: number;
}

export interface CommitTask {
  readonly hour: string;
  readonly runId: string;
  readonly mode: Plan['mode'];
  readonly fetched: readonly Pick<FetchResult, 'entity' | 'pages' | 'rows'>[];
}

/** The per-hour commit record, kept under WORK_PREFIX/commits/: survives the feed deleting published files. */
interface CommitRecord {
  hour: string;
  run: string;
  status: 'publishing' | 'published';
  entities: Record<string, { pages: number; rows: number }>;
  claimed_at: string;
  published_at?: string;
}

export interface CommitResult {
  readonly hour: string;
  /** `published`: this run published the hour; `already-published`: another run had, nothing was written. */
  readonly outcome: 'published' | 'already-published';
  readonly publishedBy: string;
  readonly objects: number;
  readonly rows: number;
  readonly entities: Record<string, { pages: number; rows: number }>;
  /** The state after this commit, and why it did or did not move. */
  readonly state: { lastHour: string | null; moved: boolean; reason: string };
}

function hourOf(text: unknown, what: string): number {
  const hour = typeof text === 'string' ? parseHour(text) : null;
  if (hour === null) {
    throw new BadConfiguration(
      `${what}=${JSON.stringify(text)} is not a whole UTC hour: expected e.g. "2026-11-24T10:00:00Z".`,
    );
  }
  return hour;
}

async function readRecord(
  c: Collector,
  hour: number,
): Promise<{ record: CommitRecord; etag: string } | null> {
  const key = commitKey(c.config, hour);
  const found = await c.store.get(key);
  if (!found) return null;
  try {
    const record = JSON.parse(found.body.toString('utf8')) as CommitRecord;
    if (record.hour !== formatHour(hour) || !record.run || !record.entities) throw new Error('incomplete');
    return { record, etag: found.etag };
  } catch {
    throw new StateCorrupt(
      `The commit record s3://${c.store.bucket}/${key} cannot be read. It says whether hour ${formatHour(hour)} was published; check the published prefix for that hour, then fix or delete the record.`,
    );
  }
}

/**
 * Decides what this execution collects. Without an hour in the input it does what the hourly schedule
 * does: every due hour after the state, oldest first, at most MAX_HOURS_PER_RUN. With `{"hour": …}` it
 * collects that hour only (a backfill or a rerun).
 */
export async function plan(c: Collector, input: { hour?: unknown }, runId: string): Promise<Plan> {
  const { config } = c;
  const newestDue = newestDueHour((c.now ?? Date.now)(), config.lookbackMinutes);
  const state = await readState(c.store, config);
  let hours: number[];
  if (input.hour !== undefined && input.hour !== null) {
    const hour = hourOf(input.hour, 'The execution input "hour"');
    if (hour > newestDue) {
      throw new BadConfiguration(
        `Hour ${formatHour(hour)} is not due yet: the newest hour that has surely ended (LOOKBACK_MINUTES=${config.lookbackMinutes}) is ${formatHour(newestDue)}.`,
      );
    }
    hours = [hour];
  } else {
    hours = dueHours(state.lastHour, newestDue, config.maxHoursPerRun);
  }
  const planned: PlannedHour[] = [];
  for (const hour of hours) {
    const found = await readRecord(c, hour);
    planned.push({ hour: formatHour(hour), published: found?.record.status === 'published' });
  }
  return {
    runId,
    mode: input.hour ? 'explicit' : 'scheduled',
    lastHour: state.lastHour === null ? null : formatHour(state.lastHour),
    hours: planned,
    entities: config.entities,
    maxConcurrency: config.maxConcurrency,
  };
}

/**
 * Fetches pages of one entity-hour into the run's staging area until the last page, or until
 * `deadlineMs`, when it hands back a continuation. Memory is bounded by two pages: the next page's
 * request overlaps the previous page's S3 write, because Citrix takes one call at a time and the
 * fetch, not the write, is what limits throughput.
 */
export async function fetchPages(c: Collector, task: FetchTask, deadlineMs: number): Promise<FetchResult> {
  const { config, citrix, store } = c;
  const hour = hourOf(task.hour, 'hour');
  if (!config.entities.includes(task.entity)) {
    throw new BadConfiguration(
      `Entity ${JSON.stringify(task.entity)} is not in ENTITIES (${config.entities.join(',')}).`,
    );
  }
  const field = config.timeFields[task.entity] ?? 'ModifiedDate';
  const first = citrix.firstPageUrl(task.entity, field, hour, hour + HOUR_MS);
  let url = task.continuation ? citrix.resolveNextLink(task.continuation.nextLink, first) : first;
  let { page, rows, bytes } = task.continuation ?? { page: 0, rows: 0, bytes: 0 };
  let writing: Promise<unknown> = Promise.resolve();
  const settle = async () => {
    const failure = await writing;
    if (failure instanceof Error) throw failure;
  };
  for (;;) {
    const label = `Hour ${task.hour}, entity ${task.entity}, page ${page}`;
    const result = await citrix.fetchPage(url, label);
    await settle();
    if (result.rows.length > 0) {
      const staged = { hour: task.hour, entity: task.entity, page, rows: result.rows.length };
      const key = stagingKey(config, task.runId, task.entity, hour, page);
      writing = encodePage(result.rows, config.compression)
        .then((body) => store.put(key, body))
        .then(
          () => c.log('page staged', staged),
          (err: unknown) => err,
        );
      page += 1;
      rows += result.rows.length;
      bytes += result.bytes;
    }
    if (!result.nextLink || Date.now() >= deadlineMs) {
      await settle();
      const continuation = result.nextLink ? { nextLink: result.nextLink, page, rows, bytes } : null;
      return { ...task, continuation, done: continuation === null, pages: page, rows, bytes };
    }
    url = result.nextLink;
  }
}

/**
 * Publishes an hour once every entity succeeded, then advances the state.
 *
 * Exactly once at the feed: the hour is claimed by a commit record written with `If-None-Match: *`
 * (one claimant per hour, and records are never deleted); only the claim's manifest is ever
 * published, each page with `If-None-Match: *`, so a retried or concurrent publisher never rewrites a
 * key. A publisher that resumes a claim (a retry after a crash, or another run finishing a crashed
 * one) also skips every key that was ever written, even if the feed has deleted it since (bucket
 * versioning tells). The record is marked published before the state moves, and the state moves by
 * compare-and-swap, forward only, one hour at a time.
 */
export async function commitHour(c: Collector, task: CommitTask): Promise<CommitResult> {
  const { config, store } = c;
  const hour = hourOf(task.hour, 'hour');
  const entities: CommitRecord['entities'] = {};
  for (const f of task.fetched) entities[f.entity] = { pages: f.pages, rows: f.rows };
  let found = await readRecord(c, hour);
  let resumed = true;
  if (!found) {
    const claim: CommitRecord = {
      hour: task.hour,
      run: task.runId,
      status: 'publishing',
      entities,
      claimed_at: new Date().toISOString(),
    };
    const outcome = await store.putIf(commitKey(config, hour), `${JSON.stringify(claim, null, 2)}\n`, {
      ifNoneMatch: '*',
    });
    resumed = !outcome.written;
    found = outcome.written ? { record: claim, etag: outcome.etag } : await readRecord(c, hour);
    if (!found)
      throw new StateCorrupt(
        `The commit record of hour ${task.hour} vanished while it was being claimed; run again.`,
      );
  }
  let { record } = found;
  const alreadyPublished = record.status === 'published';
  let objects = 0;
  if (!alreadyPublished) {
    objects = await publishManifest(c, hour, record, resumed);
    const done: CommitRecord = { ...record, status: 'published', published_at: new Date().toISOString() };
    const marked = await store.putIf(commitKey(config, hour), `${JSON.stringify(done, null, 2)}\n`, {
      ifMatch: found.etag.replaceAll('"', ''),
    });
    record = marked.written ? done : ((await readRecord(c, hour))?.record ?? done);
  }
  await cleanStaging(c, hour, task.runId);
  const state = await advanceState(c, hour, task);
  const rows = Object.values(record.entities).reduce((n, e) => n + e.rows, 0);
  const outcome = alreadyPublished ? 'already-published' : 'published';
  c.log(alreadyPublished ? 'hour already published by another run; nothing written' : 'hour published', {
    hour: task.hour,
    pagesOf: record.run,
    objects,
    rows,
    state,
  });
  return {
    hour: task.hour,
    outcome,
    publishedBy: record.run,
    objects,
    rows,
    entities: record.entities,
    state,
  };
}

async function publishManifest(
  c: Collector,
  hour: number,
  record: CommitRecord,
  resumed: boolean,
): Promise<number> {
  const copies: Array<[string, string]> = [];
  for (const [entity, { pages }] of Object.entries(record.entities)) {
    for (let page = 0; page < pages; page++) {
      copies.push([
        stagingKey(c.config, record.run, entity, hour, page),
        publishedKey(c.config, entity, hour, page),
      ]);
    }
  }
  let written = 0;
  let unversioned = false;
  const worker = async () => {
    for (let next = copies.shift(); next; next = copies.shift()) {
      const [from, to] = next;
      if (resumed) {
        const before = await c.store.everWritten(to);
        if (before === true) continue;
        unversioned ||= before === null;
      }
      const outcome = await c.store.publish(from, to);
      if (outcome === 'written') written++;
      if (outcome === 'source-missing' && (await readRecord(c, hour))?.record.status !== 'published') {
        throw new StateCorrupt(
          `Hour ${record.hour}: the staged page ${from} of run ${record.run} is gone before it was published (expired or deleted). The commit record ${commitKey(c.config, hour)} lists it; see README "Recovering a stuck hour".`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (unversioned) {
    c.log(
      'resumed a publication on a bucket without versioning: a page the feed already deleted may be published again',
      {
        hour: record.hour,
      },
    );
  }
  return written;
}

async function cleanStaging(c: Collector, hour: number, runId: string): Promise<void> {
  await c.store.deleteAll(await c.store.list(stagingRunPrefix(c.config, runId, hour)));
}

async function advanceState(c: Collector, hour: number, task: CommitTask): Promise<CommitResult['state']> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const state: State = await readState(c.store, c.config);
    const current = state.lastHour === null ? null : formatHour(state.lastHour);
    if (state.lastHour !== null && state.lastHour >= hour) {
      return { lastHour: current, moved: false, reason: `the state is already at ${current}` };
    }
    if (state.lastHour !== null && state.lastHour < hour - HOUR_MS) {
      return {
        lastHour: current,
        moved: false,
        reason: `hours between ${current} and ${task.hour} are not collected yet; the scheduled run collects them and then moves past ${task.hour}`,
      };
    }
    const written = await writeState(c.store, c.config, state, hour, {
      updated_at: new Date().toISOString(),
      updated_by: task.runId,
      entities: [...c.config.entities],
    });
    if (written)
      return { lastHour: task.hour, moved: true, reason: `advanced from ${current ?? 'no state'}` };
  }
  throw new StateCorrupt(
    `The state file kept changing while hour ${task.hour} was being committed; run again.`,
  );
}
