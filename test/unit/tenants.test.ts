import { describe, expect, it } from 'vitest';
import { fleetFromEnv } from '../../functions/adapters/lambda.ts';
import { type Collector, plan } from '../../functions/domain/collector.ts';
import { loadLayout, tenantConfig } from '../../functions/domain/config.ts';
import { BadConfiguration, TenantsFailed } from '../../functions/domain/errors.ts';
import type { Tenant } from '../../functions/domain/schemas.ts';
import {
  type CollectedState,
  EXECUTION_LIMITS,
  type Fleet,
  hoursPerTenant,
  planTenants,
  readTenantList,
  reportTenants,
} from '../../functions/domain/tenants.ts';
import { MemoryStore } from '../fixtures/memory-store.ts';

type Env = Record<string, string | undefined>;

const SECRET = 'Zq9-do-not-leak-7Xk';
const BASE: Env = { S3_BUCKET: 'logs-bucket', ACME_SECRET: SECRET };
const ACME: Tenant = {
  id: 'acme',
  customerId: 'acme1',
  clientId: 'client-a',
  clientSecretEnv: 'ACME_SECRET',
};
const BETA: Tenant = {
  id: 'beta',
  customerId: 'beta1',
  clientId: 'client-b',
  clientSecretArn:
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:citrix-monitor/prod/tenants/beta-AbCdEf',
  apiBase: 'https://api.eu.cloud.com',
  entities: ['Sessions'],
};
const LIST_KEY = 'collector-work/citrix_monitor/tenants.json';

/** A fleet over an in-memory work bucket holding `list` (a document, or text as written). */
async function fleetWith(list: unknown, env: Env = BASE): Promise<{ fleet: Fleet; logged: string[] }> {
  const logged: string[] = [];
  const fleet = fleetFromEnv(env, { log: (m) => logged.push(m), metric: () => {} }, false);
  const work = new MemoryStore();
  if (list !== undefined) await work.put(LIST_KEY, typeof list === 'string' ? list : JSON.stringify(list));
  return { fleet: { ...fleet, work }, logged };
}

async function refusal(action: () => unknown): Promise<BadConfiguration> {
  const error = await Promise.resolve()
    .then(action)
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(BadConfiguration);
  expect((error as Error).message).not.toContain(SECRET);
  return error as BadConfiguration;
}

describe('a tenant configuration', () => {
  it('keeps the storage of a deployment without a tenant list', () => {
    const config = tenantConfig(
      { ...BASE, CITRIX_CUSTOMER_ID: 'c', CITRIX_CLIENT_ID: 'i', CITRIX_CLIENT_SECRET: 's' },
      null,
    );

    expect(config).toMatchObject({
      tenant: null,
      prefix: 'citrix_monitor',
      workPrefix: 'collector-work/citrix_monitor',
      stateKey: 'collector-work/citrix_monitor/state.json',
    });
  });

  it('gives a listed tenant its own published prefix, work prefix and state, and its own Citrix settings', () => {
    const config = tenantConfig({ ...BASE, KEY_FIELDS: 'Sessions:SessionKey,Machines:Id' }, BETA, false);

    expect(config).toMatchObject({
      tenant: 'beta',
      prefix: 'citrix_monitor/beta',
      workPrefix: 'collector-work/citrix_monitor/tenants/beta',
      stateKey: 'collector-work/citrix_monitor/tenants/beta/state.json',
      stagingPrefix: 'collector-work/citrix_monitor/staging/tenants/beta',
      customerId: 'beta1',
      clientId: 'client-b',
      apiBase: 'https://api.eu.cloud.com',
      entities: ['Sessions'],
      keyFields: { Sessions: 'SessionKey' },
      clientSecret: { kind: 'secretsManager', secretId: BETA.clientSecretArn },
    });
  });

  it('refuses a secret outside TENANT_SECRET_PREFIX, naming the tenant and the prefix', async () => {
    const error = await refusal(() =>
      tenantConfig(
        { ...BASE, TENANT_SECRET_PREFIX: 'citrix-monitor/prod/tenants/' },
        {
          ...BETA,
          clientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:payroll/db-AbCdEf',
        },
      ),
    );

    expect(error.message).toContain('Tenant "beta"');
    expect(error.message).toContain('outside TENANT_SECRET_PREFIX "citrix-monitor/prod/tenants/"');
  });

  it('accepts a secret under TENANT_SECRET_PREFIX', () => {
    const config = tenantConfig(
      { ...BASE, TENANT_SECRET_PREFIX: 'citrix-monitor/prod/tenants/' },
      BETA,
      true,
    );

    expect(config.clientSecret).toEqual({ kind: 'secretsManager', secretId: BETA.clientSecretArn });
  });

  it('refuses a secret from the environment in AWS, and an unset variable locally', async () => {
    expect((await refusal(() => tenantConfig(BASE, ACME, true))).message).toContain(
      'clientSecretEnv is for local runs only',
    );
    expect(
      (await refusal(() => tenantConfig(BASE, { ...ACME, clientSecretEnv: 'NOT_SET' }, false))).message,
    ).toContain('Tenant "acme" of the tenant list: clientSecretEnv names NOT_SET, which is not set.');
  });
});

