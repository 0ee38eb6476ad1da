import type { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Collector } from '../domain/collector.ts';
import { type Config, loadLayout, tenantConfig } from '../domain/config.ts';
import type { Telemetry } from '../domain/ports.ts';
import type { Tenant } from '../domain/schemas.ts';
import type { Fleet } from '../domain/tenants.ts';
import { CitrixClient, type CitrixClientOptions } from './citrix-client.ts';
import { s3ClientFromEnv, s3Store } from './s3-store.ts';
import { clientSecretResolver } from './secrets.ts';
import { silentTelemetry } from './telemetry.ts';

/**
 * The collectors of an environment, for the Lambdas and the local run alike: the configuration of each
 * tenant, its buckets and its Citrix client, on AWS clients one process shares.
 */

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

/** The telemetry of the tenant a configuration collects: a listed tenant's carries its id. */
function telemetryOf(telemetry: Telemetry, tenant: string | null): Telemetry {
  return tenant === null ? telemetry : (telemetry.withTenant?.(tenant) ?? telemetry);
}

/**
 * The tenant's Citrix client, which reports its retries and 429s to `telemetry()`: the telemetry of the
 * invocation at hand, for a client that outlives it to reuse its token.
 */
function citrixClient(
  config: Config,
  env: Env,
  clients: Clients,
  tuning: Tuning,
  telemetry: () => Telemetry,
): CitrixClient {
  return new CitrixClient({
    apiBase: config.apiBase,
    customerId: config.customerId,
    clientId: config.clientId,
    clientSecret: clientSecretResolver(config.clientSecret, env, clients.secrets, config.tenant),
    pageSize: config.pageSize,
    tenant: config.tenant,
    secretSource: config.clientSecret,
    telemetry,
    ...tuning,
  });
}

/** A tenant's collector without its telemetry: its configuration, buckets and Citrix client. */
type CollectorParts = Omit<Collector, 'log' | 'metric'>;

function collectorParts(
  env: Env,
  tenant: Tenant | null,
  inAws: boolean | undefined,
  tuning: Tuning,
  clients: Clients,
  telemetry: () => Telemetry,
): CollectorParts {
  const config = tenantConfig(env, tenant, inAws);
  return {
    config,
    feed: s3Store(clients.s3, config.bucket),
    work: s3Store(clients.s3, config.workBucket),
    citrix: citrixClient(config, env, clients, tuning, telemetry),
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
  const own = telemetryOf(telemetry, tenant?.id ?? null);
  const parts = collectorParts(env, tenant, inAws, tuning, clients, () => own);
  return { ...parts, log: own.log, metric: own.metric };
}

/**
 * Every tenant of the environment: the storage settings, the work bucket, and each tenant's collector,
 * built once per tenant (and again when its entry in the list changes) so that its token is reused,
 * all of them on one S3 client and one Secrets Manager client. Each call of `collector` (one per
 * invocation) takes the tenant's telemetry anew, so that its lines carry that invocation's context.
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
  const built = new Map<string, { parts: CollectorParts; use(telemetry: Telemetry): void }>();
  return {
    settings,
    work: s3Store(clients.s3, settings.workBucket),
    log: telemetry.log,
    collector(tenant) {
      const key = JSON.stringify(tenant);
      const own = telemetryOf(telemetry, tenant?.id ?? null);
      let found = built.get(key);
      if (!found) {
        let current = own;
        const parts = collectorParts(env, tenant, inAws, tuning, clients, () => current);
        found = { parts, use: (t) => (current = t) };
        built.set(key, found);
      }
      found.use(own);
      return { ...found.parts, log: own.log, metric: own.metric, ...overrides };
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
