import { taskHandler } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { handOn } from './domain/hand-on.ts';
import { handOnEventSchema } from './domain/schemas.ts';
import type { TenantsPlan } from './domain/tenants.ts';

/** The Hand on step: the tenants that go on in Standard children once the Express children are done. */
export const handOnHandler = taskHandler(
  { step: 'HandOn', schema: handOnEventSchema },
  (event, { fleet }): Promise<TenantsPlan> => handOn(fleet, event),
);

export const handler = handOnHandler(fromLambdaEnvironment, lambdaMiddlewares());
