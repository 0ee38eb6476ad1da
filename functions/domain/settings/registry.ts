import { z } from 'zod';
import { WINDOW_SIZES } from '../windows.ts';
import {
  apiBaseParser,
  bucket,
  entityList,
  flag,
  keyPrefix,
  nameList,
  objectKey,
  oneOf,
  type Parser,
  text,
  whole,
} from './parsers.ts';

/**
 * The settings the collector and the operator CLI read from the environment: each one's variable, default,
 * meaning and parser, in one place. The loaders (config.ts), the configuration table (docs/configuration.md)
 * ({@link settingsTable}), the CLI's help and the test of serverless.yml's defaults all read them from here.
 */

export interface Setting<T = unknown> {
  /** The environment variable. */
  readonly name: string;
  /**
   * The value when the variable is unset or empty, as text; `{OTHER}` stands for another setting's value
   * (`collector-work/{S3_PREFIX}`). Absent: the setting has no default (required, or optional and off).
   */
  readonly default?: string;
  /** How docs/configuration.md shows the default when the text alone would not say it (`ModifiedDate` for every entity). */
  readonly shown?: string;
  /** For a setting without a default that a run cannot do without: what it is for, said when it is missing. */
  readonly required?: string;
  /** One line, in Markdown (links relative to docs/configuration.md): the table's meaning and, plain, the CLI's help. */
  readonly meaning: string;
  /** The serverless.yml deploy parameter that sets it (params.default holds its default, or empty). */
  readonly param?: string;
  /** What serverless.yml's params.default holds when it differs from the default on purpose. */
  readonly deployed?: string;
  /** An example for the "export NAME=…" of a missing setting's message. */
  readonly example?: string;
  /** Always set by the deployed stack: a missing value is a local mistake, and its message says so alone. */
  readonly setByStack?: true;
  /** A secret: its value never appears in a message. */
  readonly secret?: boolean;
  /**
   * An empty value reads as unset, for a setting the stack passes empty on purpose (serverless.yml
   * defaults its parameter to ''); its meaning says so. Without it, an empty value of a setting that has a
   * default is refused: a user who typed `ENTITIES=` meant something, and it was not the default.
   */
  readonly emptyIsUnset?: true;
  readonly parse: Parser<T>;
}

const setting = <T>(s: Setting<T>): Setting<T> => Object.freeze(s);

const MINUTES_MAX = 60 * 24 * 30;

/**
 * The shortest settle: how long after its end a window is published. Citrix documents no latency for raw
 * Monitor rows, only that events may be "missed or delayed"; the collector before windows gave an hour's
 * last rows 15 minutes (its 75-minute look-back). A row written into a window after that window was
 * published is never collected, since the next window's filter starts where that one ended: a shorter
 * settle trades rows for freshness without saying so, hence a floor rather than a warning.
 */
export const SETTLE_FLOOR_MINUTES = 15;

/** What a settle under the floor puts at risk, for the messages that refuse one. */
const LATE_ROWS = `: a window is published that long after its end, and a row Citrix writes into it later is lost for good (the next window starts where it ended); ${SETTLE_FLOOR_MINUTES} minutes is the settle every row had before windows`;

/** A Lambda's longest timeout, and the fetch Lambda's (serverless.yml functions.fetchPage.timeout). */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
/** Time the fetch Lambda keeps back from its timeout to write its last object and hand back a continuation. */
export const FETCH_SAFETY_SECONDS = 60;

