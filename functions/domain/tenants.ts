/**
 * The tenants of a run, by job: the Fleet port (fleet.ts), reading the tenant list (tenant-list.ts),
 * planning the run (plan-tenants.ts), the failure records (failure-records.ts), the report after the
 * map over tenants and its redrive (report-tenants.ts), and the failures as data (failures.ts).
 * Re-exported here, where the handlers and the local runner import them.
 */
export { clearFailure, readFailures, recordFailure } from './failure-records.ts';
export {
  describeFailures,
  type FailedTenant,
  type Failures,
  failureLine,
  failuresSchema,
  parseFailures,
} from './failures.ts';
export { type Fleet, runTenantsKey, type TenantRef, type TenantsPlan } from './fleet.ts';
export { planTenants } from './plan-tenants.ts';
export { type CollectedState, type ReportResult, reportTenants } from './report-tenants.ts';
export type { TenantFailure } from './schemas.ts';
export { readTenantList, runTenants, tenantOf } from './tenant-list.ts';
