import { paginateListExecutions, RedriveExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { parseHour } from '../functions/domain/hours.ts';
import { AwsCallFailed, aws } from './errors.ts';
import {
  describeFailed,
  FAILED_STATUSES,
  type FailedExecution,
  instead,
  type Listed,
  listed,
} from './executions.ts';
import type { HourRecords } from './records.ts';

export interface RedriveInput {
  readonly sfn: SFNClient;
  readonly records: HourRecords;
  readonly stateMachineArn: string;
  /** Failed executions that stopped at or after this instant are considered. */
  readonly since: number;
  readonly now: number;
  /** `--stage …` / `--region …` to repeat in the suggested commands, with a leading space, or ''. */
  readonly targetFlags: string;
}

export interface RedriveReport {
  readonly stateMachineArn: string;
  readonly since: string;
  readonly redriven: ReadonlyArray<FailedExecution & { readonly redriveDate: string }>;
  /**
   * Failed executions Step Functions will not redrive, why, and what to run instead; `published` when
   * their hour has been published since (by a later run or a backfill), so nothing is left to do.
   */
  readonly notRedrivable: ReadonlyArray<NotRedriven>;
}

export type NotRedriven = FailedExecution & { readonly published: boolean; readonly instead: string };

/** Executions of this state machine last minutes to hours: one that started a day before `since` stopped before it. */
const LONGEST_RUN_MS = 24 * 3_600_000;

async function failedSince(sfn: SFNClient, stateMachineArn: string, since: number): Promise<Listed[]> {
  const found: Listed[] = [];
  for (const statusFilter of FAILED_STATUSES) {
    await aws(`Step Functions ListExecutions (${statusFilter})`, async () => {
      const pages = paginateListExecutions({ client: sfn, pageSize: 100 }, { stateMachineArn, statusFilter });
      for await (const page of pages) {
        const items = (page.executions ?? []).map(listed);
        found.push(...items.filter((e) => (e.stopDate?.getTime() ?? 0) >= since));
        // Newest first: once a page reaches executions started well before `since`, older pages hold none.
        if ((items.at(-1)?.startDate.getTime() ?? 0) < since - LONGEST_RUN_MS) break;
      }
    });
  }
  return found.sort((a, b) => (a.stopDate?.getTime() ?? 0) - (b.stopDate?.getTime() ?? 0));
}

/**
 * Redrives every failed (FAILED, TIMED_OUT, ABORTED) execution that stopped since `since`, oldest first.
 * A redrive re-runs only the failed Map iterations from where they stopped; the commit records keep it
 * exactly once. Those Step Functions will not redrive (past 14 days, or its own reason) are reported with
 * the backfill command that collects their hour instead.
 */
export async function redriveFailed(input: RedriveInput): Promise<RedriveReport> {
  const { sfn } = input;
  const redriven: Array<FailedExecution & { redriveDate: string }> = [];
  const notRedrivable: NotRedriven[] = [];
  const notRedriven = async (failed: FailedExecution): Promise<NotRedriven> => {
    const hour = failed.hour === null ? null : parseHour(failed.hour);
    const published = hour !== null && (await input.records(hour)) === 'published';
    const next = published
      ? `nothing: hour ${failed.hour} has been published since (its commit record says so)`
      : instead(failed.hour, input.targetFlags);
    return { ...failed, published, instead: next };
  };
  for (const item of await failedSince(sfn, input.stateMachineArn, input.since)) {
    const failed = await describeFailed(sfn, item, input.now);
    if (!failed.redrivable) {
      notRedrivable.push(await notRedriven(failed));
      continue;
    }
    try {
      const out = await sfn.send(new RedriveExecutionCommand({ executionArn: failed.arn }));
      redriven.push({ ...failed, redriveDate: (out.redriveDate ?? new Date(input.now)).toISOString() });
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ExecutionNotRedrivable'))
        throw new AwsCallFailed(`Step Functions RedriveExecution ${failed.name}`, err);
      notRedrivable.push(await notRedriven({ ...failed, redrivable: false, reason: err.message }));
    }
  }
  return {
    stateMachineArn: input.stateMachineArn,
    since: new Date(input.since).toISOString(),
    redriven,
    notRedrivable,
  };
}
