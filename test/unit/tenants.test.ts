import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fleetFromEnv } from '../../functions/adapters/lambda.ts';
import { type Collector, plan } from '../../functions/domain/collector.ts';
import { tenantConfig as configOf, loadSettings } from '../../functions/domain/config.ts';
import { BadConfiguration, StateCorrupt, TenantsFailed } from '../../functions/domain/errors.ts';
import { handOn } from '../../functions/domain/hand-on.ts';
import type { Tenant } from '../../functions/domain/schemas.ts';
import {
  type CollectedState,
  clearFailure,
  describeFailures,
  type Fleet,
  parseFailures,
  planTenants,
  readFailures,
  readTenantList,
  recordFailure,
  reportTenants,
  runTenantsKey,
  tenantOf,
} from '../../functions/domain/tenants.ts';
import { ASL_JSON_PATH } from '../../statemachine/collector.asl.ts';
import { caughtFailure } from '../fixtures/causes.ts';
import { MemoryStore } from '../fixtures/memory-store.ts';

/** As much of the deployed ASL file as the hand-on test reads. */
interface DeployedAsl {
  States: Record<
    string,
    { ItemProcessor?: { States: Record<string, { Parameters?: Record<string, unknown> }> } } | undefined
  >;
}

type Env = Record<string, string | undefined>;

/** A tenant's configuration from an environment, read as the fleet reads it: settings once, the tenant laid over them. */
const tenantConfig = (env: Env, tenant: Tenant | null, inAws = false) =>
  configOf(loadSettings(env, inAws), tenant, (variable) => env[variable]);

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
  apiBase: 'https://api-eu.cloud.com',
  entities: ['Sessions'],
};
const LIST_KEY = 'collector-work/citrix_monitor/tenants.json';

