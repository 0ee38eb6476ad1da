import { createHash } from 'node:crypto';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { formatHour, HOUR_MS } from '../functions/domain/hours.ts';
import type { CommitRecord, CommitResult } from '../functions/domain/publish.ts';
import { awsCallFailure, UsageError } from './errors.ts';
import { describeExecution, executionArn, isFailed, readableCause, redrivability } from './executions.ts';
import type { HourRecords } from './records.ts';

/** More hours than this (a month) need `--yes`: a typo in a year should not start thousands of executions. */
export const MAX_HOURS_WITHOUT_YES = 24 * 31;

/**
 * An hour is collected in windows (WINDOW_MINUTES), each with its commit record.
 * `published`: an execution of this backfill published its windows that were not published yet (or found
 * them published meanwhile);
 * `already-published`: its commit records said every window of it was, nothing was started;
 * `already-started`: an execution of the same name exists (an earlier backfill); Step Functions refused a second;
 * `publishing-elsewhere`: the execution succeeded but another run holds a window of the hour and publishes it;
 * `failed`: the execution this backfill started failed; `error` and `cause` say why.
 */
export type HourOutcome =
  | 'published'
  | 'already-published'
  | 'already-started'
  | 'publishing-elsewhere'
  | 'failed';

export interface HourResult {
  readonly hour: string;
  readonly outcome: HourOutcome;
  readonly execution: string | null;
  readonly executionArn: string | null;
  /** The execution's status (for `already-started`, the status of the earlier execution). */
  readonly status: string | null;
  readonly durationSeconds: number | null;
  /** The rows of the windows the execution published (0 when it found them all published); null when unknown. */
  readonly rows: number | null;
  readonly error: string | null;
  readonly cause: string | null;
  /** For an earlier execution that failed: whether `citrix-monitor redrive` can still redrive it. */
  readonly redrivable: boolean | null;
  /**
   * For an execution of every listed tenant (a backfill without `--tenant` over a tenant list): what each
   * tenant's commit did; `rows` and `outcome` are then their sum and the least finished one. Else null.
   */
  readonly tenants: ReadonlyArray<{
    readonly tenant: string;
    readonly outcome: CommitResult['outcome'];
    readonly rows: number;
  }> | null;
}

export type BackfillProgress =
  | { readonly kind: 'started'; readonly hour: string; readonly execution: string }
  | { readonly kind: 'finished'; readonly result: HourResult };

export interface BackfillInput {
  readonly sfn: SFNClient;
  readonly records: HourRecords;
  readonly stateMachineArn: string;
  /** From {@link backfillHours}: validated, oldest first. */
  readonly hours: readonly number[];
  readonly concurrency: number;
  readonly now: () => number;
  /** Between two DescribeExecution calls of a running execution. */
  readonly pollMs: number;
  readonly onProgress?: (event: BackfillProgress) => void;
  /**
   * `--tenant`: that listed tenant alone, started with `{"hour": …, "tenants": [id]}`. Null: every tenant
   * of the list, or the environment's one tenant without a list (input `{"hour": …}`).
   */
  readonly tenant?: string | null;
  /** The ids of the tenant list, or null without one: said in the report. */
  readonly listed?: readonly string[] | null;
  /**
   * The commit records of the windows of an hour, per tenant the backfill collects: what a succeeded
   * execution did. Its output does not say (each tenant's commits are in its child execution's history);
   * executions of state machines before the Distributed Map still list them in their output, which is
   * read first.
   */
  readonly committed?: (hour: number) => Promise<Array<{ tenant: string | null; records: CommitRecord[] }>>;
}

export interface BackfillReport {
  readonly stateMachineArn: string;
  /** With a tenant list: the tenant of `--tenant`, or null for every listed one (`tenants`). */
  readonly tenant?: string | null;
  readonly tenants?: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly hours: readonly HourResult[];
  readonly summary: Readonly<Record<HourOutcome, number>>;
}

