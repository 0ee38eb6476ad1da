import { recordsOfHour } from './commit-records.ts';
import type { Config } from './config.ts';
import { BadConfiguration, CitrixTransient } from './errors.ts';
import { windowsPerRun } from './history-budget.ts';
import { formatHour, HOUR_MS, hourOf } from './hours.ts';
import { stagingKey } from './keys.ts';
import { type Cursor, EntityPages, type EntityWindow } from './pager.ts';
import type { CitrixPages, ObjectStore, Telemetry } from './ports.ts';
import type { Continuation, FetchTask } from './schemas.ts';
import { StagingWriter } from './staging.ts';
import { readState } from './state-store.ts';
import {
  type Claimed,
  describeWindow,
  formatMinute,
  MINUTE_MS,
  newestDueEnd,
  type Window,
  windowField,
  windowOf,
  windowsBetween,
} from './windows.ts';

/** What the domain operations need; built once per Lambda container or per local run. */
export interface Collector {
  readonly config: Config;
  /** The bucket the SecOps feed reads (S3_BUCKET): published pages only. */
  readonly feed: ObjectStore;
  /** The bucket of the state, commit records and staging (WORK_BUCKET, by default the same bucket). */
  readonly work: ObjectStore;
  readonly citrix: CitrixPages;
  readonly log: Telemetry['log'];
  readonly metric: Telemetry['metric'];
  readonly now?: () => number;
  /**
   * The local run's process, written into the leases it takes so that a rerun on the same machine can
   * tell that their holder died. The Lambdas leave it out: an invocation's pid means nothing after it.
   */
  readonly leaseOwner?: LeaseOwner;
  /**
   * Whether the owner of a lease is provably gone (a process of this machine that no longer exists).
   * False whenever that cannot be proven (a live process, another machine): such a lease is waited out.
   */
  readonly isGone?: (owner: LeaseOwner) => boolean;
}

/** A process holding a lease: the machine's host name and the process id on it. */
export interface LeaseOwner {
  readonly host: string;
  readonly pid: number;
}

/** A window to collect: its start and end. */
export interface PlannedWindow {
  readonly start: string;
  readonly end: string;
  /** True when a commit record says the window was already published: only the state may move. */
  readonly published: boolean;
}

export interface Plan {
  readonly runId: string;
  /** `scheduled` catches up from the state; `explicit` collects the one hour asked for. */
  readonly mode: 'scheduled' | 'explicit';
  readonly lastHour: string | null;
  /** The windows to collect, oldest first. */
  readonly windows: readonly PlannedWindow[];
  readonly entities: readonly string[];
  readonly maxConcurrency: number;
}

export type { Continuation, FetchTask };

export interface FetchResult extends Omit<FetchTask, 'continuation'> {
  readonly continuation: Continuation | null;
  /** False when the time budget ran out: the state machine loops back with `continuation`. */
  readonly done: boolean;
  /**
   * True when an Express child's deadline had passed before this task began: nothing was fetched, and the
   * child hands the tenant on to a Standard child. Always present: the ASL's Choice reads it.
   */
  readonly timeBoxClosed: boolean;
  /** Objects staged so far for this entity-window (groups of Citrix pages with rows). */
  readonly objects: number;
  readonly rows: number;
  readonly bytes: number;
}

/** What {@link plan} is asked: the execution, its input, and the hours it may take. */
export interface PlanRequest {
  /** The execution input: `{"hour": …}` for that hour, or no hour for what the schedule does. */
  readonly input: { hour?: unknown };
  readonly runId: string;
  /** Hours a state machine that rations hours allows the run (MAX_HOURS_PER_RUN by default). */
  readonly maxHours?: number | undefined;
  /** The execution's start time in ms (now by default). */
  readonly clock?: number | undefined;
}

