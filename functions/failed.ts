import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import { eventOf } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { type FailedEvent, failedEventSchema } from './domain/schemas.ts';
import { type Fleet, recordFailure, type TenantFailure } from './domain/tenants.ts';

/** The Failed step: keeps a tenant's caught failure for the Report step (its state machine output is dropped). */
export const failedHandler = (fleet: () => Fleet, middlewares: middy.MiddlewareObj[] = []) =>
  middy<ParsedResult<unknown, FailedEvent>, TenantFailure>()
    .use(middlewares)
    .use(parser({ schema: failedEventSchema, safeParse: true }))
    .handler(async (parsed) => {
      const event = eventOf(parsed, 'Failed');
      return recordFailure(fleet(), event.runId, event.tenant, event.failure);
    });

export const handler = failedHandler(fromLambdaEnvironment, lambdaMiddlewares());
