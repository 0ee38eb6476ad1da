import { BadConfiguration, StateCorrupt } from './errors.ts';
import { type Fleet, RUN_RECORDS_DAYS, runTenantsKey, type TenantRef, tenantListUrl } from './fleet.ts';
import type { ObjectStore } from './ports.ts';
import { describeIssues, type Tenant, tenantListSchema } from './schemas.ts';

/** Where V8's JSON.parse message says the document went wrong, and nothing else of it. */
const positionIn = (err: unknown): string | undefined =>
  err instanceof Error ? /at position \d+(?: \(line \d+ column \d+\))?/.exec(err.message)?.[0] : undefined;

/** The tenant list, or null when there is none (the environment then names the one tenant). */
export async function readTenantList(fleet: Fleet): Promise<Tenant[] | null> {
  const found = await fleet.work.get(fleet.settings.tenantsKey);
  if (!found) return null;
  let json: unknown;
  try {
    json = JSON.parse(found.body.toString('utf8'));
  } catch (err) {
    // Only where: V8's message can quote the document, and a malformed list may hold what it should not.
    const at = positionIn(err);
    throw new BadConfiguration(
      `The tenant list ${tenantListUrl(fleet)} is not valid JSON${at ? ` (${at})` : ''}: fix the document (see docs/many-tenants.md, "The tenant list"), or delete it to collect the one tenant of the environment.`,
    );
  }
  const parsed = tenantListSchema.safeParse(json);
  if (!parsed.success) {
    throw new BadConfiguration(
      `The tenant list ${tenantListUrl(fleet)} does not fit its schema (${describeIssues(parsed.error)}): fix the document (see docs/many-tenants.md, "The tenant list").`,
    );
  }
  return parsed.data.tenants;
}

/** The last run's tenant list each store read, by key: the children of a run that one container serves read one document. */
const cachedRuns = new WeakMap<ObjectStore, { key: string; tenants: readonly Tenant[] }>();

/**
 * The tenant a child collects: the entry at `ref` in the run's tenant list, the environment's one
 * tenant for null, or the entry itself (the events of state machines from before run lists carried it).
 */
export async function tenantOf(fleet: Fleet, runId: string, ref: TenantRef | Tenant): Promise<Tenant | null> {
  if (ref === null || typeof ref === 'object') return ref;
  const key = runTenantsKey(fleet, runId);
  const tenants = await runTenants(fleet, runId);
  const tenant = tenants[ref];
  if (!tenant) {
    throw new StateCorrupt(
      `The run's tenant list s3://${fleet.work.bucket}/${key} has ${tenants.length} tenants, not a tenant ${ref}: start a new execution.`,
    );
  }
  return tenant;
}

/** The run's tenant list ({@link runTenantsKey}), read once per store and run. */
export async function runTenants(fleet: Fleet, runId: string): Promise<readonly Tenant[]> {
  const key = runTenantsKey(fleet, runId);
  const cached = cachedRuns.get(fleet.work);
  if (cached?.key === key) return cached.tenants;
  const found = await fleet.work.get(key);
  let json: unknown = null;
  try {
    json = found && JSON.parse(found.body.toString('utf8'));
  } catch {
    // not JSON: refused below, as any document that is not a tenant list
  }
  if (!found) {
    throw new StateCorrupt(
      `The run's tenant list s3://${fleet.work.bucket}/${key} is missing: the Tenants step writes it when the execution starts, and it expires ${RUN_RECORDS_DAYS} days later (the bucket's lifecycle rule expire-run-records), so a redrive that comes later cannot tell which tenants the run collects. Start a new execution instead: the next scheduled run collects every tenant from its state, and the input {"hour": "…"} collects one hour.`,
    );
  }
  const parsed = tenantListSchema.safeParse(json);
  if (!parsed.success) {
    throw new StateCorrupt(
      `The run's tenant list s3://${fleet.work.bucket}/${key} is not a tenant list: the Tenants step writes it before any tenant starts. Start a new execution (a redrive cannot collect without it).`,
    );
  }
  cachedRuns.set(fleet.work, { key, tenants: parsed.data.tenants });
  return parsed.data.tenants;
}
