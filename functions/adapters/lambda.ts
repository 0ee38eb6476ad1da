import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type middy from '@middy/core';
import type { Collector } from '../domain/collector.ts';
import { loadLayout, tenantConfig } from '../domain/config.ts';
import type { Telemetry } from '../domain/ports.ts';
import type { Tenant } from '../domain/schemas.ts';
import type { Fleet } from '../domain/tenants.ts';
import { CitrixClient, type CitrixClientOptions } from './citrix-client.ts';
import { s3ClientFromEnv, s3Store } from './s3-store.ts';
import { clientSecretResolver } from './secrets.ts';
import { powertoolsTelemetry, silentTelemetry } from './telemetry.ts';

type Env = Record<string, string | undefined>;

type Tuning = Pick<CitrixClientOptions, 'backoffMs' | 'maxAttempts'>;

/** The AWS clients the collectors of one process share: one connection pool, one credentials chain. */
interface Clients {
  readonly s3: S3Client;
  readonly secrets: () => SecretsManagerClient;
}

function clientsFromEnv(env: Env): Clients {
  let secrets: SecretsManagerClient | undefined;
  return { s3: s3ClientFromEnv(env), secrets: () => (secrets ??= new SecretsManagerClient({})) };
}

/** The telemetry of one listed tenant: every log line and metric carries the tenant. */
function forTenant(telemetry: Telemetry, tenant: string | null): Telemetry {
  if (tenant === null) return telemetry;
  return {
    log: (message, fields = {}) => telemetry.log(message, { tenant, ...fields }),
    metric: (name, value, entity) => telemetry.metric(name, value, entity, tenant),
  };
}

/**
 * Builds the collector's parts from the environment, for the environment's one tenant or for a listed
 * tenant: the Lambdas and the local run share this.
 */
export function collectorFromEnv(
  env: Env = process.env,
  telemetry: Telemetry = silentTelemetry,
  inAws?: boolean,
  tuning: Tuning = {},
  tenant: Tenant | null = null,
  clients: Clients = clientsFromEnv(env),
): Collector {
  const config = tenantConfig(env, tenant, inAws);
  const { s3 } = clients;
  telemetry = forTenant(telemetry, config.tenant);
  return {
    config,
    feed: s3Store(s3, config.bucket),
    work: s3Store(s3, config.workBucket),
    citrix: new CitrixClient({
      apiBase: config.apiBase,
      customerId: config.customerId,
      clientId: config.clientId,
      clientSecret: clientSecretResolver(config.clientSecret, env, clients.secrets, config.tenant),
      tenant: config.tenant,
      secretSource: config.clientSecret,
      pageSize: config.pageSize,
      telemetry: () => telemetry,
      ...tuning,
    }),
    log: telemetry.log,
    metric: telemetry.metric,
  };
}

/**
 * Every tenant of the environment: the storage settings, the work bucket, and each tenant's collector,
 * built once per tenant (and again when its entry in the list changes) so that its token is reused,
 * all of them on one S3 client and one Secrets Manager client.
 * `overrides` go into every collector (a local run's clock or process, say).
 */
export function fleetFromEnv(
  env: Env = process.env,
  telemetry: Telemetry = silentTelemetry,
  inAws?: boolean,
  tuning: Tuning = {},
  overrides: Partial<Collector> = {},
): Fleet {
  const settings = loadLayout(env);
  const clients = clientsFromEnv(env);
  const collectors = new Map<string, Collector>();
  return {
    settings,
    work: s3Store(clients.s3, settings.workBucket),
    log: telemetry.log,
    collector(tenant) {
      const key = JSON.stringify(tenant);
      let found = collectors.get(key);
      if (!found) {
        found = { ...collectorFromEnv(env, telemetry, inAws, tuning, tenant, clients), ...overrides };
        collectors.set(key, found);
      }
      return found;
    },
  };
}

/** A fleet of the one tenant that `collector` collects: a test's or a benchmark's collector, run as it is. */
export function fleetOf(collector: Collector): Fleet {
  return {
    settings: collector.config,
    work: collector.work,
    log: collector.log,
    collector(tenant) {
      if (tenant !== null) {
        throw new Error(
          `This run was given one collector and no tenant list: it cannot collect tenant "${tenant.id}".`,
        );
      }
      return collector;
    },
  };
}

const lambda = powertoolsTelemetry();
let lambdaFleet: Fleet | null = null;

/** The Lambda container's tenants: configuration read once, clients reused across invocations. */
export function fromLambdaEnvironment(): Fleet {
  lambdaFleet ??= fleetFromEnv(process.env, lambda.telemetry);
  return lambdaFleet;
}

/**
 * The Lambda handlers' middlewares: Powertools adds the Lambda context to every log line and resets the
 * keys between invocations, and flushes the invocation's metrics (embedded metric format) at its end.
 */
export function lambdaMiddlewares(): middy.MiddlewareObj[] {
  return [injectLambdaContext(lambda.logger, { resetKeys: true }), logMetrics(lambda.metrics)];
}