/**
 * The hours from `from` to `to`, oldest first, refused when the range is reversed, not due or too long.
 * `newestDue` is the newest hour with a due window (see {@link newestDueHourOf}).
 */
export function backfillHours({
  from,
  to,
  newestDue,
  yes,
}: {
  readonly from: number;
  readonly to: number;
  readonly newestDue: number;
  /** --yes: a range longer than a day is wanted. */
  readonly yes: boolean;
}): number[] {
  if (from > to)
    throw new UsageError(
      `--from ${formatHour(from)} is after --to ${formatHour(to)}: give the older hour first.`,
    );
  if (to > newestDue) {
    throw new UsageError(
      `--to ${formatHour(to)} is not due yet: the newest hour with a due window, which may be collected, is ${formatHour(newestDue)} (an hour may be collected once its first window, of WINDOW_MINUTES, has ended and settled SETTLE_MINUTES).`,
    );
  }
  const count = (to - from) / HOUR_MS + 1;
  if (count > MAX_HOURS_WITHOUT_YES && !yes) {
    throw new UsageError(
      `${count} hours is more than ${MAX_HOURS_WITHOUT_YES} (31 days): that starts ${count} executions. Add --yes if that is what you want.`,
    );
  }
  return Array.from({ length: count }, (_, i) => from + i * HOUR_MS);
}

/**
 * Step Functions names allow letters, digits, - and _ (at most 80): `backfill-2026-11-24T10`. A name is
 * unique per state machine for 90 days, so Step Functions itself refuses a second execution of the hour
 * once the first has ended (while it runs, the same start returns that same execution, which is then
 * watched). Only when the earlier execution failed and can no longer be redriven is a suffixed name
 * (`…T10-2`) tried, or that hour could not be collected again for 90 days. One tenant's backfill names
 * the tenant (`backfill-acme-2026-11-24T10`): its hour is not the same execution as another tenant's.
 */
export const executionName = (hour: number, attempt: number, tenant: string | null = null): string =>
  `backfill-${tenant === null ? '' : `${nameOf(tenant)}-`}${formatHour(hour).slice(0, 13)}${attempt > 1 ? `-${attempt}` : ''}`;

/**
 * A tenant's part of its executions' names (`backfill-acme-2026-11-24T10`): its id, or for an id too long
 * for the 80 characters Step Functions allows, its first 46 characters and a hash of the whole.
 */
function nameOf(tenant: string): string {
  if (tenant.length <= 55) return tenant;
  return `${tenant.slice(0, 46)}_${createHash('sha256').update(tenant).digest('hex').slice(0, 8)}`;
}

/**
 * The newest hour a backfill may collect: the hour of the newest due window (whose end is `dueEnd`, see
 * newestDueEnd). An execution for an hour collects its due windows; a later backfill, or the schedule,
 * collects the rest once they are due.
 */
export const newestDueHourOf = (dueEnd: number) => Math.floor((dueEnd - 1) / HOUR_MS) * HOUR_MS;

const MAX_NAMES_PER_HOUR = 9;

/** What a backfill reports of one tenant's commits of an hour, its windows taken together. */
type HourCommit = Pick<CommitResult, 'outcome' | 'rows'>;

/**
 * What the execution `name` did with an hour, as one tenant's commit records of its windows say (null
 * when the hour has none). `published` when every window record the execution claimed is published by
 * it, `already-published` when it claimed none and all were published before, `publishing-elsewhere`
 * otherwise (a window it claimed that another run holds, or, when it claimed none, a window another run
 * is publishing). The rows are those of the windows it published.
 */
export function recordedCommit(records: readonly CommitRecord[], name: string): HourCommit | null {
  if (records.length === 0) return null;
  const claimedBy = (r: CommitRecord) => r.run === name || r.lease.holder === name;
  const mine = records.filter(claimedBy);
  const published = (r: CommitRecord) => r.status === 'published';
  const outcome =
    mine.length === 0
      ? records.every(published)
        ? 'already-published'
        : 'publishing-elsewhere'
      : mine.every(published)
        ? 'published'
        : 'publishing-elsewhere';
  const rows = mine
    .filter(published)
    .reduce((sum, r) => sum + Object.values(r.entities).reduce((n, e) => n + e.rows, 0), 0);
  return { outcome, rows };
}

