import type { Fleet, TenantRef, TenantsPlan } from './fleet.ts';
import type { HandOnEvent } from './schemas.ts';
import { runTenants } from './tenant-list.ts';

/**
 * After the Express children: the tenants that go on in Standard children, those found behind and those an
 * Express child handed on (its time box closed, or a step failed in a way a retry may cure, which the
 * Standard child's retries take up). The handed-on tenants are logged by id; why each was handed on is in
 * the state machine's log group and its Express child's Lambda logs.
 */
export async function handOn(fleet: Fleet, event: HandOnEvent): Promise<TenantsPlan> {
  const { handedOn, onTime: _, ...run } = event;
  const handed = handedOn.flatMap((o) => (o.h === undefined ? [] : [o.h]));
  const refs: TenantRef[] = [...new Set([...event.tenants, ...handed])];
  if (handed.length > 0)
    fleet.log('tenants handed on to Standard children', {
      execution: event.runId,
      tenants: await idsOf(fleet, event.runId, handed),
    });
  return { ...run, tenants: refs.sort((a, b) => (a ?? -1) - (b ?? -1)) };
}

/**
 * The tenants' ids for the log line, from the run's list; their indexes when the list cannot be read (the
 * log line is all that needs them, and the Standard children read the list themselves, failing on it).
 */
async function idsOf(
  fleet: Fleet,
  runId: string,
  refs: readonly TenantRef[],
): Promise<Array<string | number | null>> {
  if (refs.every((r) => r === null)) return [...refs];
  const listed = await runTenants(fleet, runId).catch(() => []);
  return refs.map((r) => (r === null ? null : (listed[r]?.id ?? r)));
}
