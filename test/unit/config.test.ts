import { describe, expect, it } from 'vitest';
import {
  tenantConfig as configOf,
  loadConfig,
  loadLayout,
  loadSettings,
} from '../../functions/domain/config.ts';
import { BadConfiguration } from '../../functions/domain/errors.ts';
import type { Tenant } from '../../functions/domain/schemas.ts';
import { lagAlarmHours, MissingSetting } from '../../functions/domain/settings/readers.ts';
import { SETTINGS } from '../../functions/domain/settings/registry.ts';

type Env = Record<string, string | undefined>;

/** A tenant's configuration from an environment, read as the fleet reads it: settings once, the tenant laid over them. */
const tenantConfig = (env: Env, tenant: Tenant | null, inAws = false) =>
  configOf(loadSettings(env, inAws), tenant, (variable) => env[variable]);

/** Distinctive, so that a message quoting it would be caught by `refusal` in every test below. */
const SECRET = 'Zq9-do-not-leak-7Xk';
const REQUIRED: Env = {
  S3_BUCKET: 'logs-bucket',
  CITRIX_CUSTOMER_ID: 'cust1',
  CITRIX_CLIENT_ID: 'client-1',
  CITRIX_CLIENT_SECRET: SECRET,
};
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:citrix-AbCdEf';

const env = (overrides: Env): Env => ({ ...REQUIRED, ...overrides });