/** A fleet over an in-memory work bucket holding `list` (a document, or text as written). */
async function fleetWith(list: unknown, env: Env = BASE): Promise<{ fleet: Fleet; logged: string[] }> {
  const logged: string[] = [];
  const fleet = fleetFromEnv({
    env,
    telemetry: { log: (m) => logged.push(m), metric: () => {} },
    inAws: false,
  });
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
      apiBase: 'https://api-eu.cloud.com',
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
  it('collects the environment tenant without a list, and refuses its missing settings without mentioning tenant lists', async () => {
    const single = await fleetWith(undefined, {
      ...BASE,
      CITRIX_CUSTOMER_ID: 'c',
      CITRIX_CLIENT_ID: 'i',
      CITRIX_CLIENT_SECRET: 's',
    });
    const none = await fleetWith(undefined);

    expect(await planTenants(single.fleet, { input: {}, runId: 'run-1' })).toMatchObject({
      tenants: [null],
      total: 1,
    });
    expect(await tenantOf(single.fleet, 'run-1', null)).toBeNull();
    const error = await refusal(() => planTenants(none.fleet, { input: {}, runId: 'run-1' }));
    expect(error.message).toMatch(/CITRIX_[A-Z_]+ is not set: it is required/);
    expect(error.message).not.toMatch(/tenant list|many tenants/i);
  });

  it("hands the map each listed tenant's index in the run's own copy of the list, where its child reads its entry", async () => {
    const { fleet } = await fleetWith({ tenants: [ACME, BETA] });

    const planned = await planTenants(fleet, { input: {}, runId: 'run-1' });

    expect(planned).toMatchObject({ tenants: [0, 1], total: 2 });
    expect(await tenantOf(fleet, 'run-1', 0)).toEqual(ACME);
    expect(await tenantOf(fleet, 'run-1', 1)).toEqual(BETA);
    // A list changed after the run started does not change the run (a redrive collects what it started with).
    await fleet.work.put(LIST_KEY, JSON.stringify({ tenants: [BETA] }));
    expect(await tenantOf(fleet, 'run-1', 0)).toEqual(ACME);
  });

  it('collects the tenants the input names alone, and refuses an unknown one', async () => {
    const { fleet } = await fleetWith({ tenants: [ACME, BETA] });

    expect(await planTenants(fleet, { input: { tenants: ['beta'] }, runId: 'run-2' })).toMatchObject({
      tenants: [0],
      total: 1,
    });
    expect(await tenantOf(fleet, 'run-2', 0)).toEqual(BETA);
    expect(
      (await refusal(() => planTenants(fleet, { input: { tenants: [] }, runId: 'run-1' }))).message,
    ).toContain('expected a list of tenant ids such as ["acme"]');
    const error = await refusal(() => planTenants(fleet, { input: { tenants: ['gamma'] }, runId: 'run-1' }));
    expect(error.message).toContain('not in the tenant list');
    expect(error.message).toContain('gamma (listed: acme, beta)');
  });

  it('fails before any tenant starts when one entry is misconfigured, naming it', async () => {
    const { fleet } = await fleetWith({ tenants: [ACME, { ...BETA, apiBase: 'not a url' }] });

    expect((await refusal(() => planTenants(fleet, { input: {}, runId: 'run-1' }))).message).toContain(
      'Tenant "beta" of the tenant list: apiBase "not a url" is not a URL',
    );
    expect(await fleet.work.get(runTenantsKey(fleet, 'run-1'))).toBeNull();
  });

  it("says what to do when a child cannot find its run's tenant list", async () => {
    const { fleet } = await fleetWith({ tenants: [ACME] });

    await expect(tenantOf(fleet, 'run-gone', 0)).rejects.toThrow(StateCorrupt);
    await expect(tenantOf(fleet, 'run-gone', 0)).rejects.toThrow(/is missing.*Start a new execution/);
    await fleet.work.put(runTenantsKey(fleet, 'run-cut'), '{"tenants": [{"id"');
    await expect(tenantOf(fleet, 'run-cut', 0)).rejects.toThrow(
      /is not a tenant list.*Start a new execution/,
    );
  });

  it('tells a redrive that came after the run records expired what happened and to start a new execution', async () => {
    const { fleet } = await fleetWith({ tenants: [ACME] });

    const error = (await tenantOf(fleet, 'run-expired', 0).catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(StateCorrupt);
    expect(error.message).toBe(
      'The run\'s tenant list s3://logs-bucket/collector-work/citrix_monitor/runs/run-expired/tenants.json is missing: the Tenants step writes it when the execution starts, and it expires 30 days later (the bucket\'s lifecycle rule expire-run-records), so a redrive that comes later cannot tell which tenants the run collects. Start a new execution instead: the next scheduled run collects every tenant from its state, and the input {"hour": "…"} collects one hour.',
    );
  });

  /** A tenant list of 5,000 tenants, customer-00000 to customer-04999, and its fleet. */
  async function fiveThousandTenants() {
    const many = Array.from({ length: 5000 }, (_, i) => ({
      ...ACME,
      id: `customer-${String(i).padStart(5, '0')}`,
    }));
    return { many, ...(await fleetWith({ tenants: many })) };
  }

  it('plans 5,000 tenants with no ceiling, in a state far below the 256 KiB Step Functions allows', async () => {
    const { fleet } = await fiveThousandTenants();

    const planned = await planTenants(fleet, { input: {}, runId: 'hourly-2026-12-05T10-20-00' });

    expect([...(planned.onTime ?? []), ...planned.tenants]).toHaveLength(5000);
    expect(Buffer.byteLength(JSON.stringify(planned))).toBeLessThan(32 * 1024);
    expect(await tenantOf(fleet, planned.runId, 4999)).toMatchObject({ id: 'customer-04999' });
  });

  it('hands on 5,000 tenants, every one an Express child handed on, in states far below 256 KiB', async () => {
    const { many, fleet } = await fiveThousandTenants();
    const planned = await planTenants(fleet, { input: {}, runId: 'hourly-2026-12-05T10-20-00' });
    // Each Express child's output when it hands its tenant on, as the deployed ASL's Pass state makes it.
    const asl: DeployedAsl = JSON.parse(readFileSync(ASL_JSON_PATH, 'utf8'));
    const parameters =
      asl.States['Collect on time']?.ItemProcessor?.States['Hand on (on time)']?.Parameters ?? {};
    const output = (tenant: number) =>
      Object.fromEntries(
        Object.entries(parameters).map(([k, v]) =>
          k.endsWith('.$') ? [k.slice(0, -2), v === '$.tenant' ? tenant : `unknown path ${v}`] : [k, v],
        ),
      );
    const event = { ...planned, tenants: [], handedOn: many.map((_, i) => output(i)) };

    const after = await handOn(fleet, event);

    // The Express map's output is the HandOn step's input: 5,000 children's outputs, 60 KB.
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(100 * 1024);
    expect(after.tenants).toEqual(many.map((_, i) => i));
    expect(Buffer.byteLength(JSON.stringify(after))).toBeLessThan(32 * 1024);
  });

  it('plans every due hour up to MAX_HOURS_PER_RUN (an older state machine may still pass a lower budget)', async () => {
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

    expect((await plan(c, { input: {}, runId: 'run-1' })).windows).toHaveLength(8);
    expect((await plan(c, { input: {}, runId: 'run-1', maxHours: 2 })).windows.map((w) => w.start)).toEqual([
      '2026-11-25T04:00:00Z',
      '2026-11-25T05:00:00Z',
    ]);
  });
});

