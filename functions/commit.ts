import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import type { Collector } from './commons/collector.ts';
import { eventOf } from './commons/events.ts';
import { type CommitResult, commitHour } from './commons/publish.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './commons/runtime.ts';
import { type CommitTask, commitTaskSchema } from './commons/schemas.ts';

export const commitHandler = (collector: () => Collector, middlewares: middy.MiddlewareObj[] = []) =>
  middy<ParsedResult<unknown, CommitTask>, CommitResult>()
    .use(middlewares)
    .use(parser({ schema: commitTaskSchema, safeParse: true }))
    .handler(async (parsed) => commitHour(collector(), eventOf(parsed, 'Commit')));

export const handler = commitHandler(fromLambdaEnvironment, lambdaMiddlewares());