/** The BadConfiguration that `env` is refused with; every refusal is also checked not to quote the secret. */
function refusal(given: Env, inAws?: boolean): BadConfiguration {
  try {
    loadConfig(given, inAws);
  } catch (error) {
    expect(error).toBeInstanceOf(BadConfiguration);
    expect((error as Error).message).not.toContain(SECRET);
    // The environment's one tenant: no tenant list applies to it.
    expect((error as Error).message).not.toMatch(/tenant list|Tenant "/);
    return error as BadConfiguration;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify({ ...given, CITRIX_CLIENT_SECRET: '…' })}`);
}

describe('loadConfig', () => {
  it('fills every default when only the required variables are set', () => {
    const config = loadConfig(REQUIRED, false);

    expect(config).toEqual({
      tenant: null,
      tenantsKey: 'collector-work/citrix_monitor/tenants.json',
      tenantConcurrency: 10,
      stagingPrefix: 'collector-work/citrix_monitor/staging',
      bucket: 'logs-bucket',
      workBucket: 'logs-bucket',
      prefix: 'citrix_monitor',
      workPrefix: 'collector-work/citrix_monitor',
      stateKey: 'collector-work/citrix_monitor/state.json',
      customerId: 'cust1',
      clientId: 'client-1',
      clientSecret: { kind: 'env', variable: 'CITRIX_CLIENT_SECRET' },
      apiBase: 'https://api.cloud.com',
      entities: ['Machines', 'Sessions', 'Connections', 'Applications', 'Users'],
      pageSize: 1000,
      windowMinutes: 60,
      settleMinutes: 15,
      timeFields: {
        Machines: 'ModifiedDate',
        Sessions: 'ModifiedDate',
        Connections: 'ModifiedDate',
        Applications: 'ModifiedDate',
        Users: 'ModifiedDate',
      },
      keyFields: {
        Machines: 'Id',
        Sessions: 'SessionKey',
        Connections: 'Id',
        Applications: 'Id',
        Users: 'Id',
      },
      nextLinkPaging: [],
      compression: 'none',
      maxConcurrency: 1,
      maxHoursPerRun: 24,
      fetchBudgetSeconds: 600,
      expressFetchSeconds: 240,
    });
  });

  it('holds no copy of the client secret, so it can be logged', () => {
    const config = loadConfig(REQUIRED, false);

    expect(JSON.stringify(config)).not.toContain(SECRET);
  });

  it.each(['S3_BUCKET', 'CITRIX_CUSTOMER_ID', 'CITRIX_CLIENT_ID', 'CITRIX_CLIENT_SECRET'])(
    'refuses to load without %s and names it',
    (name) => {
      const error = refusal(env({ [name]: undefined }));

      expect(error.message).toContain(`${name} is not set`);
    },
  );

  it('says what a missing setting is for and how to set it, locally and deployed', () => {
    const error = refusal(env({ CITRIX_CUSTOMER_ID: undefined }));

    expect(error).toMatchObject({ name: 'BadConfiguration', setting: 'CITRIX_CUSTOMER_ID' });
    expect(error).toBeInstanceOf(MissingSetting);
    expect(error.message).toBe(
      'CITRIX_CUSTOMER_ID is not set: it is required, the Citrix Cloud customer ID whose Monitor data is collected. Locally: export CITRIX_CUSTOMER_ID=your-customer-id; deployed: --param="customerId=…" (docs/configuration.md).',
    );
  });

  it('treats a required variable that holds only spaces as missing', () => {
    const error = refusal(env({ S3_BUCKET: '   ' }));

    expect(error.message).toContain('S3_BUCKET is not set');
  });

  it.each(['abc', '0', '100000', '-5', '1.5'])('refuses PAGE_SIZE=%s and states the range', (value) => {
    const error = refusal(env({ PAGE_SIZE: value }));

    expect(error.message).toContain('PAGE_SIZE');
    expect(error.message).toContain('from 1 to 10000');
  });

  it('accepts a PAGE_SIZE inside the range', () => {
    expect(loadConfig(env({ PAGE_SIZE: '250' }), false).pageSize).toBe(250);
  });

  it.each(['7', '0', '45', '120', 'five'])(
    'refuses WINDOW_MINUTES=%s, naming the sizes it takes',
    (value) => {
      const error = refusal(env({ WINDOW_MINUTES: value }));

      expect(error.message).toContain(
        `WINDOW_MINUTES="${value}" is invalid: expected one of 5, 10, 15, 20, 30, 60`,
      );
    },
  );

  it.each([
    ['api.cloud.com', 'is not a URL'],
    ['ftp://api.cloud.com', 'expected an http(s) base URL'],
    ['https://api.cloud.com/?region=eu', 'with no query'],
  ])('refuses API_BASE=%s', (value, expected) => {
    const error = refusal(env({ API_BASE: value }));

    expect(error.message).toContain('API_BASE');
    expect(error.message).toContain(expected);
  });

  it.each([
    'https://api.cloud.com/monitorodata',
    'https://api.cloud.com/monitorodata/',
    'https://api.cloud.com/x/',
  ])('refuses API_BASE=%s, a path pasted from the docs, saying it must be the host only', (value) => {
    const error = refusal(env({ API_BASE: value }));

    expect(error.message).toContain(`API_BASE=${JSON.stringify(value)} has a path`);
    expect(error.message).toContain('API_BASE must be the host only, e.g. https://api.cloud.com');
  });

  it('refuses an API_BASE holding a user name and password without quoting the password', () => {
    const error = refusal(env({ API_BASE: `https://client:${SECRET}@api.cloud.com` }));

    expect(error.message).toContain('API_BASE="https://…@api.cloud.com" holds a user name or password');
    expect(error.message).toContain('API_BASE must be the host only');
  });

  it('leaves out the user part of an API_BASE that is not a URL either', () => {
    const error = refusal(env({ API_BASE: `https://client:${SECRET}@api cloud.com` }));

    expect(error.message).toContain('API_BASE="https://…@api cloud.com" is not a URL');
  });

  it('drops the trailing slashes of API_BASE', () => {
    expect(loadConfig(env({ API_BASE: 'https://api.citrixcloud.jp//' }), false).apiBase).toBe(
      'https://api.citrixcloud.jp',
    );
  });

  it('refuses an ENTITIES entry that is not an entity name and quotes it', () => {
    const error = refusal(env({ ENTITIES: 'Sessions,session-logs' }));

    expect(error.message).toContain('ENTITIES');
    expect(error.message).toContain('not an entity name: session-logs');
  });

  it.each([
    ['sessions', 'Sessions'],
    ['Sesions', 'Sessions'],
    ['Machine', 'Machines'],
    ['connectionfailurelogs', 'ConnectionFailureLogs'],
  ])('refuses ENTITIES=%s, asking whether it means %s', (value, meant) => {
    const error = refusal(env({ ENTITIES: `Users,${value}` }));

    expect(error.message).toBe(
      `ENTITIES names a Monitor entity misspelt: "${value}": did you mean ${meant}?`,
    );
  });

  it('refuses an entity it does not know unless ALLOW_UNKNOWN_ENTITIES=true, naming that setting', () => {
    const error = refusal(env({ ENTITIES: 'Sessions,Widgets' }));

    expect(error.message).toContain('ENTITIES names Widgets, not a Monitor entity the collector knows');
    expect(error.message).toContain('set ALLOW_UNKNOWN_ENTITIES=true');
    expect(
      loadConfig(env({ ENTITIES: 'Sessions,Widgets', ALLOW_UNKNOWN_ENTITIES: 'true' }), false).entities,
    ).toEqual(['Sessions', 'Widgets']);
    expect(refusal(env({ ENTITIES: 'Widgets', ALLOW_UNKNOWN_ENTITIES: 'yes' })).message).toContain(
      'ALLOW_UNKNOWN_ENTITIES="yes" is invalid: expected "true" or "false"',
    );
  });

  it.each([
    ['S3_BUCKET', 'My_Bucket!'],
    ['S3_BUCKET', 'ab'],
    ['S3_BUCKET', 'logs..bucket'],
    ['S3_BUCKET', '192.168.1.1'],
    ['WORK_BUCKET', 'Work-Bucket'],
    ['WORK_BUCKET', 'work-bucket-'],
  ])('refuses %s=%s, which is not an S3 bucket name, stating the rule', (name, value) => {
    const error = refusal(env({ [name]: value }));

    expect(error.message).toContain(`${name}=${JSON.stringify(value)} is not an S3 bucket name`);
    expect(error.message).toContain('3 to 63 lower-case letters, digits, dots and hyphens');
  });

  it('takes the work bucket from S3_BUCKET unless WORK_BUCKET names one', () => {
    expect(loadLayout({ S3_BUCKET: 'logs.example.com' }).workBucket).toBe('logs.example.com');
    expect(loadLayout({ S3_BUCKET: 'logs-bucket', WORK_BUCKET: ' work-bucket ' }).workBucket).toBe(
      'work-bucket',
    );
  });

  it('refuses ENTITIES that lists an entity twice', () => {
    const error = refusal(env({ ENTITIES: 'Sessions,Machines,Sessions' }));

    expect(error.message).toContain('ENTITIES="Sessions,Machines,Sessions" lists an entity twice');
  });

  it.each(['citrix_monitor/state.json', '/citrix_monitor/state.json'])(
    "refuses the old guide's STATE_KEY=%s under S3_PREFIX and says where to move it",
    (value) => {
      const error = refusal(env({ STATE_KEY: value }));

      expect(error.message).toContain('STATE_KEY="citrix_monitor/state.json" lies under S3_PREFIX');
      expect(error.message).toContain('ingested as a log');
      expect(error.message).toContain('unset STATE_KEY to use collector-work/citrix_monitor/state.json');
    },
  );

  it('refuses a STATE_KEY under a custom S3_PREFIX', () => {
    const error = refusal(env({ S3_PREFIX: 'secops/citrix', STATE_KEY: 'secops/citrix/state.json' }));

    expect(error.message).toContain('lies under S3_PREFIX "secops/citrix"');
  });

  it('accepts a STATE_KEY outside S3_PREFIX', () => {
    expect(loadConfig(env({ STATE_KEY: 'citrix_state/state.json' }), false).stateKey).toBe(
      'citrix_state/state.json',
    );
  });

  it.each([
    [{ WORK_PREFIX: 'citrix_monitor/work', STATE_KEY: 'citrix_state/state.json' }],
    [{ WORK_PREFIX: 'citrix_monitor/', STATE_KEY: 'citrix_state/state.json' }],
    [{ S3_PREFIX: 'work/published', WORK_PREFIX: 'work' }],
    // A feed URI typed without its trailing slash would ingest citrix_monitor_work/… too.
    [{ WORK_PREFIX: 'citrix_monitor_work' }],
  ])('refuses a WORK_PREFIX that overlaps S3_PREFIX: %j', (overrides) => {
    const error = refusal(env(overrides));

    expect(error.message).toContain('overlap');
    expect(error.message).toContain('WORK_PREFIX');
  });

  it('refuses USE_TIME_FILTER=false and explains that whole entities would be duplicated', () => {
    const error = refusal(env({ USE_TIME_FILTER: 'false' }));

    expect(error.message).toContain('USE_TIME_FILTER="false" is not supported');
    expect(error.message).toContain('duplicate them in SecOps');
  });

  it('accepts USE_TIME_FILTER=true', () => {
    expect(() => loadConfig(env({ USE_TIME_FILTER: 'true' }), false)).not.toThrow();
  });

  it.each([
    ['gzip', 'gzip'],
    ['GZIP', 'gzip'],
    ['none', 'none'],
  ])('reads COMPRESSION=%s as %s', (value, expected) => {
    expect(loadConfig(env({ COMPRESSION: value }), false).compression).toBe(expected);
  });

  it('refuses a COMPRESSION other than none or gzip', () => {
    const error = refusal(env({ COMPRESSION: 'zstd' }));

    expect(error.message).toContain('COMPRESSION="zstd" is invalid: expected "none" or "gzip"');
  });

  it('windows every entity on ModifiedDate, which moves on every change, unless TIME_FIELDS says otherwise', () => {
    const config = loadConfig(
      env({
        ENTITIES: 'Sessions,MachineFailureLogs,ConnectionFailureLogs',
        TIME_FIELDS: 'Sessions:StartDate',
      }),
      false,
    );

    expect(config.timeFields).toEqual({
      Sessions: 'StartDate',
      MachineFailureLogs: 'ModifiedDate',
      ConnectionFailureLogs: 'ModifiedDate',
    });
  });

  it('pages each entity by its OData key, Id for an entity it does not know, and KEY_FIELDS over it', () => {
    const config = loadConfig(
      env({
        ENTITIES: 'Sessions,ConnectionFailureLogs,SessionMetrics,Catalogs',
        KEY_FIELDS: 'Catalogs:CatalogId',
      }),
      false,
    );

    expect(config.keyFields).toEqual({
      Sessions: 'SessionKey',
      ConnectionFailureLogs: 'Id',
      SessionMetrics: 'Id',
      Catalogs: 'CatalogId',
    });
  });

  it.each(['Sessions', 'Sessions:session key', 'Machines:Id', 'Sessions:Id:SessionKey'])(
    'refuses the KEY_FIELDS entry %j and quotes it',
    (entry) => {
      const error = refusal(env({ ENTITIES: 'Sessions', KEY_FIELDS: entry }));

      expect(error.message).toContain(`KEY_FIELDS entry ${JSON.stringify(entry)} is invalid`);
    },
  );

  it('pages the entities NEXTLINK_PAGING lists by nextLink', () => {
    const config = loadConfig(env({ ENTITIES: 'Sessions,Users', NEXTLINK_PAGING: ' Users ' }), false);

    expect(config.nextLinkPaging).toEqual(['Users']);
  });

  it('refuses a NEXTLINK_PAGING entity that is not in ENTITIES and names it', () => {
    const error = refusal(env({ ENTITIES: 'Sessions', NEXTLINK_PAGING: 'Session' }));

    expect(error.message).toContain('NEXTLINK_PAGING="Session" names Session, not in ENTITIES (Sessions)');
  });

  it.each(['Sessions', 'Sessions:start date', 'Machines:CreatedDate', 'Sessions:StartDate:EndDate'])(
    'refuses the TIME_FIELDS entry %j and quotes it',
    (entry) => {
      const error = refusal(env({ ENTITIES: 'Sessions', TIME_FIELDS: entry }));

      expect(error.message).toContain(`TIME_FIELDS entry ${JSON.stringify(entry)} is invalid`);
    },
  );

  it('requires CITRIX_CLIENT_SECRET_ARN in AWS, even when a plain CITRIX_CLIENT_SECRET is set', () => {
    const error = refusal(REQUIRED, true);

    expect(error.message).toContain('CITRIX_CLIENT_SECRET_ARN is not set');
  });

  it('knows it runs in AWS from AWS_LAMBDA_FUNCTION_NAME when not told', () => {
    const error = refusal(env({ AWS_LAMBDA_FUNCTION_NAME: 'collector-fetch-page' }));

    expect(error.message).toContain('CITRIX_CLIENT_SECRET_ARN');
  });

  it('reads the client secret from Secrets Manager in AWS', () => {
    const config = loadConfig(
      env({ CITRIX_CLIENT_SECRET: undefined, CITRIX_CLIENT_SECRET_ARN: ` ${ARN} ` }),
      true,
    );

    expect(config.clientSecret).toEqual({ kind: 'secretsManager', secretId: ARN });
  });

  it('refuses a plain http API_BASE in AWS, where the secret and token would travel in clear text', () => {
    const error = refusal(env({ CITRIX_CLIENT_SECRET_ARN: ARN, API_BASE: 'http://api.cloud.com' }), true);

    expect(error.message).toContain('API_BASE="http://api.cloud.com" uses http');
  });

  it('returns a frozen object whose lists cannot be changed either', () => {
    const config = loadConfig(REQUIRED, false);

    expect(() => {
      (config as { pageSize: number }).pageSize = 5;
    }).toThrow(TypeError);
    expect(() => (config.entities as string[]).push('Catalogs')).toThrow(TypeError);
    expect(() => {
      (config.timeFields as Record<string, string>).Sessions = 'StartDate';
    }).toThrow(TypeError);
  });
});

