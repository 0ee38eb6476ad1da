import { ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { type Config, type StorageLayout, tenantLayout } from '../functions/domain/config.ts';
import { formatHour, HOUR_MS } from '../functions/domain/hours.ts';
import type { ObjectStore } from '../functions/domain/ports.ts';
import { readState, type State } from '../functions/domain/state-store.ts';
import {
  type Claimed,
  formatMinute,
  MINUTE_MS,
  newestDueEnd,
  nextGridPoint,
  windowOf,
  windowsBetween,
} from '../functions/domain/windows.ts';
import { AwsCallFailed, aws } from './errors.ts';
import {
  concernsTenant,
  describeFailed,
  type FailedExecution,
  forTenant,
  isFailed,
  listed,
} from './executions.ts';
import type { CommitRecords } from './records.ts';

/** Where the collector's windows are: their size, and how long each settles before it is due. */
type Windowing = Pick<StorageLayout, 'windowMinutes' | 'settleMinutes'>;

export interface StatusInput {
  readonly sfn: SFNClient;
  /** The work bucket (WORK_BUCKET): state file and commit records. */
  readonly work: ObjectStore;
  /** The commit records (WORK_PREFIX/commits/), for the windows being published and the next window. */
  readonly records: CommitRecords;
  readonly config: Pick<Config, 'stateKey' | 'windowMinutes' | 'settleMinutes' | 'maxHoursPerRun'>;
  /** The state machine's ARN, looked up (a Step Functions call) only once the state has been read. */
  readonly stateMachineArn: () => Promise<string>;
  readonly now: number;
  /** How many of the latest executions to list. */
  readonly limit: number;
  /** The feed counts as lagging when it is more than this many hours behind. */
  readonly lagAlarmHours: number;
  /**
   * With `--tenant`: the listed tenant (`config` is then its storage) and where its SecOps feed reads.
   * Only the failed executions that name it are listed as failed.
   */
  readonly tenant?: { readonly id: string; readonly published: string };
}

export interface ExecutionSummary {
  readonly name: string;
  readonly arn: string;
  readonly status: string;
  readonly startDate: string;
  readonly stopDate: string | null;
  /** Until it stopped, or until now while it runs. */
  readonly durationSeconds: number;
  readonly redriveCount: number;
}

/** A due window after the state that a run has claimed and not finished: who holds it, until when. */
export interface WindowBeingPublished {
  /** The window's start. */
  readonly start: string;
  /** The window's end. */
  readonly end: string;
  /** The run whose staged pages are published. */
  readonly run: string;
  /** The run that holds the lease: it alone may publish until `until`. */
  readonly holder: string;
  readonly until: string;
  /** The holder's process, for a local run (npm start, npm run collect); null for a Lambda. */
  readonly host: string | null;
  readonly pid: number | null;
  /** False once `until` has passed: the next run takes the window over. */
  readonly leaseLive: boolean;
}

/** The window a scheduled run collects next: where the state ends, up to the next point of the grid. */
export interface NextWindow {
  readonly start: string;
  readonly end: string;
  /** When it is due: SETTLE_MINUTES after its end. */
  readonly dueAt: string;
  /** Whether it is due now, so that the next scheduled run collects it. */
  readonly due: boolean;
}

/** A state file as status shows it. */
export interface StateLine {
  readonly location: string;
  /** `last_hour_utc`: the last whole hour published. */
  readonly lastHour: string | null;
  /** The end of the last window published (`last_window_end`, or the end of `last_hour_utc`). */
  readonly end: string | null;
  readonly updatedAt: string | null;
}

/** How far a state is behind, and what comes next: the same for one tenant and for each of a list. */
export interface Standing {
  /**
   * Minutes from the end of the last window published to the end of the newest due window (what the
   * collector reports as LagMinutes); null without a state file.
   */
  readonly lagMinutes: number | null;
  readonly next: NextWindow;
}

/**
 * What status says of the executions, and its health: the same for one tenant and for a tenant list.
 * When Step Functions cannot be reached, what was read from S3 is still reported: `executionsUnreadable`
 * names the call that failed, and the exit code is 3 unless what was read is already a problem (1).
 */
export interface ExecutionsPart {
  /** Null when it could not be looked up. */
  readonly stateMachineArn: string | null;
  readonly executions: readonly ExecutionSummary[];
  readonly failed: { readonly redrivable: FailedExecution[]; readonly notRedrivable: FailedExecution[] };
  /** Why the executions could not be read (the AWS call that failed), or null. */
  readonly executionsUnreadable: string | null;
  /** No problem in what could be read. */
  readonly healthy: boolean;
  /** Why it is not healthy, in words; empty when healthy. */
  readonly problems: readonly string[];
}

export interface StatusReport extends Standing, ExecutionsPart {
  /** With `--tenant`: the tenant, and its published prefix (`s3://S3_BUCKET/S3_PREFIX/<id>/`). */
  readonly tenant?: string;
  readonly published?: string;
  readonly state: StateLine;
  /** WINDOW_MINUTES and SETTLE_MINUTES: a window is due SETTLE_MINUTES after its end. */
  readonly windowMinutes: number;
  readonly settleMinutes: number;
  /** The end of the newest window that is due now. */
  readonly newestDueEnd: string;
  readonly lagAlarmHours: number;
  /** Windows the next scheduled run would collect whose commit record says a run is publishing them. */
  readonly publishing: readonly WindowBeingPublished[];
}

/** Which executions status lists: the last `limit` of the state machine, described at `now`. */
interface ExecutionsQuery {
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly limit: number;
  /** Now, in ms: the duration of an execution still running runs to it. */
  readonly now: number;
}

/** The last `limit` executions of the state machine, and the failed ones among them, described. */
async function lastExecutions({
  sfn,
  stateMachineArn,
  limit,
  now,
}: ExecutionsQuery): Promise<{ executions: ExecutionSummary[]; failed: FailedExecution[] }> {
  const page = await aws('Step Functions ListExecutions', () =>
    sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: limit })),
  );
  const items = (page.executions ?? []).map(listed);
  const executions = items.map((e) => ({
    name: e.name,
    arn: e.arn,
    status: e.status,
    startDate: e.startDate.toISOString(),
    stopDate: e.stopDate?.toISOString() ?? null,
    durationSeconds: Math.round(((e.stopDate?.getTime() ?? now) - e.startDate.getTime()) / 1000),
    redriveCount: e.redriveCount,
  }));
  const failed: FailedExecution[] = [];
  for (const item of items.filter((e) => isFailed(e.status)))
    failed.push(await describeFailed(sfn, item, now));
  return { executions, failed };
}

