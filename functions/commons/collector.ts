import type { CitrixClient } from './citrix-client.ts';
import type { Config } from './config.ts';
import { BadConfiguration } from './errors.ts';
import { dueHours, formatHour, HOUR_MS, hourOf, newestDueHour } from './hours.ts';
import { stagingKey } from './keys.ts';
import { encodePage } from './ndjson.ts';
import { readRecord } from './publish.ts';
import { readState } from './state-store.ts';
import type { ObjectStore } from './store.ts';
import type { Telemetry } from './telemetry.ts';

/** What the domain operations need; built once per Lambda container or per local run. */
export interface Collector {
  readonly config: Config;
  /** The bucket the SecOps feed reads (S3_BUCKET): published pages only. */
  readonly feed: ObjectStore;
  /** The bucket of the state, commit records and staging (WORK_BUCKET, by default the same bucket). */
  readonly work: ObjectStore;
  readonly citrix: CitrixClient;
  readonly log: Telemetry['log'];
  readonly metric: Telemetry['metric'];
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
  /** Index of the next staged object (a group of pages). */
  readonly page: number;
  /** Citrix pages fetched so far, for messages. */
  readonly requests: number;
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

/**
 * Decides what this execution collects. Without an hour in the input it does what the hourly schedule
 * does: every due hour after the state, oldest first, at most MAX_HOURS_PER_RUN. With `{"hour": …}` it
 * collects that hour only (a backfill or a rerun).
 */
export async function plan(c: Collector, input: { hour?: unknown }, runId: string): Promise<Plan> {
  const { config } = c;
  const newestDue = newestDueHour((c.now ?? Date.now)(), config.lookbackMinutes);
  const state = await readState(c.work, config);
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
  if (state.lastHour !== null) c.metric('LagHours', (newestDue - state.lastHour) / HOUR_MS);
  c.log('planned', {
    execution: runId,
    lastHour: state.lastHour === null ? null : formatHour(state.lastHour),
    newestDue: formatHour(newestDue),
    hours: planned.map((p) => p.hour),
  });
  return {
    runId,
    mode: input.hour ? 'explicit' : 'scheduled',
    lastHour: state.lastHour === null ? null : formatHour(state.lastHour),
    hours: planned,
    entities: config.entities,
    maxConcurrency: config.maxConcurrency,
  };
}

/** Pages are staged in groups of about this many bytes: fewer, larger objects cost far less to write and publish. */
export const STAGE_BYTES = 4 * 1024 * 1024;

/** Lets a request that was just started go out on the socket before CPU-bound work holds the event loop. */
const letRequestGo = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

/**
 * Fetches the pages of one entity-hour into the run's staging area until the last page, or until
 * `deadlineMs`, when it hands back a continuation. Citrix takes one call at a time, so the fetch is what
 * limits throughput: the request for the next page leaves before this page is encoded and written, and
 * pages are staged in groups of about {@link STAGE_BYTES}. Memory is bounded by two groups and a page,
 * whatever the size of the hour.
 */
export async function fetchPages(c: Collector, task: FetchTask, deadlineMs: number): Promise<FetchResult> {
  const { config, citrix, work } = c;
  const hour = hourOf(task.hour, 'hour');
  if (!config.entities.includes(task.entity)) {
    throw new BadConfiguration(
      `Entity ${JSON.stringify(task.entity)} is not in ENTITIES (${config.entities.join(',')}).`,
    );
  }
  const started = Date.now();
  const field = config.timeFields[task.entity] ?? 'ModifiedDate';
  const first = citrix.firstPageUrl(task.entity, field, hour, hour + HOUR_MS);
  let { page, rows, bytes, requests } = task.continuation ?? { page: 0, rows: 0, bytes: 0, requests: 0 };
  const fetch = (url: string) => {
    const pending = citrix.fetchPage(url, {
      what: `Hour ${task.hour}, entity ${task.entity}, page ${requests}`,
      fields: { execution: task.runId, hour: task.hour, entity: task.entity, page: requests },
    });
    requests += 1;
    pending.catch(() => {}); // awaited below; this only keeps an abandoned request from being "unhandled"
    return pending;
  };
  let next = fetch(task.continuation ? citrix.resolveNextLink(task.continuation.nextLink, first) : first);
  let group: (readonly unknown[])[] = [];
  let groupBytes = 0;
  let writing: Promise<unknown> = Promise.resolve();
  const settle = async () => {
    const failure = await writing;
    if (failure instanceof Error) throw failure;
  };
  let received = task.continuation?.requests ?? 0;
  for (;;) {
    const result = await next;
    received += 1;
    const more = result.nextLink !== null && Date.now() < deadlineMs;
    if (result.nextLink !== null && more) next = fetch(result.nextLink);
    if (result.rows.length > 0) {
      group.push(result.rows);
      groupBytes += result.bytes;
      rows += result.rows.length;
      bytes += result.bytes;
    }
    if (group.length > 0 && (!more || groupBytes >= STAGE_BYTES)) {
      await settle();
      const pages = group;
      const staged = {
        execution: task.runId,
        hour: task.hour,
        entity: task.entity,
        page: received - 1,
        object: page,
        pages: pages.length,
        rows: pages.reduce((n, p) => n + p.length, 0),
      };
      const key = stagingKey(config, task.runId, task.entity, hour, page);
      group = [];
      groupBytes = 0;
      page += 1;
      await letRequestGo();
      writing = encodePage(pages.flat(), config.compression)
        .then((body) => work.put(key, body))
        .then(
          () => c.log('pages staged', staged),
          (err: unknown) => err,
        );
    }
    if (!more) {
      await settle();
      const continuation = result.nextLink
        ? { nextLink: result.nextLink, page, rows, bytes, requests }
        : null;
      const before = task.continuation ?? { rows: 0, bytes: 0, requests: 0 };
      c.metric('Rows', rows - before.rows, task.entity);
      c.metric('Pages', requests - before.requests, task.entity);
      c.metric('Bytes', bytes - before.bytes, task.entity);
      c.metric('FetchSeconds', (Date.now() - started) / 1000, task.entity);
      c.log(continuation ? 'time budget used; handing back a continuation' : 'entity fetched', {
        execution: task.runId,
        hour: task.hour,
        entity: task.entity,
        page: received - 1,
        pages: received,
        rows,
        objects: page,
      });
      return { ...task, continuation, done: continuation === null, pages: page, rows, bytes };
    }
  }
}
