import { allowedApiHosts, checkApiHost } from './api-hosts.ts';
import { BadConfiguration } from './errors.ts';
import type { Tenant } from './schemas.ts';
import { closestEntity, MONITOR_ENTITIES } from './settings/entities.ts';
import { apiBaseParser } from './settings/parsers.ts';
import { MissingSetting, parseAs, quoted, read, value } from './settings/readers.ts';
import * as S from './settings/registry.ts';

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
  /** How long an on-time tenant's Express child fetches before it hands the rest on to a Standard child. */
  readonly expressFetchSeconds: number;
  /** The tenant list in WORK_BUCKET (default `{WORK_PREFIX}/tenants.json`); without it, the environment's one tenant. */
  readonly tenantsKey: string;
  /** Tenants collected side by side (TENANT_CONCURRENCY, 1 to 1,000), each a child execution of the Distributed Map. */
  readonly tenantConcurrency: number;
}

type Env = Record<string, string | undefined>;

/**
 * The values of the environment variables a local run names for a client secret (CITRIX_CLIENT_SECRET, a
 * listed tenant's clientSecretEnv), read by the edge that holds the environment: the configuration holds
 * no secret.
 */
export type LocalSecrets = (variable: string) => string | undefined;

/** An `Entity:Field` entry of TIME_FIELDS or KEY_FIELDS, as written and as read. */
interface FieldEntry {
  readonly text: string;
  readonly entity: string;
  readonly field: string;
}

/** TIME_FIELDS or KEY_FIELDS, read: its entries, and what its messages need. */
interface FieldSetting {
  readonly name: string;
  readonly entries: readonly FieldEntry[];
  /** The field of an entity no entry names. */
  readonly fallback: (entity: string) => string;
  /** An entry a message shows as the form to write. */
  readonly example: string;
}

/**
 * The environment, read and validated once: every setting, for the environment's one tenant and for any
 * listed tenant ({@link tenantConfig} lays a tenant entry over it without reading the environment again).
 * Holds no secret.
 */
export interface Settings {
  /** In AWS: a plain-text client secret or an http API base is refused. */
  readonly inAws: boolean;
  readonly layout: StorageLayout;
  readonly allowUnknownEntities: boolean;
  readonly pageSize: number;
  readonly maxConcurrency: number;
  readonly fetchBudgetSeconds: number;
  readonly expressFetchSeconds: number;
  readonly timeFields: FieldSetting;
  readonly keyFields: FieldSetting;
  /** NEXTLINK_PAGING as written, and its entities. */
  readonly nextLinkPaging: { readonly text: string | undefined; readonly entities: readonly string[] };
  /** API_BASE, normalised. */
  readonly apiBase: string;
  /** The hosts a listed tenant's apiBase may name (ALLOWED_API_HOSTS and Citrix Cloud's). */
  readonly apiHosts: readonly string[];
  readonly tenantSecretPrefix: string;
  /** The environment's one tenant (CITRIX_*), each part checked when that tenant is collected. */
  readonly own: {
    readonly customerId: string | undefined;
    readonly clientId: string | undefined;
    readonly clientSecret: SecretSource | undefined;
  };
}

export { wholeNumber } from './settings/readers.ts';

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

const FIELD_NAME = /^[A-Z][A-Za-z0-9]*$/;

/**
 * The entities of `list` (ENTITIES, or a listed tenant's `entities`: `name`) checked against the Monitor
 * entities: a name close to a known one is refused with the one it most likely means, and any other
 * unknown name unless ALLOW_UNKNOWN_ENTITIES is true.
 */
function knownEntities(allowUnknown: boolean, name: string, list: readonly string[]): readonly string[] {
  const typos = list.flatMap((e) => {
    const meant = closestEntity(e);
    return meant ? [`"${e}": did you mean ${meant}?`] : [];
  });
  if (typos.length > 0) {
    throw new BadConfiguration(`${name} names a Monitor entity misspelt: ${typos.join(' ')}`);
  }
  const unknown = list.filter((e) => !MONITOR_ENTITIES.includes(e));
  if (unknown.length > 0 && !allowUnknown) {
    throw new BadConfiguration(
      `${name} names ${unknown.join(', ')}, not a Monitor entity the collector knows (${MONITOR_ENTITIES.join(', ')}). Check the spelling; to collect an entity set of the Monitor API that is not in that list, set ALLOW_UNKNOWN_ENTITIES=true (its rows are paged by Id unless KEY_FIELDS says otherwise).`,
    );
  }
  return Object.freeze([...list]);
}