/**
 * The executions part of a report, after the state's problems (`stateProblems`) were found: the last
 * executions (with `tenant`, the failed ones that name it), and the health. An AWS call that fails here
 * leaves the executions unread, said in `executionsUnreadable`, instead of losing what S3 showed.
 */
async function executionsPart(
  input: Pick<StatusInput, 'sfn' | 'stateMachineArn' | 'limit' | 'now'>,
  tenant: string | null,
  stateProblems: readonly string[],
): Promise<ExecutionsPart> {
  let arn: string | null = null;
  let last: { executions: ExecutionSummary[]; failed: FailedExecution[] } = { executions: [], failed: [] };
  let executionsUnreadable: string | null = null;
  try {
    arn = await input.stateMachineArn();
    last = await lastExecutions({ sfn: input.sfn, stateMachineArn: arn, limit: input.limit, now: input.now });
  } catch (err) {
    if (!(err instanceof AwsCallFailed)) throw err;
    executionsUnreadable = err.message;
  }
  const failed =
    tenant === null
      ? last.failed
      : last.failed.filter((f) => concernsTenant(f, tenant)).map((f) => forTenant(f, tenant));
  const redrivable = failed.filter((f) => f.redrivable);
  const problems = [...stateProblems];
  if (redrivable.length)
    problems.push(
      `${redrivable.length} failed execution(s) can still be redriven (citrix-monitor redrive${tenant ? ` --tenant ${tenant}` : ''})`,
    );
  return {
    stateMachineArn: arn,
    executions: last.executions,
    failed: { redrivable, notRedrivable: failed.filter((f) => !f.redrivable) },
    executionsUnreadable,
    healthy: problems.length === 0,
    problems,
  };
}

/** Where a scheduled run starts: the state's end, or without a state the newest due window (as plan does). */
const startOf = (state: State, dueEnd: number, w: Windowing) =>
  state.end ?? dueEnd - w.windowMinutes * MINUTE_MS;

/** What a state's standing is measured against. */
interface StandingAt {
  /** The end of the newest window that is due now. */
  readonly dueEnd: number;
  readonly windowing: Windowing;
  /** The windows commit records of the next window's hour claim (a run of another window size, a backfill). */
  readonly claimed?: readonly Claimed[];
}