describe('the tenant list', () => {
  it('reads none when there is no document', async () => {
    const { fleet } = await fleetWith(undefined);

    expect(await readTenantList(fleet)).toBeNull();
  });

  it('refuses a document that is not JSON, naming where it is and what to do, without quoting it', async () => {
    const { fleet } = await fleetWith('{"tenants": [');
    const error = await refusal(() => readTenantList(fleet));
    const quoted = await fleetWith(SECRET);

    expect(error.message).toContain(`The tenant list s3://logs-bucket/${LIST_KEY} is not valid JSON`);
    expect(error.message).toContain('fix the document');
    await refusal(() => readTenantList(quoted.fleet));
  });

  it('refuses an entry that holds a secret, a bad id or a duplicate id, naming the field', async () => {
    const inline = await fleetWith({
      tenants: [{ ...ACME, clientSecretEnv: undefined, clientSecret: SECRET }],
    });
    const badId = await fleetWith({ tenants: [{ ...ACME, id: 'Acme Corp' }] });
    const twice = await fleetWith({ tenants: [ACME, ACME] });

    expect((await refusal(() => readTenantList(inline.fleet))).message).toMatch(/tenants\.0.*clientSecret/);
    expect((await refusal(() => readTenantList(badId.fleet))).message).toContain(
      'tenants.0.id: expected 1 to 63 lower-case letters',
    );
    expect((await refusal(() => readTenantList(twice.fleet))).message).toContain('lists a tenant id twice');
  });
});

describe('planning the tenants', () => {
  it('collects the environment tenant without a list, and says where a list would go when it is not configured', async () => {
    const single = await fleetWith(undefined, {
      ...BASE,
      CITRIX_CUSTOMER_ID: 'c',
      CITRIX_CLIENT_ID: 'i',
      CITRIX_CLIENT_SECRET: 's',
    });
    const none = await fleetWith(undefined);

    expect((await planTenants(single.fleet, {}, 'run-1')).tenants).toEqual([null]);
    const error = await refusal(() => planTenants(none.fleet, {}, 'run-1'));
    expect(error.message).toMatch(/CITRIX_[A-Z_]+ is not set: it is required/);
    expect(error.message).toContain(`put a tenant list at s3://logs-bucket/${LIST_KEY}`);
  });

  it('collects every listed tenant, or those the input names, and refuses an unknown one', async () => {
    const { fleet } = await fleetWith({ tenants: [ACME, BETA] });

    expect((await planTenants(fleet, {}, 'run-1')).tenants.map((t) => t?.id)).toEqual(['acme', 'beta']);
    expect((await planTenants(fleet, { tenants: ['beta'] }, 'run-1')).tenants.map((t) => t?.id)).toEqual([
      'beta',
    ]);
    expect((await refusal(() => planTenants(fleet, { tenants: [] }, 'run-1'))).message).toContain(
      'expected a list of tenant ids such as ["acme"]',
    );
    const error = await refusal(() => planTenants(fleet, { tenants: ['gamma'] }, 'run-1'));
    expect(error.message).toContain('not in the tenant list');
    expect(error.message).toContain('gamma (listed: acme, beta)');
  });

  it('fails before any tenant starts when one entry is misconfigured, naming it', async () => {
    const { fleet } = await fleetWith({ tenants: [ACME, { ...BETA, apiBase: 'not a url' }] });

    expect((await refusal(() => planTenants(fleet, {}, 'run-1'))).message).toContain(
      'Tenant "beta" of the tenant list: API_BASE="not a url" is not a URL',
    );
  });
});

