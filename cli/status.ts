import { ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { Config } from '../functions/domain/config.ts';
import { dueHours, formatHour, HOUR_MS, newestDueHour } from '../functions/domain/hours.ts';
import type { ObjectStore } from '../functions/domain/ports.ts';
import { readState } from '../functions/domain/state-store.ts';
import { aws } from './errors.ts';
import { describeFailed, type FailedExecution, isFailed, listed } from './executions.ts';
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
export async function statusReport(input: StatusInput): Promise<StatusReport> {
  const { sfn, work, config, now } = input;
  const location = `s3://${work.bucket}/${config.stateKey}`;
  const state = await aws(`S3 GetObject ${location}`, () => readState(work, config));
  const page = await aws('Step Functions ListExecutions', () =>
    sfn.send(new ListExecutionsCommand({ stateMachineArn: input.stateMachineArn, maxResults: input.limit })),
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
  if (redrivable.length)
    problems.push(`${redrivable.length} failed execution(s) can still be redriven (citrix-monitor redrive)`);
  const updatedAt = state.file?.updated_at;
  return {
    stateMachineArn: input.stateMachineArn,
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
