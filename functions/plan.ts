import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import { type Collector, type Plan, plan } from './commons/collector.ts';
import { eventOf } from './commons/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './commons/runtime.ts';
import { type PlanEvent, planEventSchema } from './commons/schemas.ts';

export type { PlanEvent };

export const planHandler = (collector: () => Collector, middlewares: middy.MiddlewareObj[] = []) =>
  middy<ParsedResult<unknown, PlanEvent>, Plan>()
    .use(middlewares)
    .use(parser({ schema: planEventSchema, safeParse: true }))
    .handler(async (parsed) => {
      const event = eventOf(parsed, 'Plan');
      return plan(collector(), event.input ?? {}, event.runId);
    });

export const handler = planHandler(fromLambdaEnvironment, lambdaMiddlewares());
