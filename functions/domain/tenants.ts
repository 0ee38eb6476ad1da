import type { Collector } from './collector.ts';
import type { StorageLayout } from './config.ts';
import { BadConfiguration, RaisedAgain, StateCorrupt, TenantsFailed } from './errors.ts';
import type { ObjectStore, Telemetry } from './ports.ts';
import {
  describeIssues,
  type Tenant,
  type TenantFailure,
  tenantFailureSchema,
  tenantListSchema,
} from './schemas.ts';

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

/**
 * Which tenant a child execution of the map over tenants collects: its index in the run's tenant list
 * ({@link runTenantsKey}, written by the Tenants step), or null for the environment's one tenant. The
 * map's items are these, not the entries: at 5,000 tenants the list itself is larger than the 256 KiB
 * Step Functions allows a state's input, while 5,000 indexes are 24 KB.
 */
export type TenantRef = number | null;

/** What the Tenants step hands to the map over tenants (and a redriven Report step hands back). */
export interface TenantsPlan {
  readonly runId: string;
  /** The execution's start time: every tenant's plan is made at it, so a redrive plans what the run planned. */
  readonly startTime?: string | null;
  readonly input: Record<string, unknown>;
  /** The tenants this pass collects: indexes into the run's tenant list, or `[null]`. */
  readonly tenants: readonly TenantRef[];
  readonly tenantConcurrency: number;
  /** How many tenants the run collects in all (a redrive's pass collects the failed ones alone). */
  readonly total: number;
}

export type { TenantFailure };

/** Everything of one run that outlives its steps: its tenant list and its tenants' failures. */
const runPrefix = (fleet: Fleet, runId: string) => `${fleet.settings.workPrefix}/runs/${runId}`;

/** The tenant list as the run's Tenants step read it: every child of the run reads its entry here. */
export const runTenantsKey = (fleet: Fleet, runId: string) => `${runPrefix(fleet, runId)}/tenants.json`;

const failedPrefix = (fleet: Fleet, runId: string) => `${runPrefix(fleet, runId)}/failed/`;

/** A failed tenant's record; `_environment` (no tenant id has an underscore) for the environment's one tenant. */
const failureKey = (fleet: Fleet, runId: string, tenant: string | null) =>
  `${failedPrefix(fleet, runId)}${tenant ?? '_environment'}.json`;

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
 * is checked here, so a broken entry fails the run before any tenant starts, naming the entry. The list
 * as read is kept for the run ({@link runTenantsKey}): the children read their entries there, and a
 * redrive collects the tenants the run started with.
 */
export async function planTenants(
  fleet: Fleet,
  input: Record<string, unknown>,
  runId: string,
  startTime: string | null = null,
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
  const plan = { runId, startTime, input, tenantConcurrency: fleet.settings.tenantConcurrency };
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
    fleet.log('tenants planned', { execution: runId, tenants: [null], list: null });
    return { ...plan, tenants: [null], total: 1 };
  }
  const unknown = (asked ?? []).filter((id) => !list.some((t) => t.id === id));
  if (unknown.length > 0) {
    throw new BadConfiguration(
      `The execution input names tenants not in the tenant list ${where(fleet)}: ${unknown.join(', ')} (listed: ${list.map((t) => t.id).join(', ')}).`,
    );
  }
  const tenants = asked === undefined ? list : list.filter((t) => asked.includes(t.id));
  for (const tenant of tenants) fleet.collector(tenant);
  await fleet.work.put(runTenantsKey(fleet, runId), JSON.stringify({ tenants }), 'application/json');
  fleet.log('tenants planned', { execution: runId, tenants: tenants.length, list: where(fleet) });
  return { ...plan, tenants: tenants.map((_, i) => i), total: tenants.length };
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
  const parsed = found && tenantListSchema.safeParse(json);
  if (!parsed?.success) {
    throw new StateCorrupt(
      `The run's tenant list s3://${fleet.work.bucket}/${key} is ${found ? 'not a tenant list' : 'missing'}: the Tenants step writes it before any tenant starts. Start a new execution (a redrive cannot collect without it).`,
    );
  }
  cachedRuns.set(fleet.work, { key, tenants: parsed.data.tenants });
  return parsed.data.tenants;
}

/**
 * A tenant begins (again): any failure this run recorded for it is over. Called by its Plan step, so
 * the record goes only when the tenant is collected again, never before (a Report step that dies after
 * clearing could otherwise report a failed tenant as done).
 */
export async function clearFailure(fleet: Fleet, runId: string, tenant: Tenant | null): Promise<void> {
  await fleet.work.deleteAll([failureKey(fleet, runId, tenant?.id ?? null)]);
}

