import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type middy from '@middy/core';
import type { Fleet } from '../domain/tenants.ts';
import { fleetFromEnv } from './collectors.ts';
import { powertoolsTelemetry } from './telemetry.ts';

/**
 * The Lambda handlers' wiring: the container's Powertools telemetry and fleet, each made on first use
 * and then kept for the container's life. The collectors themselves are built in collectors.ts, which
 * the local run and the tests use (re-exported here for them).
 */
export { collectorFromEnv, fleetFromEnv, fleetOf } from './collectors.ts';

let powertools: ReturnType<typeof powertoolsTelemetry> | null = null;
const lambdaTelemetry = () => (powertools ??= powertoolsTelemetry());

let lambdaFleet: Fleet | null = null;

/** The Lambda container's tenants: configuration read once, clients reused across invocations. */
export function fromLambdaEnvironment(): Fleet {
  lambdaFleet ??= fleetFromEnv({ env: process.env, telemetry: lambdaTelemetry().telemetry });
  return lambdaFleet;
}

/**
 * The Lambda handlers' middlewares: Powertools adds the Lambda context to every log line and resets the
 * keys between invocations, and flushes the invocation's metrics (embedded metric format) at its end.
 */
export function lambdaMiddlewares(): middy.MiddlewareObj[] {
  const { logger, metrics } = lambdaTelemetry();
  return [injectLambdaContext(logger, { resetKeys: true }), logMetrics(metrics)];
}