describe('a settle shorter than late rows need', () => {
  it.each(['0', '14'])('refuses SETTLE_MINUTES=%s, saying the rows written late would be lost', (value) => {
    const error = refusal(env({ SETTLE_MINUTES: value }));

    expect(error.message).toContain(
      `SETTLE_MINUTES="${value}" is invalid: expected a whole number from 15 to 43200: a window is published that long after its end, and a row Citrix writes into it later is lost for good`,
    );
  });

  it('accepts SETTLE_MINUTES=15, the settle every row had before windows', () => {
    expect(loadConfig(env({ WINDOW_MINUTES: '5', SETTLE_MINUTES: '15' }), false).settleMinutes).toBe(15);
  });
});

describe('an empty value', () => {
  it.each([
    ['ENTITIES', '"Machines,Sessions,Connections,Applications,Users"'],
    ['API_BASE', '"https://api.cloud.com"'],
    ['WINDOW_MINUTES', '"60"'],
    ['PAGE_SIZE', '"1000"'],
    ['COMPRESSION', '"none"'],
    ['ALLOW_UNKNOWN_ENTITIES', '"false"'],
    ['WORK_BUCKET', '"logs-bucket"'],
  ])('of %s is refused, naming it and its default, rather than read as the default', (name, shown) => {
    const error = refusal(env({ [name]: ' ' }));

    expect(error.message).toBe(
      `${name} is empty: give it a value, or leave it unset for its default, ${shown}.`,
    );
  });

  it('of a setting the stack passes empty on purpose reads as unset, as its meaning says', () => {
    const config = loadConfig(env({ TENANTS_KEY: '' }), false);

    expect(config.tenantsKey).toBe('collector-work/citrix_monitor/tenants.json');
    for (const s of SETTINGS.filter((candidate) => candidate.emptyIsUnset))
      expect(s.meaning, s.name).toContain('empty reads as unset');
  });

  it('of a setting whose default is empty is that default', () => {
    expect(loadConfig(env({ TIME_FIELDS: '', NEXTLINK_PAGING: '' }), false).nextLinkPaging).toEqual([]);
  });
});

