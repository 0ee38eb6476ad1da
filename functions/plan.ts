import middy from '@middy/core';
import { type Collector, type Plan, plan } from './commons/collector.ts';
import { fromLambdaEnvironment, lambdaMiddlewares } from './commons/runtime.ts';

/** Input from the state machine: the execution input and the execution name, which keys this run's staging. */
export interface PlanEvent {
  readonly input?: { hour?: unknown } | null;
  readonly runId: string;
}

export const planHandler = (collector: () => Collector, middlewares: middy.MiddlewareObj[] = []) =>
  middy<PlanEvent, Plan>()
    .use(middlewares)
    .handler(async (event) => plan(collector(), event.input ?? {}, event.runId));

export const handler = planHandler(fromLambdaEnvironment, lambdaMiddlewares());
