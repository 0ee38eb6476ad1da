import type { Collector } from './collector.ts';
import type { StorageLayout } from './config.ts';
import { BadConfiguration, RaisedAgain, TenantsFailed } from './errors.ts';
import type { ObjectStore, Telemetry } from './ports.ts';
import { describeIssues, type Tenant, tenantListSchema } from './schemas.ts';

/**
 * Every tenant one deployment collects, and what the steps around them need: the storage settings, the
 * work bucket (where the tenant list lives), and each tenant's collector. Built once per Lambda
 * container or per local run.
 */
export interface Fleet {
  readonly settings: StorageLayout;
  readonly work: ObjectStore;
  readonly log: Telemetry['log'];
  /** The collector of a listed tenant, or of the environment's one tenant (null). */
  collector(tenant: Tenant | null): Collector;
}

/** What the Tenants step hands to the map over tenants. */
export interface TenantsPlan {
  readonly runId: string;
  readonly input: Record<string, unknown>;
  /** The tenants to collect: listed ones, or `[null]` for the environment's one tenant. */
  readonly tenants: ReadonlyArray<Tenant | null>;
  readonly tenantConcurrency: number;
  /** Hours each tenant catches up at most in this execution: see {@link hoursPerTenant}. */
  readonly hoursPerTenant: number;
  /** Results of tenants collected by an earlier pass of this execution (before a redrive). */
  readonly earlier: readonly TenantResult[];
}

/** One tenant's outcome in the map over tenants: its plan and commits, or the failure the map caught. */
export interface TenantResult {
  readonly tenant: Tenant | null;
  readonly failure?: { readonly Error?: string; readonly Cause?: string };
  readonly [key: string]: unknown;
}

/**
 * What one execution may hold. Step Functions keeps at most 25,000 history events per execution and
 * 256 KiB per state's input or output; all tenants share one execution's history (an inline Map), and
 * the map over tenants hands every tenant's result to the Report step. Counted from runs
 * (`npm run bench`): a tenant adds 15 events (its iteration, Parallel, Plan and Hours map) and at
 * most 450 bytes (its entry of the list and its plan); each of its hours adds 13 events and about 100
 * bytes, plus 11 events and about 90 bytes per entity (its iteration, a page-fetch invocation, the
 * loop's Choice and Succeed; its counts in the commit result). The budgets leave a fifth of the history
 * to retries and to entity-hours that take more than one page-fetch invocation, and 22 KiB of the
 * payload.
 */
export const EXECUTION_LIMITS = {
  events: 20_000,
  bytes: 240_000,
  eventsPerTenant: 15,
  eventsPerHour: 13,
  eventsPerEntityHour: 11,
  bytesPerTenant: 450,
  bytesPerHour: 100,
  bytesPerEntityHour: 90,
} as const;

/**
 * The hours each tenant may catch up in one execution without the execution outgrowing
 * {@link EXECUTION_LIMITS}: MAX_HOURS_PER_RUN with a few tenants, fewer with many (a tenant left behind
 * catches up over the next runs), and never less than one. Null when even one hour per tenant does not fit:
 * the list is too long for one deployment.
 */
export function hoursPerTenant(tenants: number, entities: number, maxHoursPerRun: number): number | null {
  const L = EXECUTION_LIMITS;
  const byEvents =
    (L.events / tenants - L.eventsPerTenant) / (L.eventsPerHour + L.eventsPerEntityHour * entities);
  const byBytes = (L.bytes / tenants - L.bytesPerTenant) / (L.bytesPerHour + L.bytesPerEntityHour * entities);
  const fits = Math.floor(Math.min(byEvents, byBytes));
  return fits < 1 ? null : Math.min(maxHoursPerRun, fits);
}

const where = (fleet: Fleet) => `s3://${fleet.work.bucket}/${fleet.settings.tenantsKey}`;

/** The tenant list, or null when there is none (the environment then names the one tenant). */
export async function readTenantList(fleet: Fleet): Promise<Tenant[] | null> {
  const found = await fleet.work.get(fleet.settings.tenantsKey);
  if (!found) return null;
  let json: unknown;
  try {
    json = JSON.parse(found.body.toString('utf8'));
  } catch (err) {
    // Only where: V8's message can quote the document, and a malformed list may hold what it should not.
    const at = /at position \d+(?: \(line \d+ column \d+\))?/.exec((err as Error).message)?.[0];
    throw new BadConfiguration(
      `The tenant list ${where(fleet)} is not valid JSON${at ? ` (${at})` : ''}: fix the document (see README, "Many tenants"), or delete it to collect the one tenant of the environment.`,
    );
  }
  const parsed = tenantListSchema.safeParse(json);
  if (!parsed.success) {
    throw new BadConfiguration(
      `The tenant list ${where(fleet)} does not fit its schema (${describeIssues(parsed.error)}): fix the document (see README, "Many tenants").`,
    );
  }
  return parsed.data.tenants;
}

/**
 * Decides which tenants this execution collects: every listed tenant (or the ones the input's
 * `"tenants"` names), or the environment's one tenant when there is no list. Each tenant's configuration
 * is checked here, so a broken entry fails the run before any tenant starts, naming the entry.
 */