/**
 * Decides what this execution collects, at `clock` (the execution's start time: a redrive plans what the
 * run planned). Without an hour in the input it does what the schedule does: every due window after the
 * state, oldest first, at most MAX_HOURS_PER_RUN hours of them (or `maxHours`, from state machines that
 * rationed hours, when lower), and no more windows than the child's history holds ({@link windowsPerRun}):
 * a tenant further behind carries on in the next run. A window is due once it has ended and settled
 * (SETTLE_MINUTES). With
 * `{"hour": …}` it collects the due windows of that hour that are not published yet (a backfill or a rerun).
 */
export async function plan(
  c: Collector,
  { input, runId, maxHours = c.config.maxHoursPerRun, clock = (c.now ?? Date.now)() }: PlanRequest,
): Promise<Plan> {
  const { config } = c;
  const dueEnd = newestDueEnd(clock, config.windowMinutes, config.settleMinutes);
  const state = await readState(c.work, config);
  const windows = await dueWindows(c, input, { stateEnd: state.end, dueEnd, maxHours });
  const planned = windows.map((w) => ({
    start: formatMinute(w.start),
    end: formatMinute(w.end),
    published: w.published,
  }));
  if (state.end !== null) c.metric('LagMinutes', Math.max(0, dueEnd - state.end) / MINUTE_MS);
  c.log('planned', {
    execution: runId,
    lastHour: state.lastHourMs === null ? null : formatHour(state.lastHourMs),
    stateEnd: state.end === null ? null : formatMinute(state.end),
    newestDueEnd: formatMinute(dueEnd),
    windows: planned.map((p) => p.start),
  });
  return {
    runId,
    mode: input.hour ? 'explicit' : 'scheduled',
    lastHour: state.lastHourMs === null ? null : formatHour(state.lastHourMs),
    windows: planned,
    entities: config.entities,
    maxConcurrency: config.maxConcurrency,
  };
}

/** Where a scheduled plan's windows lie: from the state's end to the newest due end, within `maxHours`. */
interface DueSpan {
  /** The state's end; null when no window was published yet. */
  readonly stateEnd: number | null;
  /** The end of the newest window that is due. */
  readonly dueEnd: number;
  readonly maxHours: number;
}

/**
 * The windows a plan takes on: the due windows of the input's "hour" not published yet, or those from the
 * state's end (`stateEnd`) on, within the hours and the history a run may take.
 */
async function dueWindows(
  c: Collector,
  input: { hour?: unknown },
  { stateEnd, dueEnd, maxHours }: DueSpan,
): Promise<Array<Window & { published: boolean }>> {
  const { config } = c;
  if (input.hour === undefined || input.hour === null) {
    const from = stateEnd ?? dueEnd - config.windowMinutes * MINUTE_MS;
    const budgetMs = Math.min(config.maxHoursPerRun, maxHours) * HOUR_MS;
    return walk(c, { from, until: dueEnd, budgetMs, maxWindows: windowsPerRun(config.entities.length) });
  }
  const hour = hourOf(input.hour, 'The execution input "hour"');
  if (hour >= dueEnd) {
    throw new BadConfiguration(
      `Hour ${formatHour(hour)} is not due yet: a window is due ${config.settleMinutes} minutes after it ends (WINDOW_MINUTES=${config.windowMinutes}, SETTLE_MINUTES=${config.settleMinutes}), and the newest due one ends at ${formatMinute(dueEnd)}.`,
    );
  }
  const end = Math.min(hour + HOUR_MS, dueEnd);
  return walk(c, {
    from: hour,
    until: end,
    budgetMs: Number.POSITIVE_INFINITY,
    maxWindows: Number.POSITIVE_INFINITY,
  });
}

/** The stretch {@link walk} takes windows in, and how much of it. */
interface WalkSpan {
  readonly from: number;
  readonly until: number;
  /** The most time the windows may cover, in ms. */
  readonly budgetMs: number;
  readonly maxWindows: number;
}

