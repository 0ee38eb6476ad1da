import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Collector, type FetchResult, type FetchTask, fetchPages } from './commons/collector.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './commons/runtime.ts';

/**
 * Time kept back from the Lambda timeout to finish the last object's write and return the continuation:
 * a minute, or a quarter of a shorter timeout.
 */
const SAFETY_MS = 60_000;

export const fetchPageHandler = (collector: () => Collector, middlewares: middy.MiddlewareObj[] = []) =>
  middy<FetchTask, FetchResult, Error, Context>()
    .use(middlewares)
    .handler(async (task, context) => {
      const c = collector();
      const remaining = context.getRemainingTimeInMillis();
      const budget = Math.min(
        c.config.fetchBudgetSeconds * 1000,
        remaining - Math.min(SAFETY_MS, remaining / 4),
      );
      return fetchPages(c, task, Date.now() + budget);
    });

export const handler = fetchPageHandler(fromLambdaEnvironment, lambdaMiddlewares());
