import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { eventOf } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { type Collector, type FetchResult, fetchPages } from './domain/collector.ts';
import { type FetchTask, fetchTaskSchema } from './domain/schemas.ts';

/**
 * Time kept back from the Lambda timeout to finish the last object's write and return the continuation:
 * a minute, or a quarter of a shorter timeout.
 */
const SAFETY_MS = 60_000;

export const fetchPageHandler = (collector: () => Collector, middlewares: middy.MiddlewareObj[] = []) =>
  middy<ParsedResult<unknown, FetchTask>, FetchResult, Error, Context>()
    .use(middlewares)
    .use(parser({ schema: fetchTaskSchema, safeParse: true }))
    .handler(async (parsed, context) => {
      const task = eventOf(parsed, 'FetchPages');
      const c = collector();
      const remaining = context.getRemainingTimeInMillis();
      const budget = Math.min(
        c.config.fetchBudgetSeconds * 1000,
        remaining - Math.min(SAFETY_MS, remaining / 4),
      );
      return fetchPages(c, task, Date.now() + budget);
    });

export const handler = fetchPageHandler(fromLambdaEnvironment, lambdaMiddlewares());
