import { sameDefinition } from './adapters/definition.ts';
import { loggedFailure, taskHandler } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { type Plan, plan } from './domain/collector.ts';
import { carryOnOf } from './domain/resume.ts';
import { type CarryOn, type PlanEvent, planEventSchema, type Tenant } from './domain/schemas.ts';
import { clearFailure, tenantOf } from './domain/tenants.ts';
import { fetchDeadline } from './domain/time-box.ts';

export type { PlanEvent };

/**
 * The Plan step's result: the tenant's plan, the tenant, which every later step of its windows carries, and
 * in an Express child the deadline its fetches end by (null in a Standard child).
 */
export type TenantPlan = Plan & {
  readonly tenant: Tenant | null;
  readonly deadline: string | null;
  /** In a Standard child: the first window, if an Express child of the run was cut on it, and what it kept. */
  readonly carryOn: CarryOn | null;
};

/**
 * The Plan step: a tenant's due windows. Every tenant a redrive collects again begins here (a new child of
 * the map over tenants), so the step first checks the definition is the deployed one.
 */
export const planHandler = taskHandler(
  { step: 'Plan', schema: planEventSchema },
  async (event, { fleet }): Promise<TenantPlan> => {
    sameDefinition('Plan', event.runId, event.definitionRevision);
    const tenant = await tenantOf(fleet, event.runId, event.tenant);
    await clearFailure(fleet, event.runId, tenant);
    // The execution's start time is the plan's clock: a redrive plans what the run planned.
    const started = event.startTime ? Date.parse(event.startTime) : Number.NaN;
    const c = fleet.collector(tenant);
    const planned = await plan(c, {
      input: event.input ?? {},
      runId: event.runId,
      maxHours: event.maxHours ?? undefined,
      clock: Number.isNaN(started) ? undefined : started,
    }).catch((err: unknown) => {
      throw loggedFailure({ log: c.log, step: 'Plan' }, err, { execution: event.runId });
    });
    const deadline = fetchDeadline(event.childStart, c.config.expressFetchSeconds);
    const carryOn = deadline === null ? await carryOnOf(c, event.runId, planned.windows[0]) : null;
    return { ...planned, tenant, deadline, carryOn };
  },
);

export const handler = planHandler(fromLambdaEnvironment, lambdaMiddlewares());
