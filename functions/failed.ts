import { taskHandler } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { failedEventSchema } from './domain/schemas.ts';
import { recordFailure, type TenantFailure } from './domain/tenants.ts';

/** The Failed step: keeps a tenant's caught failure for the Report step (its state machine output is dropped). */
export const failedHandler = taskHandler(
  { step: 'Failed', schema: failedEventSchema },
  (event, { fleet }): Promise<TenantFailure> => recordFailure(fleet, event),
);

export const handler = failedHandler(fromLambdaEnvironment, lambdaMiddlewares());