/**
 * A state's lag and next window at the newest due end `dueEnd`. The next window starts where the state
 * ends and runs to the next point of the WINDOW_MINUTES grid, unless a commit record of that hour
 * (`claimed`) says otherwise, as the collector plans it.
 */
function standing(state: State, { dueEnd, windowing: w, claimed = [] }: StandingAt): Standing {
  const from = startOf(state, dueEnd, w);
  const hourEnd = Math.floor(from / HOUR_MS) * HOUR_MS + HOUR_MS;
  const end =
    windowsBetween({ from, until: hourEnd, windowMinutes: w.windowMinutes, claimed })[0]?.end ??
    nextGridPoint(from, w.windowMinutes);
  return {
    lagMinutes: state.end === null ? null : Math.max(0, dueEnd - state.end) / MINUTE_MS,
    next: {
      start: formatMinute(from),
      end: formatMinute(end),
      dueAt: formatMinute(end + w.settleMinutes * MINUTE_MS),
      due: end <= dueEnd,
    },
  };
}

/** The state file as status shows it. */
function stateLine(state: State, location: string): StateLine {
  const updatedAt = state.file?.updated_at;
  return {
    location,
    lastHour: state.lastHourMs === null ? null : formatHour(state.lastHourMs),
    end: state.end === null ? null : formatMinute(state.end),
    updatedAt: typeof updatedAt === 'string' ? updatedAt : null,
  };
}

/** Why a lag is a problem: more than `lagAlarmHours` hours (the alarm's threshold) of minutes behind. */
function lagProblem(lagMinutes: number | null, lagAlarmHours: number, location: string): string | null {
  if (lagMinutes === null) return `no state file at ${location}: no window has been published yet`;
  return lagMinutes > lagAlarmHours * 60
    ? `the state is ${lagMinutes} minutes behind the newest due window end (alarm above ${lagAlarmHours} hours)`
    : null;
}

/** The windows a scheduled run would collect: from `from` to `dueEnd`, at most `maxHours` hours of them. */
interface ScheduledSpan {
  readonly from: number;
  readonly dueEnd: number;
  readonly maxHours: number;
  /** Now, in ms: a lease that ends later is live. */
  readonly now: number;
}

/**
 * The windows of `span` whose commit record says a run is publishing them, and the windows claimed in the
 * hour of `from`.
 */
async function claims(
  records: CommitRecords,
  { from, dueEnd, maxHours, now }: ScheduledSpan,
): Promise<{ claimed: Claimed[]; publishing: WindowBeingPublished[] }> {
  const until = Math.min(dueEnd, from + maxHours * HOUR_MS);
  const hours: number[] = [];
  for (let h = Math.floor(from / HOUR_MS) * HOUR_MS; h < until || hours.length === 0; h += HOUR_MS)
    hours.push(h);
  const found = await Promise.all(
    hours.map(async (h) =>
      (await records(h)).map((record) => ({
        record,
        ...windowOf(record.start, record.end, 'A commit record'),
      })),
    ),
  );
  const claimed = (found[0] ?? []).map(({ record, start, end }) => ({
    start,
    end,
    published: record.status === 'published',
  }));
  const publishing: WindowBeingPublished[] = [];
  for (const { record, start, end } of found.flat()) {
    if (record.status !== 'publishing' || start < from || start >= until) continue;
    const { holder, until: leaseEnd, host, pid } = record.lease;
    publishing.push({
      start: formatMinute(start),
      end: formatMinute(end),
      run: record.run,
      holder,
      until: leaseEnd,
      host: typeof host === 'string' ? host : null,
      pid: typeof pid === 'number' ? pid : null,
      leaseLive: Date.parse(leaseEnd) > now,
    });
  }
  return { claimed, publishing };
}

/**
 * The feed's health: how many minutes the state is behind the newest due window, the window collected
 * next, the latest executions, and the failed ones among them, split by whether Step Functions will still
 * redrive them. Healthy means the lag is within `lagAlarmHours` and no listed failure is waiting for a
 * redrive.
 */
