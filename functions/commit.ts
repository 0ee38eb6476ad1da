import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import { eventOf } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import type { Collector } from './domain/collector.ts';
import { type CommitResult, commitHour } from './domain/publish.ts';
import { type CommitTask, commitTaskSchema } from './domain/schemas.ts';

export const commitHandler = (collector: () => Collector, middlewares: middy.MiddlewareObj[] = []) =>
  middy<ParsedResult<unknown, CommitTask>, CommitResult>()
    .use(middlewares)
    .use(parser({ schema: commitTaskSchema, safeParse: true }))
    .handler(async (parsed) => commitHour(collector(), eventOf(parsed, 'Commit')));

export const handler = commitHandler(fromLambdaEnvironment, lambdaMiddlewares());
