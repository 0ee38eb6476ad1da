import { z } from 'zod';
import { BadConfiguration } from './errors.ts';
import { WINDOW_SIZES } from './windows.ts';

/**
 * The settings the collector and the operator CLI read from the environment: each one's variable, default,
 * meaning and parser, in one place. The loaders (config.ts), the configuration table (docs/configuration.md)
 * ({@link settingsTable}), the CLI's help and the test of serverless.yml's defaults all read them from here.
 */

type Env = Record<string, string | undefined>;

/**
 * A parser of a setting's text (trimmed, never empty). An issue's message is what follows the setting in
 * the error: `is invalid: expected …`; `{name}` in it stands for the setting (`API_BASE`, or a listed
 * tenant's `apiBase`).
 */
type Parser<T> = z.ZodType<T, string>;

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

// ---------------------------------------------------------------------------------------------------
// Parsers

const text: Parser<string> = z.string();

/** A whole number from `min` to `max`; `why` follows the range in the message (what the bounds protect). */
export const whole = (min: number, max: number, why = ''): Parser<number> =>
  z
    .string()
    .refine(
      (s) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max,
      `is invalid: expected a whole number from ${min} to ${max}${why}`,
    )
    .transform(Number);

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(
      z.enum(values, { error: `is invalid: expected ${values.map((v) => JSON.stringify(v)).join(' or ')}` }),
    );

/** The S3 naming rules of general purpose buckets (S3 User Guide, "General purpose bucket naming rules"). */
export function isBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !/^(xn--|sthree-|amzn-s3-demo-)/.test(name) &&
    !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)
  );
}

const bucket: Parser<string> = z
  .string()
  .refine(
    isBucketName,
    'is not an S3 bucket name: expected 3 to 63 lower-case letters, digits, dots and hyphens, beginning and ending with a letter or digit, e.g. "citrix-monitor-logs" (S3 bucket naming rules)',
  );

const keyPrefix: Parser<string> = z
  .string()
  .transform((s) => s.replace(/^\/+|\/+$/g, ''))
  .refine(
    (s) => s !== '' && !s.includes('//') && !/[\\{}^%`"<>#|]/.test(s),
    'is invalid: expected an S3 key prefix such as "citrix_monitor"',
  );

const objectKey: Parser<string> = z
  .string()
  .transform((s) => s.replace(/^\/+/, ''))
  .refine(
    (s) => s !== '',
    'is invalid: expected an S3 key such as "collector-work/citrix_monitor/state.json"',
  );

const HOST_ONLY = '{name} must be the host only, e.g. https://api.cloud.com (the collector adds the paths)';

/** An API base: an http(s) origin, normalised (`https://api.cloud.com`, lower-case host, no trailing slash). */
export const apiBaseParser: Parser<string> = z.string().transform((raw, ctx) => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('is not a URL: expected e.g. https://api.cloud.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return fail('is invalid: expected an http(s) base URL, e.g. https://api.cloud.com');
  if (url.username || url.password)
    return fail(
      `holds a user name or password: ${HOST_ONLY}; the client's credentials are the client ID and secret`,
    );
  if (url.search || url.hash)
    return fail('is invalid: expected an http(s) base URL with no query, e.g. https://api.cloud.com');
  const path = url.pathname.replace(/\/+$/, '');
  if (path) return fail(`has a path (${path}): ${HOST_ONLY}`);
  return url.origin;
});

const ENTITY_NAME = /^[A-Z][A-Za-z0-9]*$/;

/** A comma-separated list of names, each once. */
const nameList = (what: string): Parser<string[]> =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
    )
    .refine((list) => new Set(list).size === list.length, `lists ${what} twice`);

const entityList: Parser<string[]> = nameList('an entity').superRefine((list, ctx) => {
  const bad = list.filter((e) => !ENTITY_NAME.test(e) && !closestEntity(e));
  if (list.length === 0 || bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `is invalid: expected a comma-separated list of Monitor entity names such as "Machines,Sessions"${bad.length ? ` (not an entity name: ${bad.join(', ')})` : ''}`,
    });
  }
});

const flag: Parser<boolean> = oneOf(['true', 'false'] as const).transform((s) => s === 'true');

// ---------------------------------------------------------------------------------------------------
// The Monitor entities

