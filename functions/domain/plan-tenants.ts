import { z } from 'zod';
import { BadConfiguration } from './errors.ts';
import { type Fleet, runTenantsKey, type TenantsPlan, tenantListUrl } from './fleet.ts';
import { type Route, routeOf } from './routing.ts';
import type { Tenant } from './schemas.ts';
import { readTenantList } from './tenant-list.ts';

/** The execution input's `"tenants"`: absent (every tenant), or a list of tenant ids. */
const askedSchema = z.array(z.string()).min(1).optional();

/** The tenant ids the execution input names, or undefined when it names none. */
function askedTenants(input: Record<string, unknown>): readonly string[] | undefined {
  const parsed = askedSchema.safeParse(input.tenants);
  if (!parsed.success) {
    throw new BadConfiguration(
      `The execution input "tenants" is ${JSON.stringify(input.tenants)}: expected a list of tenant ids such as ["acme"].`,
    );
  }
  return parsed.data;
}

type PlanBase = Omit<TenantsPlan, 'tenants' | 'total' | 'onTime'>;

/** Tenants whose state is read at once when they are routed. */
const ROUTING_CONCURRENCY = 16;

/**
 * The run's tenants split by the kind of child that collects them ({@link routeOf}): `onTime` for the
 * Express children, `tenants` for the Standard ones.
 */
async function routed(
  fleet: Fleet,
  refs: ReadonlyArray<{ ref: number | null; tenant: Tenant | null }>,
  base: PlanBase,
): Promise<Pick<TenantsPlan, 'onTime' | 'tenants'>> {
  const clock = base.startTime ? Date.parse(base.startTime) : Number.NaN;
  const at = Number.isNaN(clock) ? Date.now() : clock;
  const routes: Route[] = new Array(refs.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < refs.length; i = next++) {
      const entry = refs[i];
      if (entry) routes[i] = await routeOf(fleet.collector(entry.tenant), base.input, at);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ROUTING_CONCURRENCY, refs.length) }, worker));
  const pick = (route: Route) => refs.filter((_, i) => routes[i] === route).map((r) => r.ref);
  return { onTime: pick('express'), tenants: pick('standard') };
}

/**
 * The environment's one tenant, when there is no tenant list. Its configuration is checked here (a
 * BadConfiguration names the variable); the message says nothing of tenant lists, which this
 * deployment does not use.
 */
async function planEnvironmentTenant(
  fleet: Fleet,
  asked: readonly string[] | undefined,
  base: PlanBase,
): Promise<TenantsPlan> {
  if (asked !== undefined) {
    throw new BadConfiguration(
      `The execution input names tenants (${asked.join(', ')}), but there is no tenant list at ${tenantListUrl(fleet)}: this deployment collects the one tenant of its environment.`,
    );
  }
  fleet.collector(null);
  const split = await routed(fleet, [{ ref: null, tenant: null }], base);
  fleet.log('tenants planned', { execution: base.runId, list: null, ...split });
  return { ...base, ...split, total: 1 };
}

/** The listed tenants the input names (all of them when it names none); an id not listed is refused. */
function chosenTenants(
  fleet: Fleet,
  list: readonly Tenant[],
  asked: readonly string[] | undefined,
): Tenant[] {
  if (asked === undefined) return [...list];
  const unknown = asked.filter((id) => !list.some((t) => t.id === id));
  if (unknown.length > 0) {
    throw new BadConfiguration(
      `The execution input names tenants not in the tenant list ${tenantListUrl(fleet)}: ${unknown.join(', ')} (listed: ${list.map((t) => t.id).join(', ')}).`,
    );
  }
  return list.filter((t) => asked.includes(t.id));
}

/** The execution whose tenants {@link planTenants} decides. */
export interface TenantsRequest {
  /** The execution input (`"tenants"` names the tenants to collect, `"hour"` the hour). */
  readonly input: Record<string, unknown>;
  readonly runId: string;
  /** The execution's start time, handed on to each tenant's Plan; null when not known. */
  readonly startTime?: string | null;
}

/**
 * Decides which tenants this execution collects: every listed tenant (or the ones the input's
 * `"tenants"` names), or the environment's one tenant when there is no list. Each tenant's configuration
 * is checked here, so a broken entry fails the run before any tenant starts, naming the entry. The list
 * as read is kept for the run ({@link runTenantsKey}): the children read their entries there, and a
 * redrive collects the tenants the run started with. Each tenant is routed to the kind of child that
 * collects it (routing.ts): those on time to Express children, the others to Standard ones.
 */
export async function planTenants(
  fleet: Fleet,
  { input, runId, startTime = null }: TenantsRequest,
): Promise<TenantsPlan> {
  const list = await readTenantList(fleet);
  const asked = askedTenants(input);
  const base = { runId, startTime, input, tenantConcurrency: fleet.settings.tenantConcurrency };
  if (list === null) return planEnvironmentTenant(fleet, asked, base);
  const tenants = chosenTenants(fleet, list, asked);
  for (const tenant of tenants) fleet.collector(tenant);
  await fleet.work.put(runTenantsKey(fleet, runId), JSON.stringify({ tenants }), 'application/json');
  const split = await routed(
    fleet,
    tenants.map((tenant, ref) => ({ ref, tenant })),
    base,
  );
  fleet.log('tenants planned', {
    execution: runId,
    tenants: tenants.length,
    onTime: split.onTime?.length ?? 0,
    behind: split.tenants.length,
    list: tenantListUrl(fleet),
  });
  return { ...base, ...split, total: tenants.length };
}