export async function planTenants(
  fleet: Fleet,
  input: Record<string, unknown>,
  runId: string,
): Promise<TenantsPlan> {
  const list = await readTenantList(fleet);
  const asked = input.tenants;
  if (
    asked !== undefined &&
    (!Array.isArray(asked) || asked.length === 0 || !asked.every((t) => typeof t === 'string'))
  ) {
    throw new BadConfiguration(
      `The execution input "tenants" is ${JSON.stringify(asked)}: expected a list of tenant ids such as ["acme"].`,
    );
  }
  let tenants: Array<Tenant | null>;
  if (list === null) {
    if (asked !== undefined) {
      throw new BadConfiguration(
        `The execution input names tenants (${asked.join(', ')}), but there is no tenant list at ${where(fleet)}: this deployment collects the one tenant of its environment.`,
      );
    }
    try {
      fleet.collector(null);
    } catch (err) {
      if (!(err instanceof BadConfiguration)) throw err;
      throw new BadConfiguration(
        `${err.message} With many tenants, put a tenant list at ${where(fleet)} instead (see README, "Many tenants").`,
      );
    }
    tenants = [null];
  } else {
    const unknown = (asked ?? []).filter((id) => !list.some((t) => t.id === id));
    if (unknown.length > 0) {
      throw new BadConfiguration(
        `The execution input names tenants not in the tenant list ${where(fleet)}: ${unknown.join(', ')} (listed: ${list.map((t) => t.id).join(', ')}).`,
      );
    }
    tenants = asked === undefined ? list : list.filter((t) => asked.includes(t.id));
    for (const tenant of tenants) fleet.collector(tenant);
  }
  const { maxHoursPerRun } = fleet.settings;
  const entities = Math.max(...tenants.map((t) => fleet.collector(t).config.entities.length));
  const hours = hoursPerTenant(tenants.length, entities, maxHoursPerRun);
  if (hours === null) {
    throw new BadConfiguration(
      `The tenant list ${where(fleet)} has ${tenants.length} tenants: with ${entities} entities each, one execution cannot hold even one hour of every tenant (Step Functions keeps 25,000 events per execution). Split the tenants over two deployments (each with its own TENANTS_KEY, S3_PREFIX and WORK_PREFIX); see README, "How many tenants".`,
    );
  }
  fleet.log('tenants planned', {
    execution: runId,
    tenants: tenants.map((t) => t?.id ?? null),
    list: list === null ? null : where(fleet),
    hoursPerTenant: hours,
    ...(hours < maxHoursPerRun ? { limitedFrom: maxHoursPerRun } : {}),
  });
  return {
    runId,
    input,
    tenants,
    tenantConcurrency: fleet.settings.tenantConcurrency,
    hoursPerTenant: hours,
    earlier: [],
  };
}

/**
 * The state after the map over tenants, stamped with the redrive count of the pass that made it. The
 * map's results replace the list of tenants (each result names its tenant), so a state holds each
 * tenant's entry once.
 */
export interface CollectedState extends Omit<TenantsPlan, 'tenants'> {
  readonly results: readonly TenantResult[];
  readonly collectedAtRedrive: number;
}

/** What the Report step hands on: done, or the failed tenants to collect again (on a redrive). */
export type ReportResult = Omit<TenantsPlan, 'tenants'> & {
  readonly tenants?: TenantsPlan['tenants'];
  readonly retry: boolean;
  readonly results: readonly TenantResult[];
};

/** The message of a caught failure: the Lambda's error message when its cause is the Lambda's JSON. */
function causeText(failure: NonNullable<TenantResult['failure']>): string {
  const cause = failure.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is the message itself
  }
  return cause;
}

const tenantName = (tenant: Tenant | null) => (tenant ? `tenant "${tenant.id}"` : 'the tenant');

/**
 * After the map over tenants. With no failure, the execution succeeds. With failures, on the pass that
 * made them, it fails the execution with {@link TenantsFailed}, naming each failed tenant and its
 * cause: every other tenant has committed its hours by then (the environment's one tenant fails under
 * its own error, as before tenant lists). On a redrive (the execution's redrive count
 * is past the pass's), it hands back the failed tenants alone to be collected again.
 */
export function reportTenants(fleet: Fleet, state: CollectedState, redriveCount: number): ReportResult {
  const failed = state.results.filter((r) => r.failure);
  const succeeded = [...state.earlier, ...state.results.filter((r) => !r.failure)];
  if (failed.length > 0 && redriveCount > state.collectedAtRedrive) {
    fleet.log('collecting the failed tenants again', {
      execution: state.runId,
      tenants: failed.map((r) => r.tenant?.id ?? null),
      redrive: redriveCount,
    });
    return { ...state, tenants: failed.map((r) => r.tenant), earlier: succeeded, results: [], retry: true };
  }
  const only = failed.length === 1 && failed[0]?.tenant === null ? failed[0] : undefined;
  if (only?.failure) {
    throw new RaisedAgain(only.failure.Error ?? 'Error', causeText(only.failure));
  }
  if (failed.length > 0) {
    for (const r of failed) {
      fleet.log('tenant failed', {
        execution: state.runId,
        tenant: r.tenant?.id ?? null,
        error: r.failure?.Error,
        cause: causeText(r.failure ?? {}),
      });
    }
    const total = state.earlier.length + state.results.length;
    const lines = failed.map(
      (r) => `${tenantName(r.tenant)}: ${r.failure?.Error ?? 'Error'}: ${causeText(r.failure ?? {})}`,
    );
    throw new TenantsFailed(
      `${failed.length} of ${total} tenants failed; the others committed their hours. ${lines.join(' | ')}. A failed tenant's state has not moved: redrive this execution to collect only the failed tenants again, or let the next scheduled run catch up.`,
    );
  }
  return { ...state, earlier: [], results: succeeded, retry: false };
}