describe('MAX_HOURS_PER_RUN against WINDOW_MINUTES', () => {
  it('refuses a run of one window, which keeps pace and never catches up, naming the fix', () => {
    const error = refusal({ ...REQUIRED, MAX_HOURS_PER_RUN: '1', WINDOW_MINUTES: '60' });

    expect(error.message).toBe(
      'MAX_HOURS_PER_RUN=1 with WINDOW_MINUTES=60 lets a run take on one window, the one that became due since the last run: a tenant that falls behind (a Citrix outage, a failed run) would never catch up. Set MAX_HOURS_PER_RUN to at least 2 (default 24).',
    );
  });

  it('accepts one hour of shorter windows: a run then takes on several', () => {
    expect(
      loadConfig({ ...REQUIRED, MAX_HOURS_PER_RUN: '1', WINDOW_MINUTES: '30' }, false).maxHoursPerRun,
    ).toBe(1);
  });
});

describe("a listed tenant's settings", () => {
  const tenant = { id: 'acme', customerId: 'acme1', clientId: 'client-acme', clientSecretEnv: 'ACME_SECRET' };
  const base: Env = { S3_BUCKET: 'logs-bucket', ACME_SECRET: SECRET };

  /** The message tenantConfig refuses `acme` with; never a CITRIX_* variable, which does not apply to it. */
  function tenantRefusal(overrides: object): string {
    let thrown: unknown;
    try {
      tenantConfig(base, { ...tenant, ...overrides }, false);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BadConfiguration);
    const { message } = thrown as Error;
    expect(message).not.toContain(SECRET);
    expect(message).not.toMatch(/CITRIX_|API_BASE|ENTITIES=/);
    return message;
  }

  it('names the tenant and its entities field for an entity misspelt', () => {
    expect(tenantRefusal({ entities: ['Sesions'] })).toBe(
      'Tenant "acme" of the tenant list: entities names a Monitor entity misspelt: "Sesions": did you mean Sessions?',
    );
  });

  it('names the tenant and its clientSecretEnv when that variable is not set', () => {
    expect(tenantRefusal({ clientSecretEnv: 'NOT_SET' })).toContain(
      'Tenant "acme" of the tenant list: clientSecretEnv names NOT_SET, which is not set. Set it',
    );
  });

  it('needs no CITRIX_* variable', () => {
    expect(tenantConfig(base, tenant, false)).toMatchObject({ tenant: 'acme', customerId: 'acme1' });
  });
});

describe('LAG_ALARM_HOURS, read by citrix-monitor status', () => {
  it('is 3 hours unless set, and a whole number of hours when set', () => {
    expect(lagAlarmHours({})).toBe(3);
    expect(lagAlarmHours({ LAG_ALARM_HOURS: ' 2 ' })).toBe(2);
    expect(() => lagAlarmHours({ LAG_ALARM_HOURS: 'two' })).toThrow(
      'LAG_ALARM_HOURS="two" is invalid: expected a whole number from 0 to 8760.',
    );
  });
});