/**
 * The entity sets of the Monitor Service OData API: the v4 `Data` endpoints of citrix/monitoring-api
 * (citrix/monitoring-api/docs/index.md), the entity types of its Monitor.Model.md whose sets the Citrix docs name
 * (../shared/docs/citrix-monitor-api.md). ENTITIES may name others only with ALLOW_UNKNOWN_ENTITIES=true:
 * a name outside this list is far more often a typo than a new entity, and a typo fails only at query time.
 */
export const MONITOR_ENTITIES: readonly string[] = Object.freeze([
  'Applications',
  'ApplicationActivitySummaries',
  'ApplicationErrors',
  'ApplicationFaults',
  'ApplicationInstances',
  'Catalogs',
  'ConnectionFailureCategories',
  'ConnectionFailureLogs',
  'Connections',
  'DesktopGroups',
  'FailureLogSummaries',
  'Hotfixes',
  'Hypervisors',
  'LoadIndexes',
  'LoadIndexSummaries',
  'LogOnMetrics',
  'LogOnSummaries',
  'MachineFailureLogs',
  'MachineHotfixLogs',
  'MachineMetric',
  'Machines',
  'ProbeEndpoints',
  'ProbeLogs',
  'ProbeResults',
  'ProbeRules',
  'SessionActivitySummaries',
  'SessionMetrics',
  'Sessions',
  'TaskLogs',
  'Users',
]);

/** Edit distance (insertions, deletions, substitutions) of two short names. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

/**
 * The name of `names` that `name` most likely means: the same but for case, or at most `most` edits away
 * (the nearest; the first of equals). Undefined when `name` is one of them or none is that close.
 */
export function closest(name: string, names: readonly string[], most = 2): string | undefined {
  if (names.includes(name)) return undefined;
  const lower = name.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const candidate of names) {
    const d = distance(lower, candidate.toLowerCase());
    if (d <= most && (best === undefined || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}

/** The known entity a name that is not one most likely means: the same but for case, or 1 or 2 edits away. */
export function closestEntity(name: string): string | undefined {
  return closest(name, MONITOR_ENTITIES);
}

// ---------------------------------------------------------------------------------------------------
// The settings, in the order of docs/configuration.md's table

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

/** LOOKBACK_MINUTES with `windowMinutes`: the window and a settle of at least {@link SETTLE_FLOOR_MINUTES}. */
export const lookbackParser = (windowMinutes: number): Parser<number> =>
  whole(
    windowMinutes + SETTLE_FLOOR_MINUTES,
    MINUTES_MAX,
    ` (WINDOW_MINUTES, ${windowMinutes}, and a settle of at least ${SETTLE_FLOOR_MINUTES})${LATE_ROWS}`,
  );
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
  meaning: `a window is due this long after its end: at least ${SETTLE_FLOOR_MINUTES}, or rows Citrix writes late are lost; empty reads as unset`,
  param: 'settleMinutes',
  // Empty when deployed: a stage that still sets lookbackMinutes (before windows) keeps its settle.
  deployed: '',
  emptyIsUnset: true,
  parse: whole(SETTLE_FLOOR_MINUTES, MINUTES_MAX, LATE_ROWS),
});
export const LOOKBACK_MINUTES = setting({
  name: 'LOOKBACK_MINUTES',
  meaning:
    'before windows: the hour and its settle (75); used for the settle (`LOOKBACK_MINUTES − WINDOW_MINUTES`) when `SETTLE_MINUTES` is not set',
  param: 'lookbackMinutes',
  // The range for the shortest window; the window's own is lookbackParser(WINDOW_MINUTES) (config.ts).
  parse: lookbackParser(5),
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
  LOOKBACK_MINUTES,
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
]);

// ---------------------------------------------------------------------------------------------------
// Reading

/** How a message shows a value: quoted, any `user:password@` of a URL left out. */
export const quoted = (value: string | undefined): string =>
  JSON.stringify(value?.replace(/\/\/[^/@]*@/, '//…@'));

/** A setting's default with the `{OTHER}` of other settings' values filled in. */
export const defaultOf = (s: Setting, values: Readonly<Record<string, string>> = {}): string | undefined =>
  s.default?.replace(/\{([A-Z0-9_]+)\}/g, (_, name: string) => values[name] ?? '');

/**
 * A required setting that is not set. Still a {@link BadConfiguration} to the state machine; `setting`
 * lets a caller add what applies to that setting alone (the tenant list, when no Citrix tenant is set).
 */