export const S3_BUCKET = setting({
  name: 'S3_BUCKET',
  required: 'the bucket the collector publishes to',
  meaning: 'bucket to write to',
  param: 'bucketName',
  setByStack: true,
  example: 'my-citrix-logs',
  parse: bucket,
});
export const S3_PREFIX = setting({
  name: 'S3_PREFIX',
  default: 'citrix_monitor',
  meaning: "published prefix: the SecOps feed's S3 URI",
  param: 'prefix',
  parse: keyPrefix,
});
export const WORK_BUCKET = setting({
  name: 'WORK_BUCKET',
  default: '{S3_BUCKET}',
  meaning:
    'bucket of the state, commit records and staging (see [Exactly once](design.md#exactly-once-how-and-what-it-needs))',
  parse: bucket,
});
export const WORK_PREFIX = setting({
  name: 'WORK_PREFIX',
  default: 'collector-work/{S3_PREFIX}',
  meaning: 'state, commit records and staging; must not overlap `S3_PREFIX`, not even as text',
  param: 'workPrefix',
  parse: keyPrefix,
});
export const STATE_KEY = setting({
  name: 'STATE_KEY',
  default: '{WORK_PREFIX}/state.json',
  meaning: 'state file; refused under `S3_PREFIX/` (the feed would ingest it)',
  parse: objectKey,
});
export const CITRIX_CUSTOMER_ID = setting({
  name: 'CITRIX_CUSTOMER_ID',
  required: 'the Citrix Cloud customer ID whose Monitor data is collected',
  meaning: 'Citrix Cloud customer id',
  param: 'customerId',
  example: 'your-customer-id',
  parse: text,
});
export const CITRIX_CLIENT_ID = setting({
  name: 'CITRIX_CLIENT_ID',
  required: 'the ID of the Citrix Cloud API client the collector signs in with',
  meaning: 'API client id',
  param: 'clientId',
  example: 'your-api-client-id',
  parse: text,
});
export const CITRIX_CLIENT_SECRET_ARN = setting({
  name: 'CITRIX_CLIENT_SECRET_ARN',
  shown: '(required in AWS)',
  meaning:
    'Secrets Manager secret holding the client secret (plain text, or JSON `{"client_secret": "…"}`), read at run time and cached 5 minutes',
  param: 'clientSecretArn',
  parse: text,
});
export const CITRIX_CLIENT_SECRET = setting({
  name: 'CITRIX_CLIENT_SECRET',
  required:
    "for a local run, the API client's secret (or CITRIX_CLIENT_SECRET_ARN, to read it from Secrets Manager)",
  shown: '(required locally without `CITRIX_CLIENT_SECRET_ARN`)',
  meaning: 'the client secret, for local runs only; refused in AWS',
  example: '…',
  secret: true,
  parse: text,
});
export const API_BASE = setting({
  name: 'API_BASE',
  default: 'https://api.cloud.com',
  meaning:
    'the API host only, no path: `https://api.citrixcloud.jp` for Japan, `https://api.cloud.us` for US Government',
  param: 'apiBase',
  parse: apiBaseParser,
});
export const ENTITIES = setting({
  name: 'ENTITIES',
  default: 'Machines,Sessions,Connections,Applications,Users',
  meaning:
    'Monitor entities to collect; a name close to a known entity is refused with the one it most likely means',
  param: 'entities',
  parse: entityList,
});
export const ALLOW_UNKNOWN_ENTITIES = setting({
  name: 'ALLOW_UNKNOWN_ENTITIES',
  default: 'false',
  meaning:
    "`true` lets `ENTITIES` (and a listed tenant's `entities`) name entity sets the collector does not know",
  param: 'allowUnknownEntities',
  parse: flag,
});
export const TIME_FIELDS = setting({
  name: 'TIME_FIELDS',
  default: '',
  shown: '`ModifiedDate` for every entity',
  meaning:
    'per-entity window field, e.g. `Sessions:StartDate`; a field that does not move on every change misses updates',
  param: 'timeFields',
  parse: text,
});
export const KEY_FIELDS = setting({
  name: 'KEY_FIELDS',
  default: '',
  shown: "the entity's OData key (see [Paging](design.md#paging-by-key-and-why)); `Id` otherwise",
  meaning: 'per-entity key to page by, e.g. `SessionMetrics:Id`',
  param: 'keyFields',
  parse: text,
});
export const NEXTLINK_PAGING = setting({
  name: 'NEXTLINK_PAGING',
  default: '',
  meaning:
    "entities paged by the server's offset nextLinks instead of by key: they may lose rows (see [Paging](design.md#paging-by-key-and-why))",
  param: 'nextLinkPaging',
  parse: nameList('an entity'),
});
export const PAGE_SIZE = setting({
  name: 'PAGE_SIZE',
  default: '1000',
  meaning:
    'rows per request: `$top` of each key-paged request (it caps that one request), and `Prefer: odata.maxpagesize`; the server may page smaller',
  param: 'pageSize',
  parse: whole(1, 10000),
});
export const WINDOW_MINUTES = setting({
  name: 'WINDOW_MINUTES',
  default: '60',
  meaning:
    'minutes per window: 5, 10, 15, 20, 30 or 60 (see [Fresher data](design.md#fresher-data-windows-shorter-than-an-hour))',
  param: 'windowMinutes',
  parse: z
    .string()
    .refine(
      (s) => WINDOW_SIZES.some((size) => String(size) === s),
      `is invalid: expected one of ${WINDOW_SIZES.join(', ')} (a divisor of the hour)`,
    )
    .transform(Number),
});
export const SETTLE_MINUTES = setting({
  name: 'SETTLE_MINUTES',
  default: '15',
  meaning: `a window is due this long after its end: at least ${SETTLE_FLOOR_MINUTES}, or rows Citrix writes late are lost`,
  param: 'settleMinutes',
  parse: whole(SETTLE_FLOOR_MINUTES, MINUTES_MAX, LATE_ROWS),
});
export const USE_TIME_FILTER = setting({
  name: 'USE_TIME_FILTER',
  default: 'true',
  meaning: '`false` is refused: without the hour filter every run would collect whole entities again',
  parse: z
    .string()
    .refine(
      (s) => s.toLowerCase() === 'true',
      'is not supported: without the hour filter every run would collect whole entities again and duplicate them in SecOps. Leave it unset (or "true"); to window an entity on another field set TIME_FIELDS (e.g. "ConnectionFailureLogs:FailureDate")',
    ),
});
export const COMPRESSION = setting({
  name: 'COMPRESSION',
  default: 'none',
  meaning: '`gzip` writes `.ndjson.gz`',
  param: 'compression',
  parse: oneOf(['none', 'gzip'] as const),
});
export const MAX_CONCURRENCY = setting({
  name: 'MAX_CONCURRENCY',
  default: '1',
  meaning: 'entities fetched at once (Citrix allows one call per tenant at a time)',
  param: 'maxConcurrency',
  parse: whole(1, 40),
});
export const MAX_HOURS_PER_RUN = setting({
  name: 'MAX_HOURS_PER_RUN',
  default: '24',
  meaning:
    "hours a scheduled run catches up at most (1 to 168, and at least two windows; a run also takes on no more windows than fill half its child's history, 183 of five entities: see [How many tenants](many-tenants.md#how-many-tenants))",
  param: 'maxHoursPerRun',
  parse: whole(1, 168),
});
export const FETCH_BUDGET_SECONDS = setting({
  name: 'FETCH_BUDGET_SECONDS',
  default: '600',
  meaning: `how long one page-fetch invocation fetches before it returns a continuation (at most ${LAMBDA_MAX_TIMEOUT_SECONDS - FETCH_SAFETY_SECONDS}: the Lambda's ${LAMBDA_MAX_TIMEOUT_SECONDS} s less ${FETCH_SAFETY_SECONDS} s to finish)`,
  parse: whole(1, LAMBDA_MAX_TIMEOUT_SECONDS - FETCH_SAFETY_SECONDS),
});
/** AWS ends an Express execution at 5 minutes ("Standard and Express workflow types"). */
export const EXPRESS_LIMIT_SECONDS = 300;
/** Time an Express child keeps back from its 5 minutes after its fetch deadline: the last write, the commit, a Lambda retry. */
export const EXPRESS_SAFETY_SECONDS = 60;
export const EXPRESS_FETCH_SECONDS = setting({
  name: 'EXPRESS_FETCH_SECONDS',
  default: String(EXPRESS_LIMIT_SECONDS - EXPRESS_SAFETY_SECONDS),
  meaning: `how long the child of a tenant that is on time (an Express execution, which AWS ends at ${EXPRESS_LIMIT_SECONDS / 60} minutes) fetches before it hands what is left to a Standard child in the same run (at most ${EXPRESS_LIMIT_SECONDS - EXPRESS_SAFETY_SECONDS}: ${EXPRESS_SAFETY_SECONDS} s are kept for the last write and the commit)`,
  parse: whole(1, EXPRESS_LIMIT_SECONDS - EXPRESS_SAFETY_SECONDS),
});
export const TENANTS_KEY = setting({
  name: 'TENANTS_KEY',
  default: '{WORK_PREFIX}/tenants.json',
  meaning:
    'the tenant list in `WORK_BUCKET` (see [Many tenants](many-tenants.md)); when it is absent, the `CITRIX_*` variables name the one tenant; empty reads as unset',
  param: 'tenantsKey',
  // A stage may set tenantsKey to '' (serverless.yml's DefaultTenantsKey condition): the default key.
  emptyIsUnset: true,
  parse: objectKey,
});
export const TENANT_CONCURRENCY = setting({
  name: 'TENANT_CONCURRENCY',
  default: '10',
  meaning: 'tenants collected side by side (1 to 1,000), each a child execution',
  param: 'tenantConcurrency',
  parse: whole(1, 1000),
});
export const ALLOWED_API_HOSTS = setting({
  name: 'ALLOWED_API_HOSTS',
  default: '',
  meaning:
    "hosts a listed tenant's `apiBase` may name besides Citrix Cloud's API hosts (comma-separated host names; see [The tenant list](many-tenants.md#the-tenant-list))",
  param: 'allowedApiHosts',
  parse: text,
});
export const TENANT_SECRET_PREFIX = setting({
  name: 'TENANT_SECRET_PREFIX',
  default: '',
  shown: '(none; `citrix-monitor/<stage>/tenants/` when deployed)',
  meaning:
    "a listed tenant's `clientSecretArn` must name a secret under this prefix: the only secrets the fetch role may read",
  param: 'tenantSecretPrefix',
  deployed: `citrix-monitor/\${sls:stage}/tenants/`,
  parse: text,
});
export const LAG_ALARM_HOURS = setting({
  name: 'LAG_ALARM_HOURS',
  default: '3',
  meaning:
    "`citrix-monitor status` is unhealthy, and the deployed lag alarm fires, when a state's lag is above this many hours",
  param: 'lagAlarmHours',
  parse: whole(0, 24 * 365),
});

