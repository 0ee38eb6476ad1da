import type { Fleet, TenantRef, TenantsPlan } from './fleet.ts';
import type { HandOnEvent } from './schemas.ts';
import { runTenants } from './tenant-list.ts';

/**
 * After the Express children: the tenants that go on in Standard children, those found behind and those an
 * Express child handed on (its time box closed, or a step failed in a way a retry may cure, which the
 * Standard child's retries take up). Each handed-on tenant is logged with its reason, by id.
 */
export async function handOn(fleet: Fleet, event: HandOnEvent): Promise<TenantsPlan> {
  const { handedOn, onTime: _, ...run } = event;
  const handed = handedOn.filter((o) => o.handOn === true);
  const refs: TenantRef[] = [...event.tenants];
  for (const o of handed) if (!refs.includes(o.tenant ?? null)) refs.push(o.tenant ?? null);
  if (handed.length > 0) {
    const listed = handed.some((o) => typeof o.tenant === 'number')
      ? await runTenants(fleet, event.runId).catch(() => [])
      : [];
    fleet.log('tenants handed on to Standard children', {
      execution: event.runId,
      tenants: handed.map((o) => ({
        tenant: typeof o.tenant === 'number' ? (listed[o.tenant]?.id ?? o.tenant) : null,
        reason: o.reason ?? null,
      })),
    });
  }
  return { ...run, tenants: refs.sort((a, b) => (a ?? -1) - (b ?? -1)) };
}
