import { sameDefinition } from './adapters/definition.ts';
import { taskHandler } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { reportEventSchema } from './domain/schemas.ts';
import { type ReportResult, reportTenants } from './domain/tenants.ts';

/**
 * The Report step: once every tenant is done, fails the execution naming the failed ones (TenantsFailed).
 * A redrive of a failed execution starts here, so the step first checks the definition is the deployed one.
 */
export const reportHandler = taskHandler(
  { step: 'Report', schema: reportEventSchema },
  async (event, { fleet }): Promise<ReportResult> => {
    sameDefinition('Report', event.state.runId, event.definitionRevision);
    return reportTenants(fleet, event.state, event.redriveCount);
  },
);

export const handler = reportHandler(fromLambdaEnvironment, lambdaMiddlewares());
