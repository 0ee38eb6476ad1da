import { loggedFailure, taskHandler } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import type { FetchResult } from './domain/collector.ts';
import { fetchTaskSchema } from './domain/schemas.ts';
import { FETCH_SAFETY_SECONDS } from './domain/settings/registry.ts';
import { fetchWithinTimeBox } from './domain/time-box.ts';
import { windowField } from './domain/windows.ts';

/**
 * Time kept back from the Lambda timeout to finish the last object's write and return the continuation:
 * a minute, or a quarter of a shorter timeout. FETCH_BUDGET_SECONDS's maximum is the Lambda's timeout less it.
 */
const SAFETY_MS = FETCH_SAFETY_SECONDS * 1000;

/** The FetchPages Task and the schema of its event. */
const FETCH_PAGES = { step: 'FetchPages', schema: fetchTaskSchema };

export const fetchPageHandler = taskHandler(
  FETCH_PAGES,
  async (task, { fleet, context }): Promise<FetchResult> => {
    const c = fleet.collector(task.tenant ?? null);
    const remaining = context.getRemainingTimeInMillis();
    const budget = Math.min(
      c.config.fetchBudgetSeconds * 1000,
      remaining - Math.min(SAFETY_MS, remaining / 4),
    );
    return fetchWithinTimeBox(c, task, budget).catch((err: unknown) => {
      throw loggedFailure({ log: c.log, step: FETCH_PAGES.step }, err, {
        execution: task.runId,
        window: windowField(task),
        entity: task.entity,
      });
    });
  },
);

export const handler = fetchPageHandler(fromLambdaEnvironment, lambdaMiddlewares());