/**
 * The windows from `from` to `until`, hour by hour, at most `budgetMs` of them and at most `maxWindows`: on
 * the grid, except where a commit record claimed a window already (see {@link windowsBetween}).
 */
async function walk(
  c: Collector,
  { from, until, budgetMs, maxWindows }: WalkSpan,
): Promise<Array<Window & { published: boolean }>> {
  const windows: Array<Window & { published: boolean }> = [];
  let cursor = from;
  let budget = budgetMs;
  while (cursor < until && budget > 0 && windows.length < maxWindows) {
    const hour = Math.floor(cursor / HOUR_MS) * HOUR_MS;
    const end = Math.min(hour + HOUR_MS, until);
    const found = windowsBetween({
      from: cursor,
      until: end,
      windowMinutes: c.config.windowMinutes,
      budgetMs: budget,
      claimed: await claimedIn(c, hour),
    });
    windows.push(...found);
    const reached = found.at(-1)?.end ?? cursor;
    budget -= reached - cursor;
    if (reached < end) break;
    cursor = reached;
  }
  return windows.slice(0, maxWindows);
}

/** The windows of an hour that commit records claimed, and whether each was published. */
async function claimedIn(c: Collector, hour: number): Promise<Claimed[]> {
  return (await recordsOfHour(c, hour)).map((r) => ({
    ...windowOf(r.start, r.end, 'A commit record'),
    published: r.status === 'published',
  }));
}

/** The paging of one entity-window, from the configuration: by key unless NEXTLINK_PAGING names the entity. */
function entityWindow(config: Config, entity: string, window: Window): EntityWindow {
  return {
    entity,
    timeField: config.timeFields[entity] ?? 'ModifiedDate',
    fromMs: window.start,
    toMs: window.end,
    keyField: config.nextLinkPaging.includes(entity) ? null : (config.keyFields[entity] ?? 'Id'),
    pageSize: config.pageSize,
  };
}

/** The cursor a task resumes from, checked again: a nextLink is followed only on the API's origin. */
function resumeCursor(c: Collector, task: FetchTask): Cursor | null {
  const from = task.continuation;
  if (from === null) return null;
  if ('nextLink' in from) {
    return { nextLink: c.citrix.resolveNextLink(from.nextLink, `${c.config.apiBase}/monitorodata/`) };
  }
  return { after: from.after };
}

/** Invocations in a row that may end their budget without a single page before the entity fails. */
export const MAX_STALLS = 3;

/**
 * Fetches the Citrix pages of one entity-window into the run's staging area until the last page, or until
 * `deadlineMs`, when it hands back a continuation. {@link EntityPages} owns the prefetch and the deadline,
 * {@link StagingWriter} the grouping and the pending write; memory is bounded by two groups and a page,
 * whatever the size of the window.
 */
export async function fetchPages(c: Collector, task: FetchTask, deadlineMs: number): Promise<FetchResult> {
  const { config } = c;
  const window = windowOf(task.start, task.end, 'The task window');
  const label = describeWindow(window);
  assertListed(config, task.entity);
  const started = Date.now();
  const before = task.continuation ?? { rows: 0, bytes: 0, requests: 0 };
  const context = { execution: task.runId, window: windowField(task), entity: task.entity };
  const pages = new EntityPages(c.citrix, entityWindow(config, task.entity, window), {
    start: resumeCursor(c, task),
    deadlineMs,
    about: (page) => ({
      what: `${label}, entity ${task.entity}, page ${page}`,
      fields: { ...context, page },
    }),
    pagesBefore: before.requests,
  });
  const staging = new StagingWriter({
    write: (object, body) =>
      c.work.put(stagingKey(config, task.runId, { entity: task.entity, window, object }), body),
    compression: config.compression,
    onStaged: (staged) => c.log('pages staged', { ...context, ...staged }),
    firstObject: task.continuation?.objects ?? 0,
  });
  let { rows, bytes } = before;
  for await (const page of pages) {
    rows += page.rows.length;
    bytes += page.bytes;
    await staging.add(page.rows, before.requests + pages.received - 1);
  }
  await staging.finish();
  const result = fetchResult(c, task, { label, pages, objects: staging.objects, totals: { rows, bytes } });
  const requests = before.requests + pages.received;
  const seconds = (Date.now() - started) / 1000;
  reportFetch(c, task, { result, invocation: { pages: pages.received, requests, seconds } });
  return result;
}

