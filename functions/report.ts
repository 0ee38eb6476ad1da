import type middy from '@middy/core';
import { taskHandler } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { reportEventSchema } from './domain/schemas.ts';
import { type Fleet, type ReportResult, reportTenants } from './domain/tenants.ts';

/** The Report step: once every tenant is done, fails the execution naming the failed ones (TenantsFailed). */
export const reportHandler = (fleet: () => Fleet, middlewares: middy.MiddlewareObj[] = []) =>
  taskHandler(
    'Report',
    reportEventSchema,
    middlewares,
    (event): Promise<ReportResult> => reportTenants(fleet(), event.state, event.redriveCount),
  );

export const handler = reportHandler(fromLambdaEnvironment, lambdaMiddlewares());
