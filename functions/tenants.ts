import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import { eventOf } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { type PlanEvent, planEventSchema } from './domain/schemas.ts';
import { type Fleet, planTenants, type TenantsPlan } from './domain/tenants.ts';

export const tenantsHandler = (fleet: () => Fleet, middlewares: middy.MiddlewareObj[] = []) =>
  middy<ParsedResult<unknown, PlanEvent>, TenantsPlan>()
    .use(middlewares)
    .use(parser({ schema: planEventSchema, safeParse: true }))
    .handler(async (parsed) => {
      const event = eventOf(parsed, 'Tenants');
      return planTenants(fleet(), event.input ?? {}, event.runId, event.startTime ?? null);
    });

export const handler = tenantsHandler(fromLambdaEnvironment, lambdaMiddlewares());
