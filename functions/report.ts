import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import { eventOf } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { type ReportEvent, reportEventSchema } from './domain/schemas.ts';
import { type Fleet, type ReportResult, reportTenants } from './domain/tenants.ts';

export const reportHandler = (fleet: () => Fleet, middlewares: middy.MiddlewareObj[] = []) =>
  middy<ParsedResult<unknown, ReportEvent>, ReportResult>()
    .use(middlewares)
    .use(parser({ schema: reportEventSchema, safeParse: true }))
    .handler(async (parsed) => {
      const event = eventOf(parsed, 'Report');
      return reportTenants(fleet(), event.state, event.redriveCount);
    });

export const handler = reportHandler(fromLambdaEnvironment, lambdaMiddlewares());
