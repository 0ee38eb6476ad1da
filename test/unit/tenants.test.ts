import { describe, expect, it } from 'vitest';
import { fleetFromEnv } from '../../functions/adapters/lambda.ts';
import { loadLayout, tenantConfig } from '../../functions/domain/config.ts';
import { BadConfiguration, TenantsFailed } from '../../functions/domain/errors.ts';
import type { Tenant } from '../../functions/domain/schemas.ts';
import {
  type CollectedState,
  type Fleet,
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

  it('refuses a document that is not JSON, naming where it is and what to do', async () => {
    const { fleet } = await fleetWith('{"tenants": [');
    const error = await refusal(() => readTenantList(fleet));

    expect(error.message).toContain(`The tenant list s3://logs-bucket/${LIST_KEY} is not valid JSON`);
    expect(error.message).toContain('fix the document');
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

describe('the report after the tenants', () => {
  const layout = loadLayout(BASE);
  const collected = (results: CollectedState['results'], collectedAtRedrive = 0): CollectedState => ({
    runId: 'run-1',
    input: {},
    tenants: [ACME, BETA],
    tenantConcurrency: 40,
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
    expect(report.tenants.map((t) => t?.id)).toEqual(['beta']);
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