const badEntry = (setting: FieldSetting | typeof S.TIME_FIELDS, text: string, example: string) =>
  new BadConfiguration(
    `${setting.name} entry ${JSON.stringify(text)} is invalid: expected Entity:Field for an entity in ENTITIES, e.g. "${example}".`,
  );

/** What a field setting (TIME_FIELDS or KEY_FIELDS) falls back to, and the entry its errors show. */
type FieldDefaults = Pick<FieldSetting, 'fallback' | 'example'>;

/** The `Entity:Field` entries of TIME_FIELDS or KEY_FIELDS, each of that form. */
function fieldSetting(
  env: Env,
  setting: typeof S.TIME_FIELDS,
  { fallback, example }: FieldDefaults,
): FieldSetting {
  const entries = value(env, setting)
    .split(',')
    .filter((p) => p.trim())
    .map((text) => {
      const [entity, field, extra] = text.split(':').map((part) => part.trim());
      if (!entity || !field || extra !== undefined || !FIELD_NAME.test(field))
        throw badEntry(setting, text, example);
      return { text, entity, field };
    });
  return { name: setting.name, entries: Object.freeze(entries), fallback, example };
}

/**
 * The field of each of `list` (TIME_FIELDS or KEY_FIELDS over the defaults). Every entity's window
 * defaults to `ModifiedDate`, the field of the entities' base type that moves on every change: a window on
 * a field written once (`FailureStartDate`, say) misses the later update of the row. `strict`: an entry
 * for an entity not in `list` is refused (ENTITIES); else it is for another tenant's entities, and skipped.
 */
function fieldsPerEntity(
  setting: FieldSetting,
  list: readonly string[],
  strict: boolean,
): Readonly<Record<string, string>> {
  const fields: Record<string, string> = {};
  for (const entity of list) fields[entity] = setting.fallback(entity);
  for (const entry of setting.entries) {
    if (list.includes(entry.entity)) fields[entry.entity] = entry.field;
    else if (strict) throw badEntry(setting, entry.text, setting.example);
  }
  return Object.freeze(fields);
}

function nextLinkPaging(settings: Settings, list: readonly string[], strict: boolean): readonly string[] {
  const named = settings.nextLinkPaging.entities;
  const unknown = named.filter((e) => !list.includes(e));
  if (unknown.length > 0 && strict) {
    throw new BadConfiguration(
      `NEXTLINK_PAGING=${JSON.stringify(settings.nextLinkPaging.text)} names ${unknown.join(', ')}, not in ENTITIES (${list.join(',')}): expected a comma-separated list of entities to page by the server's nextLinks.`,
    );
  }
  return Object.freeze(named.filter((e) => list.includes(e)));
}

/**
 * The window size and its settle (SETTLE_MINUTES, at least {@link S.SETTLE_FLOOR_MINUTES}: rows written
 * later into a published window are lost).
 */
function windowing(env: Env): Pick<Config, 'windowMinutes' | 'settleMinutes'> {
  return { windowMinutes: value(env, S.WINDOW_MINUTES), settleMinutes: value(env, S.SETTLE_MINUTES) };
}

/**
 * MAX_HOURS_PER_RUN, refused when it lets a run take on a single window: the schedule starts a run every
 * window, so such a run only keeps pace, and a tenant that falls behind (an outage, a failed run) stays as
 * far behind for good.
 */
