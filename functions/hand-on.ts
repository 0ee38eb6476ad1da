import type middy from '@middy/core';
import { taskHandler } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { handOn } from './domain/hand-on.ts';
import { handOnEventSchema } from './domain/schemas.ts';
import type { Fleet, TenantsPlan } from './domain/tenants.ts';

/** The Hand on step: the tenants that go on in Standard children once the Express children are done. */
export const handOnHandler = (fleet: () => Fleet, middlewares: middy.MiddlewareObj[] = []) =>
  taskHandler(
    { step: 'HandOn', schema: handOnEventSchema },
    middlewares,
    (event): Promise<TenantsPlan> => handOn(fleet(), event),
  );

export const handler = handOnHandler(fromLambdaEnvironment, lambdaMiddlewares());
