import { CitrixClient, type CitrixClientOptions } from './citrix-client.ts';
import type { Collector } from './collector.ts';
import { loadConfig } from './config.ts';
import { clientSecretResolver } from './secrets.ts';
import { s3ClientFromEnv, s3Store } from './store.ts';

type Env = Record<string, string | undefined>;
export type Log = Collector['log'];

/** One JSON object per line, as CloudWatch Logs Insights reads it. Fields never include the token or secret. */
export function jsonLog(write: (line: string) => void = (line) => process.stdout.write(line)): Log {
  return (message, fields = {}) =>
    write(`${JSON.stringify({ level: 'INFO', timestamp: new Date().toISOString(), message, ...fields })}\n`);
}

/** Builds the collector's parts from the environment: the Lambdas and the local run share this. */
export function collectorFromEnv(
  env: Env = process.env,
  log: Log = jsonLog(),
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
      ...tuning,
    }),
    log,
  };
}

let lambdaCollector: Collector | null = null;

/** The Lambda container's collector: configuration read and validated once, clients reused across invocations. */
export function fromLambdaEnvironment(): Collector {
  lambdaCollector ??= collectorFromEnv();
  return lambdaCollector;
}
