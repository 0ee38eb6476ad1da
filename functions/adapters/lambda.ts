import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type middy from '@middy/core';
import type { Collector } from '../domain/collector.ts';
import { loadConfig } from '../domain/config.ts';
import type { Telemetry } from '../domain/ports.ts';
import { CitrixClient, type CitrixClientOptions } from './citrix-client.ts';
import { s3ClientFromEnv, s3Store } from './s3-store.ts';
import { clientSecretResolver } from './secrets.ts';
import { powertoolsTelemetry, silentTelemetry } from './telemetry.ts';

type Env = Record<string, string | undefined>;

/** Builds the collector's parts from the environment: the Lambdas and the local run share this. */
export function collectorFromEnv(
  env: Env = process.env,
  telemetry: Telemetry = silentTelemetry,
  inAws?: boolean,
  tuning: Pick<CitrixClientOptions, 'backoffMs' | 'maxAttempts'> = {},
): Collector {
  const config = loadConfig(env, inAws);
  const s3 = s3ClientFromEnv(env);
  return {
    config,
    feed: s3Store(s3, config.bucket),
    work: s3Store(s3, config.workBucket),
    citrix: new CitrixClient({
      apiBase: config.apiBase,
      customerId: config.customerId,
      clientId: config.clientId,
      clientSecret: clientSecretResolver(config.clientSecret, env),
      pageSize: config.pageSize,
      onEvent: (event, what, fields) => {
        if (event === 'token') return;
        telemetry.metric(event === 'throttled' ? 'Throttles' : 'Retries', 1);
        telemetry.log(event === 'throttled' ? 'Citrix answered 429; waiting' : 'retrying a Citrix request', {
          ...fields,
          request: what,
        });
      },
      ...tuning,
    }),
    log: telemetry.log,
    metric: telemetry.metric,
  };
}

const lambda = powertoolsTelemetry();
let lambdaCollector: Collector | null = null;

/** The Lambda container's collector: configuration read and validated once, clients reused across invocations. */
export function fromLambdaEnvironment(): Collector {
  lambdaCollector ??= collectorFromEnv(process.env, lambda.telemetry);
  return lambdaCollector;
}

/**
 * The Lambda handlers' middlewares: Powertools adds the Lambda context to every log line and resets the
 * keys between invocations, and flushes the invocation's metrics (embedded metric format) at its end.
 */
export function lambdaMiddlewares(): middy.MiddlewareObj[] {
  return [injectLambdaContext(lambda.logger, { resetKeys: true }), logMetrics(lambda.metrics)];
}