/** What one backfill shares between its hours: the input, the tenant, and the first AWS failure. */
interface Backfill {
  readonly input: BackfillInput;
  readonly tenant: string | null;
  /** The first AWS API failure: no hour begins after it, and hours being watched stop waiting. */
  failure: unknown;
}

/** An hour's result: `outcome` and what is known of its execution (`more`); null for the rest. */
function hourResult(hour: number, outcome: HourOutcome, more: Partial<HourResult> = {}): HourResult {
  return {
    hour: formatHour(hour),
    outcome,
    execution: null,
    executionArn: null,
    status: null,
    durationSeconds: null,
    rows: null,
    error: null,
    cause: null,
    redrivable: null,
    tenants: null,
    ...more,
  };
}

/** The started execution's ARN, or null when Step Functions refused the name as already used. */
async function startExecution(b: Backfill, name: string, hour: number): Promise<string | null> {
  const { sfn, stateMachineArn } = b.input;
  try {
    const out = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name,
        input: JSON.stringify({
          hour: formatHour(hour),
          ...(b.tenant === null ? {} : { tenants: [b.tenant] }),
        }),
      }),
    );
    return out.executionArn ?? executionArn(stateMachineArn, name);
  } catch (err) {
    if (err instanceof Error && err.name === 'ExecutionAlreadyExists') return null;
    throw awsCallFailure(`Step Functions StartExecution ${name}`, err);
  }
}

/** What the execution `name` did with `hour`, as each tenant's commit records of its windows say. */
async function recordedCommits(b: Backfill, hour: number, name: string) {
  return (await (b.input.committed?.(hour) ?? Promise.resolve([]))).flatMap(({ tenant, records }) => {
    const commit = recordedCommit(records, name);
    return commit ? [{ tenant, commit }] : [];
  });
}

/** The execution, described once it ended (or once another hour's AWS call failed). */
async function ended(b: Backfill, arn: string) {
  let described = await describeExecution(b.input.sfn, arn);
  while ((described.status === 'RUNNING' || described.status === 'PENDING_REDRIVE') && b.failure === null) {
    await new Promise((r) => setTimeout(r, b.input.pollMs));
    described = await describeExecution(b.input.sfn, arn);
  }
  return described;
}

/** An execution a backfill started: its name and its ARN. */
interface StartedExecution {
  readonly name: string;
  readonly arn: string;
}

/** Watches the execution of `hour` until it ends: what it did, as its output or the commit records say. */
async function watch(b: Backfill, hour: number, { name, arn }: StartedExecution): Promise<HourResult> {
  const started = b.input.now();
  b.input.onProgress?.({ kind: 'started', hour: formatHour(hour), execution: name });
  const described = await ended(b, arn);
  const base = {
    execution: name,
    executionArn: arn,
    status: described.status ?? null,
    durationSeconds: Math.round(
      ((described.stopDate?.getTime() ?? b.input.now()) - (described.startDate?.getTime() ?? started)) / 1000,
    ),
  };
  if (described.status !== 'SUCCEEDED') {
    return hourResult(hour, 'failed', {
      ...base,
      error: described.error ?? null,
      cause: readableCause(described.cause),
    });
  }
  // What the execution did, from its tenants' commit records: its output holds no commits.
  const commits = await recordedCommits(b, hour, name);
  const elsewhere = commits.some((c) => c.commit.outcome === 'publishing-elsewhere');
  const rows = commits.length ? commits.reduce((sum, c) => sum + c.commit.rows, 0) : null;
  const tenants =
    b.tenant === null && commits.some((c) => c.tenant !== null)
      ? commits.map((c) => ({ tenant: c.tenant ?? '', outcome: c.commit.outcome, rows: c.commit.rows }))
      : null;
  return hourResult(hour, elsewhere ? 'publishing-elsewhere' : 'published', { ...base, rows, tenants });
}