export class MissingSetting extends BadConfiguration {
  readonly setting: string;
  constructor(setting: string) {
    const s = SETTINGS.find((candidate) => candidate.name === setting);
    const deployed = s?.param && !s.setByStack ? `; deployed: --param="${s.param}=…"` : '';
    super(
      `${setting} is not set: it is required, ${s?.required}. Locally: export ${setting}=${s?.example ?? '…'}${deployed} (docs/configuration.md).`,
    );
    this.setting = setting;
  }
}

const missing = (s: Setting): MissingSetting => new MissingSetting(s.name);

/**
 * An empty value of a setting that has a default: the user typed the variable, so the default is not what
 * they meant, and taking it without a word would hide the mistake (`ENTITIES=` collecting five entities).
 */
const empty = (s: Setting, values: Readonly<Record<string, string>>): BadConfiguration =>
  new BadConfiguration(
    `${s.name} is empty: give it a value, or leave it unset for its default, ${quoted(defaultOf(s, values))}.`,
  );

/**
 * The message of a value `parse` refused: `NAME="value" is invalid: expected …`. `name` is how the
 * message names the setting: a variable (`API_BASE="…"`), or a listed tenant's field (`apiBase "…"`).
 */
function refused(name: string, raw: string, issues: z.core.$ZodIssue[], secret = false): BadConfiguration {
  const shown = secret ? '' : /^[A-Z]/.test(name) ? `=${quoted(raw)}` : ` ${quoted(raw)}`;
  const message = (issues[0]?.message ?? 'is invalid').replaceAll('{name}', name);
  return new BadConfiguration(`${name}${shown} ${message}.`);
}

/** Parses `raw` with `parse`, or throws {@link refused}. */
export function parseAs<T>(name: string, raw: string, parse: Parser<T>, secret = false): T {
  const result = parse.safeParse(raw);
  if (!result.success) throw refused(name, raw, result.error.issues, secret);
  return result.data;
}

/**
 * A setting's value: the variable's text (trimmed), or its default (`values` fill the `{OTHER}` in it),
 * parsed. Undefined when it is unset and has no default, unless it is required: then a
 * {@link BadConfiguration} says what it is for and how to set it. `parse` overrides the setting's parser
 * (a range that depends on another setting).
 */
export function read<T>(
  env: Env,
  s: Setting<T>,
  values: Readonly<Record<string, string>> = {},
  parse: Parser<T> = s.parse,
): T | undefined {
  const given = env[s.name]?.trim();
  if (given === '' && s.default && !s.emptyIsUnset) throw empty(s, values);
  const raw = given || defaultOf(s, values);
  if (raw === undefined) {
    if (s.required) throw missing(s);
    return undefined;
  }
  return parseAs(s.name, raw, parse, s.secret);
}

/** {@link read} for a setting that always has a value (a default, or required). */
export function value<T>(env: Env, s: Setting<T>, values: Readonly<Record<string, string>> = {}): T {
  const result = read(env, s, values);
  if (result === undefined) throw missing(s);
  return result;
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
  const trimmed = raw?.trim();
  if (!trimmed) return fallback;
  const result = whole(min, max).safeParse(trimmed);
  if (result.success) return result.data;
  const shown = `${what}${what.endsWith('=') ? '' : ' '}${JSON.stringify(trimmed)}`;
  throw fail(`${shown} ${result.error.issues[0]?.message}.`);
}

/** LAG_ALARM_HOURS: the lag, in hours, above which `citrix-monitor status` is unhealthy. */
export const lagAlarmHours = (env: Env): number => value(env, LAG_ALARM_HOURS);

// ---------------------------------------------------------------------------------------------------
// Documentation

/** A setting's default as docs/configuration.md shows it. */
function shownDefault(s: Setting): string {
  if (s.shown !== undefined) return s.shown;
  if (s.required) return '(required)';
  if (!s.default) return '(none)';
  return `\`${s.default.replace(/\{([A-Z0-9_]+)\}/g, (_, name: string) => `\${${name}}`)}\``;
}

/** The configuration table (docs/configuration.md): a row per setting, its variable, default and meaning. */
export function settingsTable(): string {
  const rows = SETTINGS.map((s) => `| \`${s.name}\` | ${shownDefault(s)} | ${s.meaning} |`);
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
