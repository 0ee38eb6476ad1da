import { RaisedAgain, TenantsFailed } from './errors.ts';
import { failedPrefix, readFailures } from './failure-records.ts';
import { failuresOf } from './failures.ts';
import type { Fleet, TenantsPlan } from './fleet.ts';
import type { TenantFailure } from './schemas.ts';

/**
 * The state after the map over tenants, stamped with the redrive count of the pass that made it. The
 * map's own results are dropped (each child's failure is in its record): at 5,000 tenants they would
 * outgrow a state.
 */
export interface CollectedState extends Omit<TenantsPlan, 'tenants'> {
  readonly collectedAtRedrive: number;
}

/** What the Report step hands on: done, or the failed tenants to collect again (on a redrive). */
export type ReportResult = Omit<TenantsPlan, 'tenants'> & {
  readonly tenants?: TenantsPlan['tenants'];
  readonly retry: boolean;
};

/** A redrive's pass over the failed tenants: their failure records, and the execution's redrive count. */
interface RedrivePass {
  readonly failed: readonly TenantFailure[];
  readonly redriveCount: number;
}

/** A redrive's pass: the failed tenants alone, collected again. */
function collectAgain(fleet: Fleet, state: CollectedState, { failed, redriveCount }: RedrivePass) {
  const { collectedAtRedrive: _, ...run } = state;
  fleet.log('collecting the failed tenants again', {
    execution: state.runId,
    tenants: failed.map((f) => f.tenant),
    redrive: redriveCount,
  });
  return { ...run, tenants: failed.map((f) => f.index), retry: true };
}

/**
 * The error that fails the execution: TenantsFailed, or the environment's one tenant's own error (as
 * before tenant lists). Its message is the failures document (functions/domain/failures.ts) as JSON.
 */
function failureOf(fleet: Fleet, state: CollectedState, failed: readonly TenantFailure[]): Error {
  const records = `s3://${fleet.work.bucket}/${failedPrefix(fleet, state.runId)}`;
  const message = JSON.stringify(failuresOf(failed, state.total, records));
  const only = failed.length === 1 && failed[0]?.tenant === null ? failed[0] : undefined;
  return only ? new RaisedAgain(only.error, message) : new TenantsFailed(message);
}

/**
 * After the map over tenants. With no failure recorded, the execution succeeds. With failures, on the
 * pass that made them, it fails the execution naming each failed tenant, its hour, entity and cause (as
 * data, see {@link failureOf}): every other tenant has committed its hours by then. On a redrive (the
 * execution's redrive count is past the pass's), it hands back the failed tenants alone to be collected
 * again.
 */
export async function reportTenants(
  fleet: Fleet,
  state: CollectedState,
  redriveCount: number,
): Promise<ReportResult> {
  const failed = await readFailures(fleet, state.runId);
  if (failed.length === 0) {
    const { collectedAtRedrive: _, ...run } = state;
    return { ...run, retry: false };
  }
  if (redriveCount > state.collectedAtRedrive) return collectAgain(fleet, state, { failed, redriveCount });
  throw failureOf(fleet, state, failed);
}
