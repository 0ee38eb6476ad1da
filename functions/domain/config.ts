import { allowedApiHosts, checkApiHost } from './api-hosts.ts';
import { BadConfiguration } from './errors.ts';
import type { Tenant } from './schemas.ts';
import { windowMinutesOf } from './windows.ts';

/** Where the Citrix client secret comes from: Secrets Manager in AWS, the environment only for local runs. */
export type SecretSource = { kind: 'env'; variable: string } | { kind: 'secretsManager'; secretId: string };

/** The whole configuration, validated once. Holds no secret, so it may be logged. */
export interface Config {
  /** The listed tenant this configuration is for (TENANTS_KEY); null for the one tenant of the environment. */
  readonly tenant: string | null;
  readonly bucket: string;
  /** Bucket of the state, commit records and staging; by default `bucket`. */
  readonly workBucket: string;
  /** Published prefix (what the SecOps feed reads), without a trailing slash. */
  readonly prefix: string;
  /** Staging area and per-hour commit records; never under `prefix`. */
  readonly workPrefix: string;
  readonly stateKey: string;
  /**
   * Where runs stage their pages: `{WORK_PREFIX}/staging`, a listed tenant's under it
   * (`…/staging/tenants/{id}`), so that one lifecycle rule expires every tenant's abandoned staging.
   */
  readonly stagingPrefix: string;
  readonly customerId: string;
  readonly clientId: string;
  readonly clientSecret: SecretSource;
  /** API base URL, normalised without a trailing slash (e.g. `https://api.cloud.com`). */
  readonly apiBase: string;
  readonly entities: readonly string[];
  readonly pageSize: number;
  /** Minutes of each window (WINDOW_MINUTES: 5, 10, 15, 20, 30 or 60, default 60). */
  readonly windowMinutes: number;
  /** Minutes a window settles after its end before it is due (SETTLE_MINUTES, default 15). */
  readonly settleMinutes: number;
  /** The window and its settle: how long after its start a window is due (LOOKBACK_MINUTES, as before windows). */
  readonly lookbackMinutes: number;
  /** The field each entity's hour window is on (`ModifiedDate` unless TIME_FIELDS says otherwise). */
  readonly timeFields: Readonly<Record<string, string>>;
  /** The OData key each entity is paged by (KEY_FIELDS over the known keys; `Id` for others). */
  readonly keyFields: Readonly<Record<string, string>>;
  /** Entities paged by the server's offset nextLinks instead of by key (NEXTLINK_PAGING): they may lose rows that change while they are paged. */
  readonly nextLinkPaging: readonly string[];
  readonly compression: 'none' | 'gzip';
  readonly maxConcurrency: number;
  readonly maxHoursPerRun: number;
  /** How long one page-fetch invocation may keep fetching before it hands back a continuation. */
  readonly fetchBudgetSeconds: number;
  /** The tenant list in WORK_BUCKET (default `{WORK_PREFIX}/tenants.json`); without it, the environment's one tenant. */
  readonly tenantsKey: string;
  /** Tenants collected side by side (TENANT_CONCURRENCY, 1 to 1,000), each a child execution of the Distributed Map. */
  readonly tenantConcurrency: number;
}

type Env = Record<string, string | undefined>;

/**
 * Keys of the Monitor entities (citrix/monitoring-api, Monitor.Model.md). Every other entity defaults to
 * `Id`; KEY_FIELDS names another.
 */
const KNOWN_KEYS: Record<string, string> = {
  Sessions: 'SessionKey',
  Machines: 'Id',
  Applications: 'Id',
  Connections: 'Id',
  Users: 'Id',
  ConnectionFailureLogs: 'Id',
  MachineFailureLogs: 'Id',
};

const ENTITY_NAME = /^[A-Z][A-Za-z0-9]*$/;
const FIELD_NAME = /^[A-Z][A-Za-z0-9]*$/;

function text(env: Env, name: string, fallback?: string): string {
  const raw = env[name]?.trim();
  if (raw) return raw;
  if (fallback !== undefined) return fallback;
  throw new BadConfiguration(`${name} is not set: it is required (see README, "Configuration").`);
}

