import { loggedFailure, taskHandler } from './adapters/events.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './adapters/lambda.ts';
import { commitWindow } from './domain/publish.ts';
import { closeTimeBox } from './domain/resume.ts';
import { commitTaskSchema } from './domain/schemas.ts';
import { windowField } from './domain/windows.ts';

export const commitHandler = taskHandler(
  { step: 'Commit', schema: commitTaskSchema },
  async (task, { fleet }) => {
    const c = fleet.collector(task.tenant ?? null);
    // An Express child whose time box closed mid-window: kept for its Standard child, not committed.
    if (task.fetched.some((f) => f.timeBoxClosed)) return closeTimeBox(c, task);
    return commitWindow(c, task).catch((err: unknown) => {
      throw loggedFailure({ log: c.log, step: 'Commit' }, err, {
        execution: task.runId,
        window: windowField(task),
      });
    });
  },
);

export const handler = commitHandler(fromLambdaEnvironment, lambdaMiddlewares());