export const AWS_ENDPOINT_URL_S3 = setting({
  name: 'AWS_ENDPOINT_URL_S3',
  meaning:
    'the S3 endpoint, for an S3-compatible server (MinIO, Ceph, a local one); unset: AWS S3 in the region',
  parse: z.string().refine((s) => URL.canParse(s), 'is not a URL: expected e.g. http://127.0.0.1:9000'),
});
export const S3_FORCE_PATH_STYLE = setting({
  name: 'S3_FORCE_PATH_STYLE',
  default: 'false',
  meaning: '`true` addresses buckets by path (`endpoint/bucket/key`), as S3-compatible servers may need',
  parse: flag,
});

/** Every setting, in the order of docs/configuration.md's table. */
export const SETTINGS: readonly Setting[] = Object.freeze([
  S3_BUCKET,
  S3_PREFIX,
  WORK_BUCKET,
  WORK_PREFIX,
  STATE_KEY,
  CITRIX_CUSTOMER_ID,
  CITRIX_CLIENT_ID,
  CITRIX_CLIENT_SECRET_ARN,
  CITRIX_CLIENT_SECRET,
  API_BASE,
  ENTITIES,
  ALLOW_UNKNOWN_ENTITIES,
  TIME_FIELDS,
  KEY_FIELDS,
  NEXTLINK_PAGING,
  PAGE_SIZE,
  WINDOW_MINUTES,
  SETTLE_MINUTES,
  USE_TIME_FILTER,
  COMPRESSION,
  MAX_CONCURRENCY,
  MAX_HOURS_PER_RUN,
  FETCH_BUDGET_SECONDS,
  EXPRESS_FETCH_SECONDS,
  TENANTS_KEY,
  TENANT_CONCURRENCY,
  ALLOWED_API_HOSTS,
  TENANT_SECRET_PREFIX,
  LAG_ALARM_HOURS,
  AWS_ENDPOINT_URL_S3,
  S3_FORCE_PATH_STYLE,
]);