/**
 * A whole number from `min` to `max`, or `fallback` when `raw` is empty. `what` names the setting in
 * the error (`PAGE_SIZE=…`, `--limit …`); `fail` makes the error (BadConfiguration by default).
 */
export function wholeNumber(
  raw: string | undefined,
  what: string,
  fallback: number,
  min: number,
  max: number,
  fail: (message: string) => Error = (message) => new BadConfiguration(message),
): number {
  const value = raw?.trim();
  if (!value) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    const shown = `${what}${what.endsWith('=') ? '' : ' '}${JSON.stringify(value)}`;
    throw fail(`${shown} is invalid: expected a whole number from ${min} to ${max}.`);
  }
  return Number(value);
}

const integer = (env: Env, name: string, fallback: number, min: number, max: number): number =>
  wholeNumber(env[name], `${name}=`, fallback, min, max);

function keyPrefix(env: Env, name: string, fallback: string): string {
  const value = text(env, name, fallback).replace(/^\/+|\/+$/g, '');
  if (!value || value.includes('//') || /[\\{}^%`"<>#|]/.test(value)) {
    throw new BadConfiguration(
      `${name}=${JSON.stringify(env[name])} is invalid: expected an S3 key prefix such as "citrix_monitor".`,
    );
  }
  return value;
}

function apiBase(env: Env, inAws: boolean): string {
  const raw = text(env, 'API_BASE', 'https://api.cloud.com');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BadConfiguration(
      `API_BASE=${JSON.stringify(raw)} is not a URL: expected e.g. https://api.cloud.com.`,
    );
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username) {
    throw new BadConfiguration(
      `API_BASE=${JSON.stringify(raw)} is invalid: expected an http(s) base URL with no query, e.g. https://api.cloud.com.`,
    );
  }
  if (inAws && url.protocol === 'http:') {
    throw new BadConfiguration(
      `API_BASE=${JSON.stringify(raw)} uses http: in AWS the client secret and token must travel over https.`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function entities(env: Env): string[] {
  const list = text(env, 'ENTITIES', 'Machines,Sessions,Connections,Applications,Users')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const bad = list.filter((e) => !ENTITY_NAME.test(e));
  if (list.length === 0 || bad.length > 0) {
    throw new BadConfiguration(
      `ENTITIES=${JSON.stringify(env.ENTITIES)} is invalid: expected a comma-separated list of Monitor entity names such as "Machines,Sessions"${bad.length ? ` (not an entity name: ${bad.join(', ')})` : ''}.`,
    );
  }
  if (new Set(list).size !== list.length)
    throw new BadConfiguration(`ENTITIES lists an entity twice: ${list.join(',')}.`);
  return list;
}

/**
 * `Entity:Field` pairs of TIME_FIELDS or KEY_FIELDS over the defaults. Every entity's window defaults to
 * `ModifiedDate`, the field of the entities' base type that moves on every change: a window on a field
 * written once (`FailureStartDate`, say) misses the later update of the row.
 */
function fieldsPerEntity(
  env: Env,
  name: 'TIME_FIELDS' | 'KEY_FIELDS',
  list: readonly string[],
  fallback: (entity: string) => string,
  example: string,
): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const entity of list) fields[entity] = fallback(entity);
  for (const pair of (env[name] ?? '').split(',').filter((p) => p.trim())) {
    const [entity, field, extra] = pair.split(':').map((s) => s.trim());
    if (!entity || !field || extra !== undefined || !FIELD_NAME.test(field) || !list.includes(entity)) {
      throw new BadConfiguration(
        `${name} entry ${JSON.stringify(pair)} is invalid: expected Entity:Field for an entity in ENTITIES, e.g. "${example}".`,
      );
    }
    fields[entity] = field;
  }
  return fields;
}

function nextLinkPaging(env: Env, list: readonly string[]): string[] {
  const named = (env.NEXTLINK_PAGING ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const unknown = named.filter((e) => !list.includes(e));
  if (unknown.length > 0) {
    throw new BadConfiguration(
      `NEXTLINK_PAGING=${JSON.stringify(env.NEXTLINK_PAGING)} names ${unknown.join(', ')}, not in ENTITIES (${list.join(',')}): expected a comma-separated list of entities to page by the server's nextLinks.`,
    );
  }
  return named;
}

/**
 * The window size and its settle. SETTLE_MINUTES when set; otherwise LOOKBACK_MINUTES (what a deployment
 * before windows set: the hour and its settle) less the window; otherwise 15, the settle the last rows
 * of an hour always had.
 */
function windowing(env: Env): Pick<Config, 'windowMinutes' | 'settleMinutes' | 'lookbackMinutes'> {
  const windowMinutes = windowMinutesOf(env.WINDOW_MINUTES);
  const lookback = env.LOOKBACK_MINUTES?.trim();
  let settleMinutes: number;
  if (env.SETTLE_MINUTES?.trim() || !lookback) {
    settleMinutes = integer(env, 'SETTLE_MINUTES', 15, 0, 60 * 24 * 30);
  } else {
    const total = integer(env, 'LOOKBACK_MINUTES', 75, windowMinutes, 60 * 24 * 30);
    settleMinutes = total - windowMinutes;
  }
  return { windowMinutes, settleMinutes, lookbackMinutes: windowMinutes + settleMinutes };
}

/**
 * Where the collector keeps and publishes its objects, and which hours are due and collected per run:
 * what the operator CLI needs.
 */
export type StorageLayout = Pick<
  Config,
  | 'bucket'
  | 'workBucket'
  | 'prefix'
  | 'workPrefix'
  | 'stateKey'
  | 'stagingPrefix'
  | 'compression'
  | 'entities'
  | 'lookbackMinutes'
  | 'windowMinutes'
  | 'settleMinutes'
  | 'maxHoursPerRun'
  | 'tenantsKey'
  | 'tenantConcurrency'
>;

/**
 * Reads and validates the storage settings alone (buckets, prefixes, state key, compression, entities,
 * look-back), as {@link loadConfig} does: the operator CLI reads S3 and never calls Citrix, so it needs no
 * Citrix setting.
 */
export function loadLayout(env: Env = process.env): StorageLayout {
  const prefix = keyPrefix(env, 'S3_PREFIX', 'citrix_monitor');
  const workPrefix = keyPrefix(env, 'WORK_PREFIX', `collector-work/${prefix}`);
  // Textual overlap counts too: a feed URI typed without its trailing slash matches every key that
  // merely starts with the prefix's text (citrix_monitor_work/… under s3://bucket/citrix_monitor).
  if (workPrefix.startsWith(prefix) || prefix.startsWith(workPrefix)) {
    throw new BadConfiguration(
      `WORK_PREFIX "${workPrefix}" overlaps S3_PREFIX "${prefix}": the state and staging area must lie outside what the SecOps feed reads. Set WORK_PREFIX to a prefix that does not start with "${prefix}" (default collector-work/${prefix}).`,
    );
  }
  const stateKey = text(env, 'STATE_KEY', `${workPrefix}/state.json`).replace(/^\/+/, '');
  if (stateKey.startsWith(prefix)) {
    throw new BadConfiguration(
      `STATE_KEY=${JSON.stringify(stateKey)} lies under S3_PREFIX "${prefix}", which the SecOps feed ingests: the state file would be ingested as a log. Move it outside: unset STATE_KEY to use ${workPrefix}/state.json, and copy an existing state file there to keep your place.`,
    );
  }
  const compression = text(env, 'COMPRESSION', 'none').toLowerCase();
  if (compression !== 'none' && compression !== 'gzip') {
    throw new BadConfiguration(
      `COMPRESSION=${JSON.stringify(env.COMPRESSION)} is invalid: expected "none" or "gzip".`,
    );
  }
  const tenantsKey = text(env, 'TENANTS_KEY', `${workPrefix}/tenants.json`).replace(/^\/+/, '');
  if (tenantsKey.startsWith(prefix)) {
    throw new BadConfiguration(
      `TENANTS_KEY=${JSON.stringify(tenantsKey)} lies under S3_PREFIX "${prefix}", which the SecOps feed ingests. Keep the tenant list outside it: unset TENANTS_KEY to use ${workPrefix}/tenants.json.`,
    );
  }
  return Object.freeze({
    bucket: text(env, 'S3_BUCKET'),
    workBucket: text(env, 'WORK_BUCKET', env.S3_BUCKET?.trim() ?? ''),
    prefix,
    workPrefix,
    stateKey,
    stagingPrefix: `${workPrefix}/staging`,
    compression,
    entities: Object.freeze(entities(env)),
    ...windowing(env),
    maxHoursPerRun: integer(env, 'MAX_HOURS_PER_RUN', 24, 1, 168),
    tenantsKey,
    tenantConcurrency: integer(env, 'TENANT_CONCURRENCY', 40, 1, 1000),
  } satisfies StorageLayout);
}

/**
 * Reads and validates every setting at once. Throws {@link BadConfiguration} naming the variable and
 * what it expected. `inAws` refuses a plain-text client secret: in AWS it must come from Secrets Manager.
 */
export function loadConfig(env: Env = process.env, inAws = Boolean(env.AWS_LAMBDA_FUNCTION_NAME)): Config {
  const layout = loadLayout(env);
  const useTimeFilter = text(env, 'USE_TIME_FILTER', 'true').toLowerCase();
  if (useTimeFilter !== 'true') {
    throw new BadConfiguration(
      `USE_TIME_FILTER=${JSON.stringify(env.USE_TIME_FILTER)} is not supported: without the hour filter every run would collect whole entities again and duplicate them in SecOps. Leave it unset (or "true"); to window an entity on another field set TIME_FIELDS (e.g. "ConnectionFailureLogs:FailureDate").`,
    );
  }
  const secretId = env.CITRIX_CLIENT_SECRET_ARN?.trim();
  if (!secretId && inAws) {
    throw new BadConfiguration(
      'CITRIX_CLIENT_SECRET_ARN is not set: in AWS the client secret is read from Secrets Manager, never from a plain environment variable.',
    );
  }
  if (!secretId) text(env, 'CITRIX_CLIENT_SECRET');
  const list = layout.entities;
  return Object.freeze({
    ...layout,
    tenant: null,
    customerId: text(env, 'CITRIX_CUSTOMER_ID'),
    clientId: text(env, 'CITRIX_CLIENT_ID'),
    clientSecret: secretId
      ? { kind: 'secretsManager', secretId }
      : { kind: 'env', variable: 'CITRIX_CLIENT_SECRET' },
    apiBase: apiBase(env, inAws),
    pageSize: integer(env, 'PAGE_SIZE', 1000, 1, 10000),
    timeFields: Object.freeze(
      fieldsPerEntity(env, 'TIME_FIELDS', list, () => 'ModifiedDate', 'MachineFailureLogs:FailureStartDate'),
    ),
    keyFields: Object.freeze(
      fieldsPerEntity(env, 'KEY_FIELDS', list, (e) => KNOWN_KEYS[e] ?? 'Id', 'SessionMetrics:Id'),
    ),
    nextLinkPaging: Object.freeze(nextLinkPaging(env, list)),
    maxConcurrency: integer(env, 'MAX_CONCURRENCY', 1, 1, 40),
    fetchBudgetSeconds: integer(env, 'FETCH_BUDGET_SECONDS', 600, 1, 840),
  } satisfies Config);
}

/**
 * Where a listed tenant's objects live: its own published prefix `{S3_PREFIX}/{id}` (one SecOps feed
 * per tenant, since raw rows do not say whose they are) and its own work prefix
 * `{WORK_PREFIX}/tenants/{id}` (state file, commit records), and its staging under the deployment's.
 */
export function tenantLayout<T extends StorageLayout>(base: T, id: string): T {
  const workPrefix = `${base.workPrefix}/tenants/${id}`;
  return {
    ...base,
    prefix: `${base.prefix}/${id}`,
    workPrefix,
    stateKey: `${workPrefix}/state.json`,
    stagingPrefix: `${base.workPrefix}/staging/tenants/${id}`,
  };
}

/** `Entity:Field` entries of a setting, kept for `entities` only. */
function pairsFor(raw: string | undefined, entities: readonly string[]): string {
  return (raw ?? '')
    .split(',')
    .filter((pair) => entities.includes(pair.split(':')[0]?.trim() ?? ''))
    .join(',');
}

/**
 * The configuration of one tenant: the environment's settings with the tenant's Citrix customer, client,
 * secret, API base and entities, and the tenant's own storage ({@link tenantLayout}). Null: the
 * environment's one tenant, with the storage it always had. A listed tenant's `apiBase` must name an
 * allowed API host ({@link allowedApiHosts}). Errors name the tenant.
 */
export function tenantConfig(
  env: Env,
  tenant: Tenant | null,
  inAws = Boolean(env.AWS_LAMBDA_FUNCTION_NAME),
): Config {
  if (tenant === null) return loadConfig(env, inAws);
  try {
    const apiHosts = allowedApiHosts(env.ALLOWED_API_HOSTS, inAws);
    if (tenant.clientSecretEnv && inAws) {
      throw new BadConfiguration(
        'clientSecretEnv is for local runs only: in AWS give clientSecretArn, the Secrets Manager secret of the client secret.',
      );
    }
    const secretPrefix = env.TENANT_SECRET_PREFIX?.trim();
    const secretName = tenant.clientSecretArn?.replace(/^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:/, '');
    if (secretPrefix && secretName !== undefined && !secretName.startsWith(secretPrefix)) {
      throw new BadConfiguration(
        `clientSecretArn ${JSON.stringify(tenant.clientSecretArn)} names a secret outside TENANT_SECRET_PREFIX "${secretPrefix}": the collector may read only the tenants' secrets under that prefix. Store the tenant's client secret as ${secretPrefix}${tenant.id} and give its ARN.`,
      );
    }
    if (tenant.clientSecretEnv && !env[tenant.clientSecretEnv]?.trim()) {
      throw new BadConfiguration(`clientSecretEnv names ${tenant.clientSecretEnv}, which is not set.`);
    }
    const base = loadLayout(env);
    const entities = tenant.entities ?? base.entities;
    const config = loadConfig(
      {
        ...env,
        CITRIX_CUSTOMER_ID: tenant.customerId,
        CITRIX_CLIENT_ID: tenant.clientId,
        CITRIX_CLIENT_SECRET_ARN: tenant.clientSecretArn,
        CITRIX_CLIENT_SECRET: tenant.clientSecretEnv ? env[tenant.clientSecretEnv] : undefined,
        API_BASE: tenant.apiBase ?? env.API_BASE,
        ENTITIES: entities.join(','),
        TIME_FIELDS: pairsFor(env.TIME_FIELDS, entities),
        KEY_FIELDS: pairsFor(env.KEY_FIELDS, entities),
        NEXTLINK_PAGING: (env.NEXTLINK_PAGING ?? '')
          .split(',')
          .filter((e) => entities.includes(e.trim()))
          .join(','),
      },
      inAws,
    );
    // Only the list's apiBase: whoever may write the tenant list could otherwise send a tenant's client
    // secret to a server of theirs. API_BASE is the deployer's own setting, and stays unrestricted.
    if (tenant.apiBase !== undefined) checkApiHost(config.apiBase, apiHosts);
    return Object.freeze({
      ...tenantLayout(config, tenant.id),
      tenant: tenant.id,
      clientSecret: tenant.clientSecretEnv
        ? { kind: 'env', variable: tenant.clientSecretEnv }
        : config.clientSecret,
    } satisfies Config);
  } catch (err) {
    if (!(err instanceof BadConfiguration)) throw err;
    throw new BadConfiguration(`Tenant "${tenant.id}" of the tenant list: ${err.message}`, { cause: err });
  }
}