describe('the report after the tenants', () => {
  const collected = (total: number, collectedAtRedrive = 0): CollectedState => ({
    runId: 'run-1',
    input: {},
    tenantConcurrency: 40,
    total,
    collectedAtRedrive,
  });
  /** A token refused while the hour 10:00 of Sessions was fetched, as the Failed step gets it. */
  const AUTH_FAILED_IN_SESSIONS = caughtFailure('CitrixAuthFailed', 'Citrix refused the client credentials', {
    start: '2026-11-25T10:00:00Z',
    end: '2026-11-25T11:00:00Z',
    entity: 'Sessions',
  });
  /** A fleet whose run "run-1" collects `tenants`. */
  async function run(tenants: readonly Tenant[]): Promise<Fleet> {
    const { fleet } = await fleetWith({ tenants });
    await planTenants(fleet, { input: {}, runId: 'run-1' });
    return fleet;
  }

  it('succeeds when no tenant failed', async () => {
    const fleet = await run([ACME, BETA]);

    expect(await reportTenants(fleet, collected(2), 0)).toMatchObject({ retry: false, total: 2 });
  });

  it('fails naming each failed tenant with its hour, entity and cause as data, once the others are done', async () => {
    const fleet = await run([ACME, BETA]);
    await recordFailure(fleet, { runId: 'run-1', tenant: 1, failure: AUTH_FAILED_IN_SESSIONS });

    const error = (await reportTenants(fleet, collected(2), 0).catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(TenantsFailed);
    expect(parseFailures(error.message)).toMatchObject({
      failed: 1,
      total: 2,
      more: 0,
      tenants: [
        {
          tenant: 'beta',
          error: 'CitrixAuthFailed',
          cause: 'Hour 2026-11-25T10:00:00Z, entity Sessions: Citrix refused the client credentials',
          hour: '2026-11-25T10:00:00Z',
          entity: 'Sessions',
        },
      ],
    });
    expect(describeFailures(error.message)).toContain(
      '1 of 2 tenants failed; the others committed their hours. tenant "beta": CitrixAuthFailed: Hour 2026-11-25T10:00:00Z, entity Sessions: Citrix refused the client credentials',
    );
  });

  it('names the hour a shorter window is in, the window of a failed commit, and none for a failure outside a window', async () => {
    const fleet = await run([ACME, BETA, { ...ACME, id: 'gamma' }]);
    await recordFailure(fleet, {
      runId: 'run-1',
      tenant: 0,
      failure: caughtFailure('CitrixTransient', 'Citrix answered 503', {
        start: '2026-11-25T10:05:00Z',
        end: '2026-11-25T10:10:00Z',
        entity: 'Machines',
      }),
    });
    await recordFailure(fleet, {
      runId: 'run-1',
      tenant: 1,
      failure: { Error: 'BadConfiguration', Cause: 'clientSecretEnv names X' },
    });
    await recordFailure(fleet, {
      runId: 'run-1',
      tenant: 2,
      failure: caughtFailure('StateCorrupt', 'The commit record changed while this run held its lease', {
        start: '2026-11-25T09:00:00Z',
        end: '2026-11-25T10:00:00Z',
        entity: null,
      }),
    });

    const error = (await reportTenants(fleet, collected(3), 0).catch((e: unknown) => e)) as Error;

    expect(parseFailures(error.message)?.tenants).toEqual([
      {
        tenant: 'acme',
        error: 'CitrixTransient',
        cause: 'Window 2026-11-25T10:05:00Z..10:10:00Z, entity Machines: Citrix answered 503',
        hour: '2026-11-25T10:00:00Z',
        entity: 'Machines',
      },
      {
        tenant: 'beta',
        error: 'BadConfiguration',
        cause: 'clientSecretEnv names X',
        hour: null,
        entity: null,
      },
      {
        tenant: 'gamma',
        error: 'StateCorrupt',
        cause: 'Hour 2026-11-25T09:00:00Z: The commit record changed while this run held its lease',
        hour: '2026-11-25T09:00:00Z',
        entity: null,
      },
    ]);
  });

  it('keeps the window and entity of a failure as fields of its record', async () => {
    const fleet = await run([ACME, BETA]);

    const record = await recordFailure(fleet, {
      runId: 'run-1',
      tenant: 1,
      failure: AUTH_FAILED_IN_SESSIONS,
    });

    expect(record).toMatchObject({
      tenant: 'beta',
      error: 'CitrixAuthFailed',
      cause: 'Citrix refused the client credentials',
      window: { start: '2026-11-25T10:00:00Z', end: '2026-11-25T11:00:00Z' },
      entity: 'Sessions',
    });
    expect(await readFailures(fleet, 'run-1')).toEqual([record]);
  });

  it('on a redrive, hands back the failed tenants alone; a tenant that begins again has no failure', async () => {
    const fleet = await run([ACME, BETA]);
    await recordFailure(fleet, {
      runId: 'run-1',
      tenant: 1,
      failure: { Error: 'CitrixTransient', Cause: 'down' },
    });

    const report = await reportTenants(fleet, collected(2), 1);

    expect(report).toMatchObject({ retry: true, tenants: [1], total: 2 });
    await clearFailure(fleet, 'run-1', BETA);
    expect(await reportTenants(fleet, collected(2, 1), 1)).toMatchObject({ retry: false });
  });

  it('names failed tenants of thousands and counts the others, in a Cause Step Functions keeps whole', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({ ...ACME, id: `customer-${i}` }));
    const fleet = await run(many);
    // Quotes and newlines grow when the document is escaped into the Lambda's error JSON.
    const where = { start: '2026-11-25T10:00:00Z', end: '2026-11-25T11:00:00Z', entity: 'Sessions' };
    const caught = caughtFailure('CitrixTransient', '"x"\n'.repeat(1500), where);
    for (let i = 0; i < 3000; i++) await recordFailure(fleet, { runId: 'run-1', tenant: i, failure: caught });

    const error = (await reportTenants(fleet, collected(3000), 0).catch((e: unknown) => e)) as Error;
    // What Step Functions records: the Lambda runtime's error JSON, whose trace begins with the message.
    const recorded = JSON.stringify({
      errorType: error.name,
      errorMessage: error.message,
      trace: error.stack?.split('\n'),
    });

    expect(recorded.length).toBeLessThan(32_768);
    const failures = parseFailures(JSON.parse(recorded).errorMessage);
    expect(failures).toMatchObject({ failed: 3000, total: 3000 });
    const named = failures?.tenants.length ?? 0;
    expect(named).toBeGreaterThanOrEqual(10);
    expect(named).toBeLessThanOrEqual(50);
    expect(failures?.more).toBe(3000 - named);
    expect(failures?.tenants.every((t) => t.cause.length <= 401)).toBe(true);
    expect(describeFailures(error.message)).toContain(
      `The other ${3000 - named} failed tenants are not named here: each has its record in s3://logs-bucket/collector-work/citrix_monitor/runs/run-1/failed/.`,
    );
  });

  it('names 50 failed tenants at most', async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ ...ACME, id: `customer-${i}` }));
    const fleet = await run(many);
    for (let i = 0; i < 60; i++)
      await recordFailure(fleet, {
        runId: 'run-1',
        tenant: i,
        failure: { Error: 'CitrixTransient', Cause: 'Citrix answered 503' },
      });

    const error = (await reportTenants(fleet, collected(60), 0).catch((e: unknown) => e)) as Error;

    expect(parseFailures(error.message)).toMatchObject({ failed: 60, more: 10 });
    expect(parseFailures(error.message)?.tenants).toHaveLength(50);
  });

  it("raises the environment tenant's failure under its own name, as before tenant lists", async () => {
    const { fleet } = await fleetWith(undefined, {
      ...BASE,
      CITRIX_CUSTOMER_ID: 'c',
      CITRIX_CLIENT_ID: 'i',
      CITRIX_CLIENT_SECRET: 's',
    });
    await recordFailure(fleet, {
      runId: 'run-1',
      tenant: null,
      failure: { Error: 'CitrixTransient', Cause: 'Hour X: 503' },
    });

    const error = (await reportTenants(fleet, collected(1), 0).catch((e: unknown) => e)) as Error;

    expect(error.name).toBe('CitrixTransient');
    expect(describeFailures(error.message)).toBe('Hour X: 503');
    expect(parseFailures(error.message)?.tenants).toMatchObject([{ tenant: null, error: 'CitrixTransient' }]);
  });
});
