import { paginateListExecutions, RedriveExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { parseHour } from '../functions/domain/hours.ts';
import { aws, awsCallFailure } from './errors.ts';
import {
  concernsTenant,
  describeFailed,
  FAILED_STATUSES,
  type FailedExecution,
  forTenant,
  insteadOf,
  type Listed,
  listed,
} from './executions.ts';
import type { TenantRecords } from './records.ts';

export interface RedriveInput {
  readonly sfn: SFNClient;
  readonly records: TenantRecords;
  readonly stateMachineArn: string;
  /** Failed executions that stopped at or after this instant are considered. */
  readonly since: number;
  readonly now: number;
  /** `--stage …` / `--region …` to repeat in the suggested commands, with a leading space, or ''. */
  readonly targetFlags: string;
  /**
   * `--tenant`: only the failed executions whose failure names this tenant (`tenant "id"`), or that were
   * started for it alone. Null: every failed execution.
   */
  readonly tenant?: string | null;
}

export type Redriven = FailedExecution & {
  readonly redriveDate: string;
  /** The tenants the redrive collects again: the execution's failed ones (null: not a TenantsFailed). */
  readonly reruns: readonly string[] | null;
};

export interface RedriveReport {
  readonly stateMachineArn: string;
  readonly since: string;
  /** With `--tenant`: the tenant, and the failed executions left alone because they do not name it. */
  readonly tenant?: string;
  readonly otherTenants?: readonly string[];
  readonly redriven: readonly Redriven[];
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

/** Whether the hour of every tenant the failure concerns has been published since. */
async function publishedSince(
  input: RedriveInput,
  failed: FailedExecution,
  tenant: string | null,
): Promise<boolean> {
  const wanted: Array<[string | null, readonly string[] | null]> = failed.failedTenants?.length
    ? failed.failedTenants.map((t) => [t.hour, [t.tenant]])
    : [[failed.hour, tenant === null ? failed.tenants : [tenant]]];
  for (const [text, tenants] of wanted) {
    const hour = text === null ? null : parseHour(text);
    if (hour === null || (await input.records(hour, tenants)) !== 'published') return false;
  }
  return true;
}

/** A failed execution that is not redriven: published since (nothing to do), or the backfill instead. */
async function notRedriven(
  input: RedriveInput,
  failed: FailedExecution,
  tenant: string | null,
): Promise<NotRedriven> {
  const published = await publishedSince(input, failed, tenant);
  const hours = failed.failedTenants?.length
    ? [...new Set(failed.failedTenants.map((t) => t.hour))]
    : [failed.hour];
  const next = !published
    ? insteadOf(failed, input.targetFlags)
    : hours.length === 1
      ? `nothing: hour ${hours[0]} has been published since (its commit records say so)`
      : `nothing: hours ${hours.join(', ')} have been published since (their commit records say so)`;
  return { ...failed, published, instead: next };
}

/** One failed execution to redrive, and what the redrive covers. */
interface RedriveTarget {
  /** The execution (with `tenant`, as it concerns that tenant). */
  readonly failed: FailedExecution;
  /** The tenants the redrive collects again: the execution's failed ones (null: not a TenantsFailed). */
  readonly reruns: string[] | null;
  /** The one tenant the redrive is for (`--tenant`), or null for every tenant. */
  readonly tenant: string | null;
}

/** Redrives one failed execution: the redrive, or why Step Functions would not and what to do instead. */
async function redriveOne(
  input: RedriveInput,
  { failed, reruns, tenant }: RedriveTarget,
): Promise<Redriven | NotRedriven> {
  if (!failed.redrivable) return notRedriven(input, failed, tenant);
  try {
    const out = await input.sfn.send(new RedriveExecutionCommand({ executionArn: failed.arn }));
    const redriveDate = (out.redriveDate ?? new Date(input.now)).toISOString();
    return { ...failed, redriveDate, reruns } satisfies Redriven;
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ExecutionNotRedrivable'))
      throw awsCallFailure(`Step Functions RedriveExecution ${failed.name}`, err);
    return notRedriven(input, { ...failed, redrivable: false, reason: err.message }, tenant);
  }
}

/**
 * Redrives every failed (FAILED, TIMED_OUT, ABORTED) execution that stopped since `since`, oldest first
 * (with `tenant`, those that name it). A redrive re-runs only the failed Map iterations from where they
 * stopped; of a TenantsFailed execution, every failed tenant and only those. The commit records keep it
 * exactly once. Those Step Functions will not redrive (past 14 days, or its own reason) are reported with
 * the backfill command that collects their hour instead.
 */
export async function redriveFailed(input: RedriveInput): Promise<RedriveReport> {
  const tenant = input.tenant ?? null;
  const redriven: Redriven[] = [];
  const notRedrivable: NotRedriven[] = [];
  const otherTenants: string[] = [];
  for (const item of await failedSince(input.sfn, input.stateMachineArn, input.since)) {
    const described = await describeFailed(input.sfn, item, input.now);
    if (tenant !== null && !concernsTenant(described, tenant)) {
      otherTenants.push(described.name);
      continue;
    }
    const failed = tenant === null ? described : forTenant(described, tenant);
    const reruns = described.failedTenants?.map((t) => t.tenant) ?? null;
    const outcome = await redriveOne(input, { failed, reruns, tenant });
    if ('redriveDate' in outcome) redriven.push(outcome);
    else notRedrivable.push(outcome);
  }
  return {
    stateMachineArn: input.stateMachineArn,
    since: new Date(input.since).toISOString(),
    ...(tenant === null ? {} : { tenant, otherTenants }),
    redriven,
    notRedrivable,
  };
}
