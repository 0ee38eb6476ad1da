import type { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Collector } from '../domain/collector.ts';
import {
  type Config,
  type LocalSecrets,
  loadSettings,
  type Settings,
  tenantConfig,
} from '../domain/config.ts';
import type { Telemetry } from '../domain/ports.ts';
import type { Tenant } from '../domain/schemas.ts';
import { read, value } from '../domain/settings/readers.ts';
import { AWS_ENDPOINT_URL_S3, S3_FORCE_PATH_STYLE } from '../domain/settings/registry.ts';
import type { Fleet } from '../domain/tenants.ts';
import { CitrixClient, type CitrixClientOptions } from './citrix-client.ts';
import { type S3Options, s3Client, s3Store } from './s3-store.ts';
import { clientSecretResolver } from './secrets.ts';
import { silentTelemetry } from './telemetry.ts';

/**
 * The collectors of an environment, for the Lambdas and the local run alike: the environment read once
 * into its settings, and each tenant's configuration, buckets and Citrix client built from them, on AWS
 * clients one process shares. The adapters get typed options, never the environment.
 */

type Env = Record<string, string | undefined>;

type Tuning = Pick<CitrixClientOptions, 'backoffMs' | 'maxAttempts'>;

/** The AWS clients the collectors of one process share: one connection pool, one credentials chain. */
export interface Clients {
  readonly s3: S3Client;
  readonly secrets: () => SecretsManagerClient;
}

/**
 * The S3 client's options of an environment: its region, its keys when it has them (else the SDK's
 * default chain, the Lambda role), AWS_ENDPOINT_URL_S3 and S3_FORCE_PATH_STYLE for S3-compatible servers.
 */
export function s3OptionsFromEnv(env: Env): S3Options {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
  } = env;
  const endpoint = read(env, AWS_ENDPOINT_URL_S3);
  return {
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, sessionToken } }
      : {}),
    forcePathStyle: value(env, S3_FORCE_PATH_STYLE),
  };
}

/** An S3 client of an environment ({@link s3OptionsFromEnv}). */
export const s3ClientFromEnv = (env: Env): S3Client => s3Client(s3OptionsFromEnv(env));

function clientsFromEnv(env: Env): Clients {
  let secrets: SecretsManagerClient | undefined;
  return { s3: s3ClientFromEnv(env), secrets: () => (secrets ??= new SecretsManagerClient({})) };
}

/** What the collectors of one environment are built from: read from it once. */
interface Parts {
  readonly settings: Settings;
  readonly secrets: LocalSecrets;
  readonly clients: Clients;
  readonly tuning: Tuning;
}

/** The telemetry of the tenant a configuration collects: a listed tenant's carries its id. */
function telemetryOf(telemetry: Telemetry, tenant: string | null): Telemetry {
  return tenant === null ? telemetry : (telemetry.withTenant?.(tenant) ?? telemetry);
}

/**
 * The tenant's Citrix client, which reports its retries and 429s to `telemetry()`: the telemetry of the
 * invocation at hand, for a client that outlives it to reuse its token.
 */
function citrixClient(config: Config, parts: Parts, telemetry: () => Telemetry): CitrixClient {
  return new CitrixClient({
    apiBase: config.apiBase,
    customerId: config.customerId,
    clientId: config.clientId,
    clientSecret: clientSecretResolver(config.clientSecret, {
      localSecrets: parts.secrets,
      client: parts.clients.secrets,
      tenant: config.tenant,
    }),
    pageSize: config.pageSize,
    tenant: config.tenant,
    secretSource: config.clientSecret,
    telemetry,
    ...parts.tuning,
  });
}

/** A tenant's collector without its telemetry: its configuration, buckets and Citrix client. */
type CollectorParts = Omit<Collector, 'log' | 'metric'>;

function collectorParts(parts: Parts, tenant: Tenant | null, telemetry: () => Telemetry): CollectorParts {
  const config = tenantConfig(parts.settings, tenant, parts.secrets);
  return {
    config,
    feed: s3Store(parts.clients.s3, config.bucket),
    work: s3Store(parts.clients.s3, config.workBucket),
    citrix: citrixClient(config, parts, telemetry),
  };
}

/** How to build collectors from an environment. */
export interface FromEnvOptions {
  /** The environment, read once: the Lambda's or the local run's, or a test's. */
  readonly env: Env;
  readonly telemetry?: Telemetry;
  /** Default: whether `env` is a Lambda's (AWS_LAMBDA_FUNCTION_NAME). */
  readonly inAws?: boolean;
  readonly tuning?: Tuning;
}

/** The environment read once: its settings, its local secrets, its AWS clients (or `clients`). */
function partsOf(options: FromEnvOptions, clients?: Clients): Parts {
  const { env } = options;
  return {
    settings: loadSettings(env, options.inAws),
    secrets: (variable) => env[variable],
    clients: clients ?? clientsFromEnv(env),
    tuning: options.tuning ?? {},
  };
}

/**
 * Builds the collector's parts from the environment, for the environment's one tenant or for a listed
 * tenant (`tenant`): the Lambdas and the local run share this. `clients`: AWS clients to share.
 */
export function collectorFromEnv(
  options: FromEnvOptions & { readonly tenant?: Tenant | null; readonly clients?: Clients },
): Collector {
  const tenant = options.tenant ?? null;
  const own = telemetryOf(options.telemetry ?? silentTelemetry, tenant?.id ?? null);
  const parts = collectorParts(partsOf(options, options.clients), tenant, () => own);
  return { ...parts, log: own.log, metric: own.metric };
}

/**
 * Every tenant of the environment: the settings, read once, the work bucket, and each tenant's collector,
 * built once per tenant (and again when its entry in the list changes) so that its token is reused,
 * all of them on one S3 client and one Secrets Manager client. Each call of `collector` (one per
 * invocation) takes the tenant's telemetry anew, so that its lines carry that invocation's context.
 * `overrides` go into every collector (a local run's clock or process, say).
 */
export function fleetFromEnv(options: FromEnvOptions & { readonly overrides?: Partial<Collector> }): Fleet {
  const parts = partsOf(options);
  const telemetry = options.telemetry ?? silentTelemetry;
  const built = new Map<string, { parts: CollectorParts; use(telemetry: Telemetry): void }>();
  return {
    settings: parts.settings.layout,
    work: s3Store(parts.clients.s3, parts.settings.layout.workBucket),
    log: telemetry.log,
    collector(tenant) {
      const key = JSON.stringify(tenant);
      const own = telemetryOf(telemetry, tenant?.id ?? null);
      let found = built.get(key);
      if (!found) {
        let current = own;
        found = { parts: collectorParts(parts, tenant, () => current), use: (t) => (current = t) };
        built.set(key, found);
      }
      found.use(own);
      return { ...found.parts, log: own.log, metric: own.metric, ...options.overrides };
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