/** Skips a published hour, or starts its execution: the result, or the execution to watch. */
async function begin(b: Backfill, hour: number): Promise<HourResult | { name: string; arn: string }> {
  const { sfn, stateMachineArn } = b.input;
  if ((await b.input.records(hour)) === 'published') return hourResult(hour, 'already-published');
  for (let attempt = 1; attempt <= MAX_NAMES_PER_HOUR; attempt++) {
    const name = executionName(hour, attempt, b.tenant);
    const started = await startExecution(b, name, hour);
    if (started) return { name, arn: started };
    const arn = executionArn(stateMachineArn, name);
    const earlier = await describeExecution(sfn, arn);
    const redrivable = isFailed(earlier.status) ? redrivability(earlier, b.input.now()).redrivable : null;
    if (redrivable !== false) {
      const more = { execution: name, executionArn: arn, status: earlier.status ?? null, redrivable };
      return hourResult(hour, 'already-started', more);
    }
  }
  return hourResult(hour, 'already-started', {
    execution: executionName(hour, MAX_NAMES_PER_HOUR, b.tenant),
    redrivable: false,
  });
}

/** How many hours ended with each outcome. */
function summarize(results: readonly HourResult[]): Record<HourOutcome, number> {
  const summary: Record<HourOutcome, number> = {
    published: 0,
    'already-published': 0,
    'already-started': 0,
    'publishing-elsewhere': 0,
    failed: 0,
  };
  for (const r of results) summary[r.outcome]++;
  return summary;
}

/**
 * Collects the given hours: one execution per hour with input `{"hour": …}` (and `"tenants": [id]` for
 * one tenant), started oldest first, at most `concurrency` running at once, each watched until it ends.
 * Hours whose published windows cover them, as their commit records say (every tenant's, for all
 * tenants), are skipped without an execution; an execution of an hour collects only its windows that are
 * not published yet. Execution failures are results; an AWS API
 * failure stops starting new hours and is thrown (executions already started keep running).
 */
export async function backfill(input: BackfillInput): Promise<BackfillReport> {
  const b: Backfill = { input, tenant: input.tenant ?? null, failure: null };
  const queue = [...input.hours];
  const results: HourResult[] = [];

  // Hours begin one after another, in queue order, so executions start oldest first; they are watched
  // concurrently. (An hour right after the state advances it on commit; out of order, it could not.)
  let turn: Promise<unknown> = Promise.resolve();
  const collect = async (hour: number): Promise<HourResult> => {
    const begun = turn.then(() => begin(b, hour));
    turn = begun.catch(() => {});
    const next = await begun;
    return 'hour' in next ? next : watch(b, hour, next);
  };

  const worker = async () => {
    for (let hour = queue.shift(); hour !== undefined && b.failure === null; hour = queue.shift()) {
      let done: HourResult;
      try {
        done = await collect(hour);
      } catch (err) {
        if (!(err instanceof Error && err.name === 'StateCorrupt')) {
          b.failure ??= err;
          return;
        }
        // A commit record that cannot be read fails its hour only; the message says how to mend it.
        done = hourResult(hour, 'failed', { error: err.name, cause: err.message });
      }
      results.push(done);
      input.onProgress?.({ kind: 'finished', result: done });
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency, queue.length) }, worker));
  if (b.failure !== null) throw b.failure;

  results.sort((x, y) => x.hour.localeCompare(y.hour));
  const scope = input.listed
    ? { tenant: b.tenant, tenants: b.tenant === null ? input.listed : [b.tenant] }
    : {};
  return {
    stateMachineArn: input.stateMachineArn,
    ...scope,
    from: formatHour(input.hours[0] ?? 0),
    to: formatHour(input.hours.at(-1) ?? 0),
    hours: results,
    summary: summarize(results),
  };
}