describe('what one execution holds', () => {
  it('lets a few tenants catch up MAX_HOURS_PER_RUN hours, many tenants fewer, and refuses a list too long for one hour each', () => {
    expect(hoursPerTenant(3, 5, 24)).toBe(24);
    expect(hoursPerTenant(20, 5, 24)).toBe(14);
    expect(hoursPerTenant(100, 5, 24)).toBe(2);
    expect(hoursPerTenant(200, 5, 24)).toBe(1);
    expect(hoursPerTenant(300, 5, 24)).toBeNull();
    expect(hoursPerTenant(300, 2, 24)).toBe(1);
  });

  it('keeps the estimated history and payload of the worst case within the budgets', () => {
    const L = EXECUTION_LIMITS;
    for (const tenants of [1, 7, 20, 64, 150, 240]) {
      for (const entities of [1, 5, 12]) {
        const hours = hoursPerTenant(tenants, entities, 168);
        if (hours === null) continue;
        const events =
          tenants * (L.eventsPerTenant + hours * (L.eventsPerHour + L.eventsPerEntityHour * entities));
        const bytes =
          tenants * (L.bytesPerTenant + hours * (L.bytesPerHour + L.bytesPerEntityHour * entities));
        expect(events, `${tenants} tenants, ${entities} entities`).toBeLessThanOrEqual(L.events);
        expect(bytes, `${tenants} tenants, ${entities} entities`).toBeLessThanOrEqual(L.bytes);
      }
    }
  });

  it('refuses, before any tenant starts, a list too long for one execution, saying what to do', async () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ ...ACME, id: `t${i}` }));
    const { fleet } = await fleetWith({ tenants: many });

    const error = await refusal(() => planTenants(fleet, {}, 'run-1'));

    expect(error.message).toContain('has 300 tenants: with 5 entities each, one execution cannot hold');
    expect(error.message).toContain('Split the tenants over two deployments');
  });

  it("plans no more of a tenant's due hours than the execution's budget for it", async () => {
    const config = tenantConfig(
      { ...BASE, CITRIX_CUSTOMER_ID: 'c', CITRIX_CLIENT_ID: 'i', CITRIX_CLIENT_SECRET: 's' },
      null,
    );
    const work = new MemoryStore();
    const now = Date.parse('2026-11-25T12:30:00Z');
    await work.put(config.stateKey, JSON.stringify({ last_hour_utc: '2026-11-25T03:00:00Z' }));
    const c = {
      config,
      work,
      feed: work,
      citrix: {},
      log: () => {},
      metric: () => {},
      now: () => now,
    } as unknown as Collector;

    const planned = await plan(c, {}, 'run-1', 2);

    expect(planned.hours.map((h) => h.hour)).toEqual(['2026-11-25T04:00:00Z', '2026-11-25T05:00:00Z']);
    expect((await plan(c, {}, 'run-1')).hours).toHaveLength(8);
  });
});

describe('the report after the tenants', () => {
  const layout = loadLayout(BASE);
  const collected = (results: CollectedState['results'], collectedAtRedrive = 0): CollectedState => ({
    runId: 'run-1',
    input: {},
    tenantConcurrency: 40,
    hoursPerTenant: 24,
    earlier: [],
    results,
    collectedAtRedrive,
  });
  const lambdaCause = (message: string) =>
    JSON.stringify({ errorType: 'CitrixAuthFailed', errorMessage: message, trace: [] });
  const fleet: Fleet = {
    settings: layout,
    work: new MemoryStore(),
    log: () => {},
    collector: () => {
      throw new Error('not needed');
    },
  };

  it('succeeds with every result when no tenant failed', () => {
    const report = reportTenants(fleet, collected([{ tenant: ACME }, { tenant: BETA }]), 0);

    expect(report.retry).toBe(false);
    expect(report.results.map((r) => r.tenant?.id)).toEqual(['acme', 'beta']);
  });

  it('fails naming each failed tenant with its hour, entity and cause, once the others are done', () => {
    const state = collected([
      { tenant: ACME },
      {
        tenant: BETA,
        failure: {
          Error: 'CitrixAuthFailed',
          Cause: lambdaCause(
            'Hour 2026-11-25T10:00:00Z, entity Sessions: Citrix refused the client credentials',
          ),
        },
      },
    ]);

    let error: Error | undefined;
    try {
      reportTenants(fleet, state, 0);
    } catch (e) {
      error = e as Error;
    }

    expect(error).toBeInstanceOf(TenantsFailed);
    expect(error?.message).toContain(
      '1 of 2 tenants failed; the others committed their hours. tenant "beta": CitrixAuthFailed: Hour 2026-11-25T10:00:00Z, entity Sessions: Citrix refused the client credentials',
    );
  });

  it('on a redrive, hands back the failed tenants alone and keeps the others as done', () => {
    const state = collected([
      { tenant: ACME },
      { tenant: BETA, failure: { Error: 'CitrixTransient', Cause: 'down' } },
    ]);

    const report = reportTenants(fleet, state, 1);

    expect(report.retry).toBe(true);
    expect(report.tenants?.map((t) => t?.id)).toEqual(['beta']);
    expect(report.earlier.map((r) => r.tenant?.id)).toEqual(['acme']);
  });

  it("raises the environment tenant's failure under its own name, as before tenant lists", () => {
    const state = {
      ...collected([{ tenant: null, failure: { Error: 'CitrixTransient', Cause: 'Hour X: 503' } }]),
    };

    expect(() => reportTenants(fleet, state, 0)).toThrow(
      expect.objectContaining({ name: 'CitrixTransient', message: 'Hour X: 503' }),
    );
  });
});