/** The pages an invocation received of a task's entity-window, and how messages name the window. */
interface Received {
  /** The window as messages name it ({@link describeWindow}). */
  readonly label: string;
  readonly pages: EntityPages;
}

/** What an invocation fetched and staged of a task's entity-window. */
interface Fetched extends Received {
  /** Objects staged so far, by this invocation and the ones before it. */
  readonly objects: number;
  /** The entity-window's rows and bytes so far. */
  readonly totals: { rows: number; bytes: number };
}

/**
 * What a fetch hands back once its pages are staged: the continuation of the first page not received, or
 * none when the last page came.
 */
function fetchResult(c: Collector, task: FetchTask, { label, pages, objects, totals }: Fetched): FetchResult {
  const requests = (task.continuation?.requests ?? 0) + pages.received;
  const stalls = stallsAfter(c, task, { label, pages });
  const continuation = pages.resumeAt && { ...pages.resumeAt, objects, requests, ...totals, stalls };
  return {
    ...task,
    continuation,
    done: continuation === null,
    timeBoxClosed: false,
    objects,
    ...totals,
  };
}

/** A task names an entity of ENTITIES, or it is a state machine and functions deployed apart. */
function assertListed(config: Config, entity: string): void {
  if (!config.entities.includes(entity)) {
    throw new BadConfiguration(
      `Entity ${JSON.stringify(entity)} is not in ENTITIES (${config.entities.join(',')}).`,
    );
  }
}

/**
 * The invocations in a row that ended their budget without a page, this one included; a
 * {@link CitrixTransient} once they reach {@link MAX_STALLS}, for the state machine to retry later.
 */
function stallsAfter(c: Collector, task: FetchTask, { label, pages }: Received): number {
  const stalls = pages.received === 0 ? (task.continuation?.stalls ?? 0) + 1 : 0;
  if (pages.resumeAt && stalls >= MAX_STALLS) {
    throw new CitrixTransient(
      `${label}, entity ${task.entity}: no Citrix page came in ${stalls} invocations in a row, each ending its time budget (FETCH_BUDGET_SECONDS=${c.config.fetchBudgetSeconds}) on a page still being requested or retried; the state machine retries the step later. Nothing was lost: the window is not committed.`,
      { window: task.start, entity: task.entity },
    );
  }
  return stalls;
}

/** What one invocation of a fetch did: its result, and its own pages and seconds. */
interface FetchReport {
  readonly result: FetchResult;
  /** The Citrix pages this invocation received, the entity-window's requests so far, its seconds. */
  readonly invocation: { pages: number; requests: number; seconds: number };
}

/** The invocation's metrics (what this invocation added) and its log line (the entity-window so far). */
function reportFetch(c: Collector, task: FetchTask, { result, invocation }: FetchReport): void {
  const before = task.continuation ?? { rows: 0, bytes: 0 };
  c.metric('Rows', result.rows - before.rows, { entity: task.entity });
  c.metric('Pages', invocation.pages, { entity: task.entity });
  c.metric('Bytes', result.bytes - before.bytes, { entity: task.entity });
  c.metric('FetchSeconds', invocation.seconds, { entity: task.entity });
  c.log(result.done ? 'entity fetched' : 'time budget used; handing back a continuation', {
    execution: task.runId,
    window: windowField(task),
    entity: task.entity,
    pages: invocation.requests,
    rows: result.rows,
    objects: result.objects,
  });
}
