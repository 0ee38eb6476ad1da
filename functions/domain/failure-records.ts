import { z } from 'zod';
import { StateCorrupt } from './errors.ts';
import { type Fleet, runPrefix, type TenantRef } from './fleet.ts';
import {
  describeIssues,
  type FailedAt,
  failedAtSchema,
  type Tenant,
  type TenantFailure,
  tenantFailureSchema,
} from './schemas.ts';
import { tenantOf } from './tenant-list.ts';

/** Where the run's failure records are: one per failed tenant. */
export const failedPrefix = (fleet: Fleet, runId: string) => `${runPrefix(fleet, runId)}/failed/`;

/** A failed tenant's record; `_environment` (no tenant id has an underscore) for the environment's one tenant. */
const failureKey = (fleet: Fleet, runId: string, tenant: string | null) =>
  `${failedPrefix(fleet, runId)}${tenant ?? '_environment'}.json`;

/**
 * A tenant begins (again): any failure this run recorded for it is over. Called by its Plan step, so
 * the record goes only when the tenant is collected again, never before (a Report step that dies after
 * clearing could otherwise report a failed tenant as done).
 */
export async function clearFailure(fleet: Fleet, runId: string, tenant: Tenant | null): Promise<void> {
  await fleet.work.deleteAll([failureKey(fleet, runId, tenant?.id ?? null)]);
}

/** A Lambda's failure as Step Functions catches it: its error JSON. */
const lambdaErrorSchema = z.looseObject({ errorMessage: z.string() });

/** The JSON a cause holds, or undefined when it holds none. */
function jsonOf(cause: string | undefined): unknown {
  try {
    return JSON.parse(cause ?? '');
  } catch {
    return undefined;
  }
}

/** The message of a caught failure: the Lambda's error message when its cause is the Lambda's JSON. */
function causeText(cause: string | undefined): string {
  const parsed = lambdaErrorSchema.safeParse(jsonOf(cause));
  return parsed.success ? parsed.data.errorMessage : (cause ?? ''); // not the Lambda's: the cause is the message
}

/**
 * The window and entity of a caught failure, and the cause caught in the Task: when a window's FetchPages
 * or Commit failed, the state machine leads the cause with the JSON of the fields it kept beside the error
 * (statemachine/collector.asl.ts, `failedAt`; that JSON holds no nested object, so it ends at the first
 * `}`). Null for a failure outside them (a Plan's, say).
 */
function failedAtOf(cause: string | undefined): { at: FailedAt; cause: string } | null {
  const end = (cause ?? '').indexOf('}') + 1;
  const parsed = end > 0 ? failedAtSchema.safeParse(jsonOf(cause?.slice(0, end))) : null;
  return parsed?.success ? { at: parsed.data, cause: (cause ?? '').slice(end + 1) } : null;
}

/** Longest cause kept in a failure record: a Lambda's error message can be long, and 5,000 of them are read at once. */
const MAX_CAUSE = 2_000;

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** The id a failure is recorded under: the tenant's, or `#index` when the run's list cannot say it. */
async function failedTenantId(fleet: Fleet, runId: string, ref: TenantRef | Tenant): Promise<string | null> {
  try {
    return (await tenantOf(fleet, runId, ref))?.id ?? null;
  } catch (err) {
    if (!(err instanceof StateCorrupt)) throw err;
    return `#${ref === null || typeof ref === 'object' ? '' : ref}`;
  }
}

/** The failure the map over tenants caught for one tenant of a run (the Failed step's event). */
export interface CaughtFailure {
  readonly runId: string;
  /** The tenant: its index in the run's list, the tenant itself, or null for the environment's one. */
  readonly tenant: TenantRef | Tenant;
  /** The error and cause the map caught. */
  readonly failure: { readonly Error?: string | undefined; readonly Cause?: string | undefined };
}

/**
 * Records the failure the map caught for one tenant, for the Report step. A record, not the map's
 * output: a child's output is part of the map's, which must stay under 256 KiB at any number of
 * failed tenants.
 */
export async function recordFailure(
  fleet: Fleet,
  { runId, tenant: ref, failure }: CaughtFailure,
): Promise<TenantFailure> {
  const tenant = await failedTenantId(fleet, runId, ref);
  const located = failedAtOf(failure.Cause);
  const record: TenantFailure = {
    tenant,
    index: typeof ref === 'number' ? ref : null,
    error: failure.Error ?? 'Error',
    cause: cut(causeText(located ? located.cause : failure.Cause), MAX_CAUSE),
    window: located && { start: located.at.start, end: located.at.end },
    entity: located?.at.entity ?? null,
    at: new Date().toISOString(),
  };
  await fleet.work.put(failureKey(fleet, runId, tenant), JSON.stringify(record), 'application/json');
  const { error, cause, window, entity } = record;
  fleet.log('tenant failed', { execution: runId, tenant, error, cause, window, entity });
  return record;
}

/** One failure record, or a StateCorrupt that says which and what to do. */
function parseRecord(fleet: Fleet, key: string, text: string): TenantFailure {
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: refused below, as any document that is not a failure record
  }
  const parsed = tenantFailureSchema.safeParse(json);
  if (!parsed.success) {
    throw new StateCorrupt(
      `The failure record s3://${fleet.work.bucket}/${key} does not fit its schema (${describeIssues(parsed.error)}): delete it and redrive, or start a new execution.`,
    );
  }
  return parsed.data;
}

/** Every failure recorded for the run's tenants that have not begun again since, in the order of the tenant list. */
export async function readFailures(fleet: Fleet, runId: string): Promise<TenantFailure[]> {
  const keys = await fleet.work.list(failedPrefix(fleet, runId));
  const records = await Promise.all(
    keys.map(async (key) => {
      const found = await fleet.work.get(key);
      return found ? parseRecord(fleet, key, found.body.toString('utf8')) : null;
    }),
  );
  return records
    .filter((r): r is TenantFailure => r !== null)
    .sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
}