function catchUpHours(env: Env, windowMinutes: number): number {
  const maxHours = value(env, S.MAX_HOURS_PER_RUN);
  if ((maxHours * 60) / windowMinutes < 2) {
    throw new BadConfiguration(
      `MAX_HOURS_PER_RUN=${maxHours} with WINDOW_MINUTES=${windowMinutes} lets a run take on one window, the one that became due since the last run: a tenant that falls behind (a Citrix outage, a failed run) would never catch up. Set MAX_HOURS_PER_RUN to at least 2 (default 24).`,
    );
  }
  return maxHours;
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
  | 'windowMinutes'
  | 'settleMinutes'
  | 'maxHoursPerRun'
  | 'tenantsKey'
  | 'tenantConcurrency'
>;

/** S3_PREFIX and WORK_PREFIX, which must not overlap, and the keys under WORK_PREFIX outside S3_PREFIX. */
function keys(env: Env): Pick<StorageLayout, 'prefix' | 'workPrefix' | 'stateKey' | 'tenantsKey'> {
  const prefix = value(env, S.S3_PREFIX);
  const workPrefix = value(env, S.WORK_PREFIX, { S3_PREFIX: prefix });
  // Textual overlap counts too: a feed URI typed without its trailing slash matches every key that
  // merely starts with the prefix's text (citrix_monitor_work/… under s3://bucket/citrix_monitor).
  if (workPrefix.startsWith(prefix) || prefix.startsWith(workPrefix)) {
    throw new BadConfiguration(
      `WORK_PREFIX "${workPrefix}" overlaps S3_PREFIX "${prefix}": the state and staging area must lie outside what the SecOps feed reads. Set WORK_PREFIX to a prefix that does not start with "${prefix}" (default collector-work/${prefix}).`,
    );
  }
  const stateKey = value(env, S.STATE_KEY, { WORK_PREFIX: workPrefix });
  if (stateKey.startsWith(prefix)) {
    throw new BadConfiguration(
      `STATE_KEY=${JSON.stringify(stateKey)} lies under S3_PREFIX "${prefix}", which the SecOps feed ingests: the state file would be ingested as a log. Move it outside: unset STATE_KEY to use ${workPrefix}/state.json, and copy an existing state file there to keep your place.`,
    );
  }
  const tenantsKey = value(env, S.TENANTS_KEY, { WORK_PREFIX: workPrefix });
  if (tenantsKey.startsWith(prefix)) {
    throw new BadConfiguration(
      `TENANTS_KEY=${JSON.stringify(tenantsKey)} lies under S3_PREFIX "${prefix}", which the SecOps feed ingests. Keep the tenant list outside it: unset TENANTS_KEY to use ${workPrefix}/tenants.json.`,
    );
  }
  return { prefix, workPrefix, stateKey, tenantsKey };
}

/**
 * Reads and validates the storage settings alone (buckets, prefixes, state key, compression, entities,
 * windows), as {@link loadSettings} does: the operator CLI reads S3 and never calls Citrix, so it needs no
 * Citrix setting.
 */
export function loadLayout(env: Env): StorageLayout {
  const at = keys(env);
  const bucket = value(env, S.S3_BUCKET);
  const windows = windowing(env);
  return Object.freeze({
    ...at,
    bucket,
    workBucket: value(env, S.WORK_BUCKET, { S3_BUCKET: bucket }),
    stagingPrefix: `${at.workPrefix}/staging`,
    compression: value(env, S.COMPRESSION),
    entities: knownEntities(value(env, S.ALLOW_UNKNOWN_ENTITIES), 'ENTITIES', value(env, S.ENTITIES)),
    ...windows,
    maxHoursPerRun: catchUpHours(env, windows.windowMinutes),
    tenantConcurrency: value(env, S.TENANT_CONCURRENCY),
  } satisfies StorageLayout);
}

/** The API base `raw` (`name`: API_BASE, or a listed tenant's apiBase), which in AWS must be https. */
function apiBaseOf(name: string, raw: string, inAws: boolean): string {
  const base = parseAs({ name, raw }, apiBaseParser);
  if (inAws && base.startsWith('http:')) {
    throw new BadConfiguration(
      `${name}=${quoted(raw)} uses http: in AWS the client secret and token must travel over https.`,
    );
  }
  return base;
}

/** A setting that is required only where it is used: its value, or undefined when it is unset. */
const ifSet = <T>(env: Env, s: S.Setting<T>): T | undefined =>
  env[s.name]?.trim() ? value(env, s) : undefined;

/** The environment's one tenant: CITRIX_*, its secret from Secrets Manager (CITRIX_CLIENT_SECRET_ARN) or the environment. */
function ownTenant(env: Env): Settings['own'] {
  const secretId = read(env, S.CITRIX_CLIENT_SECRET_ARN);
  const local = ifSet(env, S.CITRIX_CLIENT_SECRET) === undefined ? undefined : 'CITRIX_CLIENT_SECRET';
  return {
    customerId: ifSet(env, S.CITRIX_CUSTOMER_ID),
    clientId: ifSet(env, S.CITRIX_CLIENT_ID),
    clientSecret: secretId
      ? { kind: 'secretsManager', secretId }
      : local === undefined
        ? undefined
        : { kind: 'env', variable: local },
  };
}

/** The settings of how entities are collected: fields, paging, page size, budgets. */
function collecting(env: Env) {
  value(env, S.USE_TIME_FILTER);
  return {
    allowUnknownEntities: value(env, S.ALLOW_UNKNOWN_ENTITIES),
    pageSize: value(env, S.PAGE_SIZE),
    timeFields: fieldSetting(env, S.TIME_FIELDS, {
      fallback: () => 'ModifiedDate',
      example: 'MachineFailureLogs:FailureStartDate',
    }),
    keyFields: fieldSetting(env, S.KEY_FIELDS, {
      fallback: (e) => KNOWN_KEYS[e] ?? 'Id',
      example: 'SessionMetrics:Id',
    }),
    nextLinkPaging: { text: env.NEXTLINK_PAGING, entities: Object.freeze(value(env, S.NEXTLINK_PAGING)) },
    maxConcurrency: value(env, S.MAX_CONCURRENCY),
    fetchBudgetSeconds: value(env, S.FETCH_BUDGET_SECONDS),
    expressFetchSeconds: value(env, S.EXPRESS_FETCH_SECONDS),
  } satisfies Partial<Settings>;
}

/**
 * Reads and validates every setting of the environment at once, into one frozen object. Throws
 * {@link BadConfiguration} naming the variable and what it expected. `inAws` refuses a plain-text client
 * secret (in AWS it must come from Secrets Manager) and an http API base.
 */
export function loadSettings(env: Env, inAws = Boolean(env.AWS_LAMBDA_FUNCTION_NAME)): Settings {
  const layout = loadLayout(env);
  const settings: Settings = {
    inAws,
    layout,
    ...collecting(env),
    apiBase: apiBaseOf('API_BASE', value(env, S.API_BASE), inAws),
    apiHosts: allowedApiHosts(value(env, S.ALLOWED_API_HOSTS), inAws),
    tenantSecretPrefix: value(env, S.TENANT_SECRET_PREFIX),
    own: ownTenant(env),
  };
  // The environment's own entries are checked against ENTITIES now, whether or not it is collected.
  fieldsPerEntity(settings.timeFields, layout.entities, true);
  fieldsPerEntity(settings.keyFields, layout.entities, true);
  nextLinkPaging(settings, layout.entities, true);
  return Object.freeze(settings);
}

/** The settings of how a tenant collects `entities`; `strict` for the environment's own tenant. */
function collectingOf(settings: Settings, entities: readonly string[], strict: boolean) {
  return {
    entities,
    pageSize: settings.pageSize,
    timeFields: fieldsPerEntity(settings.timeFields, entities, strict),
    keyFields: fieldsPerEntity(settings.keyFields, entities, strict),
    nextLinkPaging: nextLinkPaging(settings, entities, strict),
    maxConcurrency: settings.maxConcurrency,
    fetchBudgetSeconds: settings.fetchBudgetSeconds,
    expressFetchSeconds: settings.expressFetchSeconds,
  } satisfies Partial<Config>;
}

/** The environment's one tenant's configuration: CITRIX_* are required now. */
function ownConfig(settings: Settings): Config {
  const { own, inAws } = settings;
  if (own.clientSecret?.kind !== 'secretsManager' && inAws) {
    throw new BadConfiguration(
      'CITRIX_CLIENT_SECRET_ARN is not set: in AWS the client secret is read from Secrets Manager, never from a plain environment variable. Deploy with --param="clientSecretArn=<ARN>", or leave that parameter empty for the stack to create the secret.',
    );
  }
  if (own.clientSecret === undefined) throw new MissingSetting('CITRIX_CLIENT_SECRET');
  if (own.customerId === undefined) throw new MissingSetting('CITRIX_CUSTOMER_ID');
  if (own.clientId === undefined) throw new MissingSetting('CITRIX_CLIENT_ID');
  return Object.freeze({
    ...settings.layout,
    ...collectingOf(settings, settings.layout.entities, true),
    tenant: null,
    customerId: own.customerId,
    clientId: own.clientId,
    clientSecret: own.clientSecret,
    apiBase: settings.apiBase,
  } satisfies Config);
}

/**
 * The configuration of the environment's one tenant, read and validated at once: {@link loadSettings}
 * and {@link tenantConfig} of no listed tenant.
 */
export function loadConfig(env: Env, inAws = Boolean(env.AWS_LAMBDA_FUNCTION_NAME)): Config {
  return ownConfig(loadSettings(env, inAws));
}

/**
 * Every check a run makes of the deployment's own settings, for packaging to make first
 * (deploy/params.cjs, on the environment the stack gives the functions): what {@link loadSettings} checks in
 * AWS, and LAG_ALARM_HOURS (read by the lag alarm and `citrix-monitor status`). A mistake then fails the
 * package with the message a run would give, instead of every run after the deploy. Not the Citrix tenant
 * (customer, client, secret): the stack, the tenant list or the secret's value supply those, none of which
 * packaging sees.
 */
export function checkDeployment(env: Env): void {
  loadSettings(env, true);
  value(env, S.LAG_ALARM_HOURS);
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

/** Where a listed tenant's client secret is: its clientSecretArn under TENANT_SECRET_PREFIX, or (locally) clientSecretEnv. */
function tenantSecret(settings: Settings, tenant: Tenant, secrets: LocalSecrets): SecretSource {
  if (tenant.clientSecretEnv) {
    if (settings.inAws) {
      throw new BadConfiguration(
        'clientSecretEnv is for local runs only: in AWS give clientSecretArn, the Secrets Manager secret of the client secret.',
      );
    }
    if (!secrets(tenant.clientSecretEnv)?.trim()) {
      throw new BadConfiguration(
        `clientSecretEnv names ${tenant.clientSecretEnv}, which is not set. Set it to the tenant's client secret (export ${tenant.clientSecretEnv}=…), or give clientSecretArn instead.`,
      );
    }
    return { kind: 'env', variable: tenant.clientSecretEnv };
  }
  const secretId = tenant.clientSecretArn ?? '';
  const secretPrefix = settings.tenantSecretPrefix;
  const secretName = secretId.replace(/^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:/, '');
  if (secretPrefix && !secretName.startsWith(secretPrefix)) {
    throw new BadConfiguration(
      `clientSecretArn ${JSON.stringify(secretId)} names a secret outside TENANT_SECRET_PREFIX "${secretPrefix}": the collector may read only the tenants' secrets under that prefix. Store the tenant's client secret as ${secretPrefix}${tenant.id} and give its ARN.`,
    );
  }
  return { kind: 'secretsManager', secretId };
}

/**
 * A listed tenant's API base: its apiBase, which must name an allowed API host ({@link allowedApiHosts}),
 * or API_BASE. Only the list's apiBase is restricted: whoever may write the tenant list could otherwise
 * send a tenant's client secret to a server of theirs. API_BASE is the deployer's own setting.
 */
function tenantApiBase(settings: Settings, tenant: Tenant): string {
  if (tenant.apiBase === undefined) return settings.apiBase;
  // The host first: a foreign host is the graver mistake, whatever else is wrong with the URL.
  if (URL.canParse(tenant.apiBase)) checkApiHost(tenant.apiBase, settings.apiHosts);
  return apiBaseOf('apiBase', tenant.apiBase, settings.inAws);
}

/** A listed tenant's configuration: its entry of the tenant list laid over the settings. */
function listedConfig(settings: Settings, tenant: Tenant, secrets: LocalSecrets): Config {
  const apiBase = tenantApiBase(settings, tenant);
  const clientSecret = tenantSecret(settings, tenant, secrets);
  const { layout } = settings;
  const entities = tenant.entities
    ? knownEntities(settings.allowUnknownEntities, 'entities', tenant.entities)
    : layout.entities;
  return Object.freeze({
    ...tenantLayout(layout, tenant.id),
    ...collectingOf(settings, entities, false),
    tenant: tenant.id,
    customerId: tenant.customerId,
    clientId: tenant.clientId,
    clientSecret,
    apiBase,
  } satisfies Config);
}

/**
 * The configuration of one tenant: the settings with the tenant's Citrix customer, client, secret, API
 * base and entities, and the tenant's own storage ({@link tenantLayout}). Null: the environment's one
 * tenant, with the storage it always had. Errors name the tenant and its own fields. `secrets` says
 * whether a tenant's clientSecretEnv is set (local runs).
 */
export function tenantConfig(
  settings: Settings,
  tenant: Tenant | null,
  secrets: LocalSecrets = () => undefined,
): Config {
  if (tenant === null) return ownConfig(settings);
  try {
    return listedConfig(settings, tenant, secrets);
  } catch (err) {
    if (!(err instanceof BadConfiguration)) throw err;
    throw new BadConfiguration(`Tenant "${tenant.id}" of the tenant list: ${err.message}`, { cause: err });
  }
}
