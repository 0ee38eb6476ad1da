import { ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { type Config, type StorageLayout, tenantLayout } from '../functions/domain/config.ts';
import { dueHours, formatHour, HOUR_MS, newestDueHour } from '../functions/domain/hours.ts';
import type { ObjectStore } from '../functions/domain/ports.ts';
import { readState } from '../functions/domain/state-store.ts';
import { aws } from './errors.ts';
import {
  concernsTenant,
  describeFailed,
  type FailedExecution,
  forTenant,
  isFailed,
  listed,
} from './executions.ts';
import type { CommitRecords } from './records.ts';

export interface StatusInput {
  readonly sfn: SFNClient;
  /** The work bucket (WORK_BUCKET): state file and commit records. */
  readonly work: ObjectStore;
  /** The commit records (WORK_PREFIX/commits/), for the hours being published. */
  readonly records: CommitRecords;
  readonly config: Pick<Config, 'stateKey' | 'lookbackMinutes' | 'maxHoursPerRun'>;
  readonly stateMachineArn: string;
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

/** A due hour after the state that a run has claimed and not finished: who holds it, until when. */
export interface HourBeingPublished {
  readonly hour: string;
  /** The run whose staged pages are published. */
  readonly run: string;
  /** The run that holds the lease: it alone may publish until `until`. */
  readonly holder: string;
  readonly until: string;
  /** The holder's process, for a local run (`citrix-monitor run`, npm run collect); null for a Lambda. */
  readonly host: string | null;
  readonly pid: number | null;
  /** False once `until` has passed: the next run takes the hour over. */
  readonly leaseLive: boolean;
}

export interface StatusReport {
  readonly stateMachineArn: string;
  /** With `--tenant`: the tenant, and its published prefix (`s3://S3_BUCKET/S3_PREFIX/<id>/`). */
  readonly tenant?: string;
  readonly published?: string;
  readonly state: {
    readonly location: string;
    readonly lastHour: string | null;
    readonly updatedAt: string | null;
  };
  readonly newestDueHour: string;
  /** Due hours not published yet (newest due − last hour); null without a state file. */
  readonly lagHours: number | null;
  readonly lagAlarmHours: number;
  readonly executions: readonly ExecutionSummary[];
  readonly failed: { readonly redrivable: FailedExecution[]; readonly notRedrivable: FailedExecution[] };
  /** Hours the next scheduled run would collect whose commit record says a run is publishing them. */
  readonly publishing: readonly HourBeingPublished[];
  readonly healthy: boolean;
  /** Why it is not healthy, in words; empty when healthy. */
  readonly problems: readonly string[];
}

/**
 * The feed's health: how far the state is behind the newest due hour, the latest executions, and the
 * failed ones among them, split by whether Step Functions will still redrive them. Healthy means the lag
 * is within `lagAlarmHours` and no listed failure is waiting for a redrive.
 */
/** The last `limit` executions of the state machine, and the failed ones among them, described. */
async function lastExecutions(
  sfn: SFNClient,
  stateMachineArn: string,
  limit: number,
  now: number,
): Promise<{ executions: ExecutionSummary[]; failed: FailedExecution[] }> {
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

const redriveProblem = (redrivable: readonly FailedExecution[], tenant: string | null): string[] =>
  redrivable.length
    ? [
        `${redrivable.length} failed execution(s) can still be redriven (citrix-monitor redrive${tenant ? ` --tenant ${tenant}` : ''})`,
      ]
    : [];

export async function statusReport(input: StatusInput): Promise<StatusReport> {
  const { sfn, work, config, now } = input;
  const location = `s3://${work.bucket}/${config.stateKey}`;
  const state = await aws(`S3 GetObject ${location}`, () => readState(work, config));
  const last = await lastExecutions(sfn, input.stateMachineArn, input.limit, now);
  const executions = last.executions;
  const id = input.tenant?.id;
  const failed =
    id === undefined
      ? last.failed
      : last.failed.filter((f) => concernsTenant(f, id)).map((f) => forTenant(f, id));

  const due = newestDueHour(now, config.lookbackMinutes);
  const publishing: HourBeingPublished[] = [];
  const next = dueHours(state.lastHour, due, config.maxHoursPerRun);
  for (const [i, record] of (await Promise.all(next.map((h) => input.records(h)))).entries()) {
    if (record?.status !== 'publishing') continue;
    const { holder, until, host, pid } = record.lease;
    publishing.push({
      hour: formatHour(next[i] ?? 0),
      run: record.run,
      holder,
      until,
      host: typeof host === 'string' ? host : null,
      pid: typeof pid === 'number' ? pid : null,
      leaseLive: Date.parse(until) > now,
    });
  }
  const lagHours = state.lastHour === null ? null : Math.max(0, (due - state.lastHour) / HOUR_MS);
  const redrivable = failed.filter((f) => f.redrivable);
  const problems: string[] = [];
  if (lagHours === null) problems.push(`no state file at ${location}: no hour has been published yet`);
  else if (lagHours > input.lagAlarmHours)
    problems.push(
      `the state is ${lagHours} hours behind the newest due hour (alarm above ${input.lagAlarmHours})`,
    );
  problems.push(...redriveProblem(redrivable, id ?? null));
  const updatedAt = state.file?.updated_at;
  return {
    stateMachineArn: input.stateMachineArn,
    ...(input.tenant ? { tenant: input.tenant.id, published: input.tenant.published } : {}),
    state: {
      location,
      lastHour: state.lastHour === null ? null : formatHour(state.lastHour),
      updatedAt: typeof updatedAt === 'string' ? updatedAt : null,
    },
    newestDueHour: formatHour(due),
    lagHours,
    lagAlarmHours: input.lagAlarmHours,
    executions,
    failed: { redrivable, notRedrivable: failed.filter((f) => !f.redrivable) },
    publishing,
    healthy: problems.length === 0,
    problems,
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
  readonly stateMachineArn: string;
  readonly now: number;
  readonly limit: number;
  readonly lagAlarmHours: number;
}

/** One tenant of the list in the overview: its state and lag, or why its state file cannot be read. */
export interface TenantLine {
  readonly id: string;
  readonly state: {
    readonly location: string;
    readonly lastHour: string | null;
    readonly updatedAt: string | null;
  };
  readonly lagHours: number | null;
  /** Its published prefix, what its SecOps feed reads. */
  readonly published: string;
  /** A state file that cannot be read (StateCorrupt): the message says how to mend it. */
  readonly error: string | null;
}

/** `status` of a deployment with a tenant list: a line per tenant, and the executions, which all share. */
export interface FleetStatusReport {
  readonly stateMachineArn: string;
  readonly tenantList: string;
  readonly newestDueHour: string;
  readonly lagAlarmHours: number;
  readonly tenants: readonly TenantLine[];
  readonly executions: readonly ExecutionSummary[];
  readonly failed: { readonly redrivable: FailedExecution[]; readonly notRedrivable: FailedExecution[] };
  readonly healthy: boolean;
  readonly problems: readonly string[];
}

/**
 * Every listed tenant's state and lag, and the last executions with the failed ones. Healthy means every
 * tenant has a state within `lagAlarmHours` of the newest due hour, and no listed failure is waiting for a
 * redrive. A tenant's hours being published are shown by `status --tenant`.
 */
export async function fleetStatusReport(input: FleetStatusInput): Promise<FleetStatusReport> {
  const { sfn, work, layout, now } = input;
  const due = newestDueHour(now, layout.lookbackMinutes);
  const tenants = await Promise.all(
    input.tenants.map(async (id): Promise<TenantLine> => {
      const own = tenantLayout(layout, id);
      const location = `s3://${work.bucket}/${own.stateKey}`;
      const published = `s3://${layout.bucket}/${own.prefix}/`;
      try {
        const state = await aws(`S3 GetObject ${location}`, () => readState(work, own));
        const updatedAt = state.file?.updated_at;
        return {
          id,
          state: {
            location,
            lastHour: state.lastHour === null ? null : formatHour(state.lastHour),
            updatedAt: typeof updatedAt === 'string' ? updatedAt : null,
          },
          lagHours: state.lastHour === null ? null : Math.max(0, (due - state.lastHour) / HOUR_MS),
          published,
          error: null,
        };
      } catch (err) {
        if (!(err instanceof Error && err.name === 'StateCorrupt')) throw err;
        const state = { location, lastHour: null, updatedAt: null };
        return { id, state, lagHours: null, published, error: err.message };
      }
    }),
  );
  const { executions, failed } = await lastExecutions(sfn, input.stateMachineArn, input.limit, now);
  const redrivable = failed.filter((f) => f.redrivable);
  const problems: string[] = [];
  for (const t of tenants) {
    if (t.error !== null) problems.push(`tenant ${t.id}: ${t.error}`);
    else if (t.lagHours === null)
      problems.push(`tenant ${t.id}: no state file at ${t.state.location}: no hour has been published yet`);
    else if (t.lagHours > input.lagAlarmHours)
      problems.push(
        `tenant ${t.id}: the state is ${t.lagHours} hours behind the newest due hour (alarm above ${input.lagAlarmHours})`,
      );
  }
  problems.push(...redriveProblem(redrivable, null));
  return {
    stateMachineArn: input.stateMachineArn,
    tenantList: input.tenantList,
    newestDueHour: formatHour(due),
    lagAlarmHours: input.lagAlarmHours,
    tenants,
    executions,
    failed: { redrivable, notRedrivable: failed.filter((f) => !f.redrivable) },
    healthy: problems.length === 0,
    problems,
  };
}
