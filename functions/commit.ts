import middy from '@middy/core';
import type { Collector } from './commons/collector.ts';
import { type CommitResult, type CommitTask, commitHour } from './commons/publish.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './commons/runtime.ts';

export const commitHandler = (collector: () => Collector, middlewares: middy.MiddlewareObj[] = []) =>
  middy<CommitTask, CommitResult>()
    .use(middlewares)
    .handler(async (task) => commitHour(collector(), task));

export const handler = commitHandler(fromLambdaEnvironment, lambdaMiddlewares());
