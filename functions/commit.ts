import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import { eventOf, loggedFailure } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { type CommitResult, commitHour } from './domain/publish.ts';
import { type CommitTask, commitTaskSchema } from './domain/schemas.ts';
import type { Fleet } from './domain/tenants.ts';

export const commitHandler = (fleet: () => Fleet, middlewares: middy.MiddlewareObj[] = []) =>
  middy<ParsedResult<unknown, CommitTask>, CommitResult>()
    .use(middlewares)
    .use(parser({ schema: commitTaskSchema, safeParse: true }))
    .handler(async (parsed) => {
      const task = eventOf(parsed, 'Commit');
      const c = fleet().collector(task.tenant ?? null);
      return commitHour(c, task).catch((err: unknown) => {
        throw loggedFailure(c.log, 'Commit', err, { execution: task.runId, hour: task.hour });
      });
    });

export const handler = commitHandler(fromLambdaEnvironment, lambdaMiddlewares());
