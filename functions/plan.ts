import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import { eventOf } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { type Collector, type Plan, plan } from './domain/collector.ts';
import { type PlanEvent, planEventSchema } from './domain/schemas.ts';

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
