import { sameDefinition } from './adapters/definition.ts';
import { taskHandler } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { planEventSchema } from './domain/schemas.ts';
import { planTenants, type TenantsPlan } from './domain/tenants.ts';

/**
 * The Tenants step: the run's tenants, as indexes into the run's copy of the tenant list. A redrive of an
 * execution that failed here enters here, so the step first checks the definition is the deployed one.
 */
export const tenantsHandler = taskHandler(
  { step: 'Tenants', schema: planEventSchema },
  async (event, { fleet }): Promise<TenantsPlan> => {
    sameDefinition('Tenants', event.runId, event.definitionRevision);
    return planTenants(fleet, {
      input: event.input ?? {},
      runId: event.runId,
      startTime: event.startTime ?? null,
    });
  },
);

export const handler = tenantsHandler(fromLambdaEnvironment, lambdaMiddlewares());