export async function statusReport(input: StatusInput): Promise<StatusReport> {
  const { work, config, now } = input;
  const location = `s3://${work.bucket}/${config.stateKey}`;
  const state = await aws(`S3 GetObject ${location}`, () => readState(work, config));
  const dueEnd = newestDueEnd(now, config.windowMinutes, config.settleMinutes);
  const from = startOf(state, dueEnd, config);
  const { claimed, publishing } = await claims(input.records, {
    from,
    dueEnd,
    maxHours: config.maxHoursPerRun,
    now,
  });
  const { lagMinutes, next } = standing(state, { dueEnd, windowing: config, claimed });
  const lagging = lagProblem(lagMinutes, input.lagAlarmHours, location);
  const part = await executionsPart(input, input.tenant?.id ?? null, lagging === null ? [] : [lagging]);
  return {
    ...part,
    ...(input.tenant ? { tenant: input.tenant.id, published: input.tenant.published } : {}),
    state: stateLine(state, location),
    windowMinutes: config.windowMinutes,
    settleMinutes: config.settleMinutes,
    newestDueEnd: formatMinute(dueEnd),
    lagMinutes,
    lagAlarmHours: input.lagAlarmHours,
    next,
    publishing,
  };
}

export interface FleetStatusInput {
  readonly sfn: SFNClient;
  readonly work: ObjectStore;
  /** The environment's storage settings; each tenant's own is {@link tenantLayout} of them. */
  readonly layout: StorageLayout;
  /** The ids of the tenant list, and where it is. */
  readonly tenants: readonly string[];
  readonly tenantList: string;
  /** The state machine's ARN, looked up (a Step Functions call) only once the states have been read. */
  readonly stateMachineArn: () => Promise<string>;
  readonly now: number;
  readonly limit: number;
  readonly lagAlarmHours: number;
}

/** One tenant of the list in the overview: its state, lag and next window, or why its state cannot be read. */
export interface TenantLine {
  readonly id: string;
  readonly state: StateLine;
  readonly lagMinutes: number | null;
  /**
   * The window the next scheduled run collects for it, on the grid (the overview reads no commit record);
   * null when its state cannot be read.
   */
  readonly next: NextWindow | null;
  /** Its published prefix, what its SecOps feed reads. */
  readonly published: string;
  /** A state file that cannot be read (StateCorrupt): the message says how to mend it. */
  readonly error: string | null;
}

/** `status` of a deployment with a tenant list: a line per tenant, and the executions, which all share. */
export interface FleetStatusReport extends ExecutionsPart {
  readonly tenantList: string;
  readonly windowMinutes: number;
  readonly settleMinutes: number;
  readonly newestDueEnd: string;
  readonly lagAlarmHours: number;
  readonly tenants: readonly TenantLine[];
}

/**
 * Every listed tenant's state, lag and next window, and the last executions with the failed ones. Healthy
 * means every tenant has a state within `lagAlarmHours` of the newest due window end, and no listed
 * failure is waiting for a redrive. A tenant's windows being published are shown by `status --tenant`.
 */
export async function fleetStatusReport(input: FleetStatusInput): Promise<FleetStatusReport> {
  const { work, layout, now } = input;
  const dueEnd = newestDueEnd(now, layout.windowMinutes, layout.settleMinutes);
  const tenants = await Promise.all(
    input.tenants.map(async (id): Promise<TenantLine> => {
      const own = tenantLayout(layout, id);
      const location = `s3://${work.bucket}/${own.stateKey}`;
      const published = `s3://${layout.bucket}/${own.prefix}/`;
      try {
        const state = await aws(`S3 GetObject ${location}`, () => readState(work, own));
        return {
          id,
          state: stateLine(state, location),
          ...standing(state, { dueEnd, windowing: layout }),
          published,
          error: null,
        };
      } catch (err) {
        if (!(err instanceof Error && err.name === 'StateCorrupt')) throw err;
        const state = { location, lastHour: null, end: null, updatedAt: null };
        return { id, state, lagMinutes: null, next: null, published, error: err.message };
      }
    }),
  );
  const stateProblems: string[] = [];
  for (const t of tenants) {
    const problem = t.error ?? lagProblem(t.lagMinutes, input.lagAlarmHours, t.state.location);
    if (problem !== null) stateProblems.push(`tenant ${t.id}: ${problem}`);
  }
  return {
    ...(await executionsPart(input, null, stateProblems)),
    tenantList: input.tenantList,
    windowMinutes: layout.windowMinutes,
    settleMinutes: layout.settleMinutes,
    newestDueEnd: formatMinute(dueEnd),
    lagAlarmHours: input.lagAlarmHours,
    tenants,
  };
}