/** The message of a caught failure: the Lambda's error message when its cause is the Lambda's JSON. */
function causeText(cause: string | undefined): string {
  try {
    const parsed = JSON.parse(cause ?? '') as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is the message itself
  }
  return cause ?? '';
}

/** Longest cause kept in a failure record: a Lambda's error message can be long, and 5,000 of them are read at once. */
const MAX_CAUSE = 2_000;

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * Records the failure the map caught for one tenant, for the Report step. A record, not the map's
 * output: a child's output is part of the map's, which must stay under 256 KiB at any number of
 * failed tenants.
 */
export async function recordFailure(
  fleet: Fleet,
  runId: string,
  ref: TenantRef | Tenant,
  failure: { readonly Error?: string | undefined; readonly Cause?: string | undefined },
): Promise<TenantFailure> {
  let tenant: string | null;
  try {
    tenant = (await tenantOf(fleet, runId, ref))?.id ?? null;
  } catch (err) {
    if (!(err instanceof StateCorrupt)) throw err;
    tenant = `#${ref === null || typeof ref === 'object' ? '' : ref}`;
  }
  const cause = causeText(failure.Cause);
  const record: TenantFailure = {
    tenant,
    index: typeof ref === 'number' ? ref : null,
    error: failure.Error ?? 'Error',
    cause: cut(cause, MAX_CAUSE),
    at: new Date().toISOString(),
  };
  await fleet.work.put(failureKey(fleet, runId, tenant), JSON.stringify(record), 'application/json');
  fleet.log('tenant failed', { execution: runId, tenant, error: record.error, cause: record.cause });
  return record;
}

/** Every failure recorded for the run's tenants that have not begun again since. */
export async function readFailures(fleet: Fleet, runId: string): Promise<TenantFailure[]> {
  const keys = await fleet.work.list(failedPrefix(fleet, runId));
  const records = await Promise.all(
    keys.map(async (key) => {
      const found = await fleet.work.get(key);
      if (!found) return null;
      const parsed = tenantFailureSchema.safeParse(JSON.parse(found.body.toString('utf8')));
      if (!parsed.success) {
        throw new StateCorrupt(
          `The failure record s3://${fleet.work.bucket}/${key} does not fit its schema (${describeIssues(parsed.error)}): delete it and redrive, or start a new execution.`,
        );
      }
      return parsed.data;
    }),
  );
  return records
    .filter((r): r is TenantFailure => r !== null)
    .sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
}

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

/**
 * Failed tenants named in the TenantsFailed message, and the longest cause shown for each; the rest are
 * counted, and all are whole in their records. Step Functions keeps 32,768 characters of a cause.
 */
const NAMED_IN_MESSAGE = 50;
const CAUSE_IN_MESSAGE = 400;

const tenantName = (tenant: string | null) => (tenant ? `tenant "${tenant}"` : 'the tenant');

/**
 * After the map over tenants. With no failure recorded, the execution succeeds. With failures, on the
 * pass that made them, it fails the execution with {@link TenantsFailed}, naming each failed tenant
 * and its cause: every other tenant has committed its hours by then (the environment's one tenant
 * fails under its own error, as before tenant lists). On a redrive (the execution's redrive count is
 * past the pass's), it hands back the failed tenants alone to be collected again.
 */
export async function reportTenants(
  fleet: Fleet,
  state: CollectedState,
  redriveCount: number,
): Promise<ReportResult> {
  const { collectedAtRedrive: _, ...run } = state;
  const failed = await readFailures(fleet, state.runId);
  if (failed.length > 0 && redriveCount > state.collectedAtRedrive) {
    fleet.log('collecting the failed tenants again', {
      execution: state.runId,
      tenants: failed.map((f) => f.tenant),
      redrive: redriveCount,
    });
    return { ...run, tenants: failed.map((f) => f.index), retry: true };
  }
  const only = failed.length === 1 && failed[0]?.tenant === null ? failed[0] : undefined;
  if (only) throw new RaisedAgain(only.error, only.cause);
  if (failed.length > 0) {
    const lines = failed
      .slice(0, NAMED_IN_MESSAGE)
      .map((f) => `${tenantName(f.tenant)}: ${f.error}: ${cut(f.cause, CAUSE_IN_MESSAGE)}`);
    const more =
      failed.length > NAMED_IN_MESSAGE
        ? ` The other ${failed.length - NAMED_IN_MESSAGE} failed tenants are not named here: each has its record in s3://${fleet.work.bucket}/${failedPrefix(fleet, state.runId)}.`
        : '';
    throw new TenantsFailed(
      `${failed.length} of ${state.total} tenants failed; the others committed their hours. ${lines.join(' | ')}. A failed tenant's state has not moved: redrive this execution to collect only the failed tenants again, or let the next scheduled run catch up.${more}`,
    );
  }
  return { ...run, retry: false };
}
