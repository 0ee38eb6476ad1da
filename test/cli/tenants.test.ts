/**
 * `citrix-monitor status|backfill|redrive --tenant ID` with a tenant list: the list, the tenants' state
 * files and commit records are real (in s3rver, where the collector's tenantLayout puts them); the Step
 * Functions API (ListStateMachines, ListExecutions, DescribeExecution, StartExecution, RedriveExecution)
 * is mocked with aws-sdk-client-mock, since it has no local stand-in. The inputs of StartExecution and
 * the executions given to RedriveExecution are asserted: they are what the user's command sends.
 * TenantsFailed causes are made by the collector's own Report step (reportTenants), as they reach Step
 * Functions: the Lambda's error JSON.
 */
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FleetStatusReport, StatusReport } from '../../cli/status.ts';
import { loadLayout } from '../../functions/domain/config.ts';
import type { Tenant } from '../../functions/domain/schemas.ts';
import {
  type CollectedState,
  recordFailure,
  reportTenants,
  runTenantsKey,
} from '../../functions/domain/tenants.ts';
import { caughtFailure, type FailedWhere, lambdaError } from '../fixtures/causes.ts';
import { MemoryStore } from '../fixtures/memory-store.ts';
import { at, deployedStages, execArn, SM_ARN, sfnMock, startS3, stopS3, type World, world } from './world.ts';

beforeAll(startS3);
afterAll(stopS3);
beforeEach(() => {
  sfnMock.reset();
  deployedStages('prod');
});

const tenantOf = (id: string): Tenant => ({
  id,
  customerId: `customer-${id}`,
  clientId: `client-${id}`,
  clientSecretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:citrix-monitor/${id}`,
});

/**
 * The Cause of an execution whose tenants `failed` failed among `tenants`: what the collector's Report
 * step raises (TenantsFailed), from the failures its map over tenants caught.
 */
async function tenantsFailed(
  tenants: string[],
  failed: Record<string, [error: string, message: string, where?: FailedWhere]>,
): Promise<string> {
  const fleet = {
    settings: loadLayout({ S3_BUCKET: 'logs-bucket' }),
    work: new MemoryStore({ bucket: 'logs-bucket' }),
    log: () => {},
    collector: () => {
      throw new Error('not used');
    },
  };
  await fleet.work.put(runTenantsKey(fleet, 'run'), JSON.stringify({ tenants: tenants.map(tenantOf) }));
  for (const [i, id] of tenants.entries()) {
    const failure = failed[id];
    if (failure) await recordFailure(fleet, { runId: 'run', tenant: i, failure: caughtFailure(...failure) });
  }
  const state: CollectedState = {
    runId: 'run',
    input: {},
    tenantConcurrency: 40,
    total: tenants.length,
    collectedAtRedrive: 0,
  };
  const err = await reportTenants(fleet, state, 0).then(
    () => {
      throw new Error('reportTenants did not fail');
    },
    (e: unknown) => e as Error,
  );
  return lambdaError(err.name, err.message);
}

const HOUR_12 = { start: '2026-11-24T12:00:00Z', end: '2026-11-24T13:00:00Z' };
const authFailed: [string, string, FailedWhere] = [
  'CitrixAuthFailed',
  'the token endpoint refused the client (401).',
  { ...HOUR_12, entity: 'Sessions' },
];
const transient: [string, string, FailedWhere] = [
  'CitrixTransient',
  'Citrix answered 503 after all retries.',
  { ...HOUR_12, entity: 'Machines' },
];

/** acme is current (12:00), beta 5 hours behind with its 09:00 half published; beta's last run failed. */
async function twoTenants() {
  const w = world();
  await w.writeTenants(['acme', 'beta']);
  await w.tenant('acme').writeState('2026-11-24T12:00:00Z');
  await w.tenant('beta').writeState('2026-11-24T08:00:00Z');
  await w.tenant('beta').writeRecord('2026-11-24T09:00:00Z', 'publishing');
  sfnMock.on(ListExecutionsCommand, { stateMachineArn: SM_ARN }).resolves({
    executions: [
      {
        name: 'f1-scheduled',
        executionArn: execArn('f1-scheduled'),
        stateMachineArn: SM_ARN,
        status: 'SUCCEEDED',
        startDate: at('2026-11-24T14:20:00Z'),
        stopDate: at('2026-11-24T14:22:00Z'),
      },
      {
        name: 'e7-scheduled',
        executionArn: execArn('e7-scheduled'),
        stateMachineArn: SM_ARN,
        status: 'FAILED',
        startDate: at('2026-11-24T13:20:00Z'),
        stopDate: at('2026-11-24T13:31:40Z'),
      },
    ],
  });
  sfnMock.on(DescribeExecutionCommand, { executionArn: execArn('e7-scheduled') }).resolves({
    executionArn: execArn('e7-scheduled'),
    status: 'FAILED',
    input: '{}',
    startDate: at('2026-11-24T13:20:00Z'),
    stopDate: at('2026-11-24T13:31:40Z'),
    error: 'TenantsFailed',
    cause: await tenantsFailed(['acme', 'beta'], { beta: authFailed }),
    redriveStatus: 'REDRIVABLE',
  });
  return w;
}

describe('status with a tenant list', () => {
  it('--tenant shows that tenant alone: its state, lag, published prefix, hours being published and the failures that name it', async () => {
    const w = await twoTenants();

    const acme = await w.cli(['status', '--tenant', 'acme']);
    const beta = await w.cli(['status', '--tenant', 'beta']);

    expect(acme.code).toBe(0);
    expect(acme.stdout).toContain(
      'Tenant         acme (its SecOps feed reads s3://cli-test/citrix_monitor/acme/)',
    );
    expect(acme.stdout).toMatch(
      /State {10}last_hour_utc 2026-11-24T12:00:00Z \(s3:\/\/cli-test\/collector-work\/cli-\d+\/tenants\/acme\/state\.json, updated 2026-11-24T10:21:07Z\)/,
    );
    expect(acme.stdout).toContain(
      'Lag            60 minutes (1h00m) behind the newest due window end 2026-11-24T14:00:00Z',
    );
    expect(acme.stdout).toContain(
      'Next window    2026-11-24T13:00:00Z..14:00:00Z, due since 2026-11-24T14:15:00Z',
    );
    expect(acme.stdout).toContain('Health         healthy');
    expect(acme.stdout).toMatch(/FAILED\s+2026-11-24T13:20:00Z\s+11m40s\s+e7-scheduled/);
    expect(acme.stdout).not.toContain('Failed, can be redriven');
    expect(acme.stdout).not.toContain('Being published');

    expect(beta.code).toBe(1);
    expect(beta.stdout).toContain(
      'Tenant         beta (its SecOps feed reads s3://cli-test/citrix_monitor/beta/)',
    );
    expect(beta.stdout).toMatch(
      /last_hour_utc 2026-11-24T08:00:00Z \(s3:\/\/cli-test\/collector-work\/cli-\d+\/tenants\/beta\/state\.json/,
    );
    expect(beta.stdout).toContain(
      'Health         UNHEALTHY: the state is 300 minutes behind the newest due window end (alarm above 3 hours); 1 failed execution(s) can still be redriven (citrix-monitor redrive --tenant beta)',
    );
    expect(beta.stdout).toContain(
      'Failed, can be redriven (citrix-monitor redrive --tenant beta):\n' +
        '  e7-scheduled  FAILED 2026-11-24T13:31:40Z  hour 2026-11-24T12:00:00Z\n' +
        '    TenantsFailed: tenant "beta": CitrixAuthFailed: Hour 2026-11-24T12:00:00Z, entity Sessions: the token endpoint refused the client (401).\n',
    );
    expect(beta.stdout).toContain(
      '  2026-11-24T09:00:00Z  lease of run run-2026-11-24T09:00:00Z (a Lambda) expired at 2026-11-24T12:20:00Z',
    );
  });

  it('--tenant --json: the same report, naming the tenant and its storage', async () => {
    const w = await twoTenants();

    const seen = await w.cli(['status', '--tenant', 'beta', '--json']);

    expect(seen.code).toBe(1);
    const report = JSON.parse(seen.stdout) as StatusReport;
    expect(report.tenant).toBe('beta');
    expect(report.published).toBe('s3://cli-test/citrix_monitor/beta/');
    expect(report.state.location).toMatch(/\/tenants\/beta\/state\.json$/);
    expect(report.lagMinutes).toBe(300);
    expect(report.next).toMatchObject({ start: '2026-11-24T09:00:00Z', end: '2026-11-24T10:00:00Z' });
    expect(report.failed.redrivable).toMatchObject([
      { name: 'e7-scheduled', hour: '2026-11-24T12:00:00Z', failedTenants: [{ tenant: 'beta' }] },
    ]);
    expect(report.publishing.map((p) => p.start)).toEqual(['2026-11-24T09:00:00Z']);
  });

  it('without --tenant shows a line per tenant with its last hour and lag, and the failed executions', async () => {
    const w = await twoTenants();

    const seen = await w.cli(['status']);

    expect(seen.code).toBe(1);
    expect(seen.stdout).toMatch(
      /Tenants {8}2 listed in s3:\/\/cli-test\/collector-work\/cli-\d+\/tenants\.json; newest due window end 2026-11-24T14:00:00Z\n {15}60-minute windows, each due 15 minutes after its end \(lag alarm above 3 hours\)\n/,
    );
    expect(seen.stdout).toMatch(/\n {2}TENANT {2}LAST_HOUR_UTC {9}NEXT_WINDOW {22}LAG\n/);
    expect(seen.stdout).toMatch(
      /\n {2}acme {4}2026-11-24T12:00:00Z {2}2026-11-24T13:00:00Z\.\.14:00:00Z {2}60 minutes \(1h00m\)\n/,
    );
    expect(seen.stdout).toMatch(
      /\n {2}beta {4}2026-11-24T08:00:00Z {2}2026-11-24T09:00:00Z\.\.10:00:00Z {2}300 minutes \(5h00m\), above the alarm\n/,
    );
    expect(seen.stdout).toContain(
      'UNHEALTHY: tenant beta: the state is 300 minutes behind the newest due window end (alarm above 3 hours); 1 failed execution(s) can still be redriven (citrix-monitor redrive)',
    );
    expect(seen.stdout).toContain(
      'Failed, can be redriven (citrix-monitor redrive):\n  e7-scheduled  FAILED 2026-11-24T13:31:40Z  hour 2026-11-24T12:00:00Z\n    TenantsFailed: 1 of 2 tenants failed; the others committed their hours. tenant "beta": CitrixAuthFailed:',
    );
    expect(seen.stdout).toContain('    failed tenants: beta\n');
    expect(seen.stdout).toContain('citrix-monitor status --tenant ID');
    expect(seen.stdout).not.toContain('Being published');
  });

  it('reads the failed tenants, their hour and entity from the JSON Cause, and redrive suggests a backfill of that hour', async () => {
    const w = world();
    await w.writeTenants(['acme', 'beta']);
    // A 5-minute window's failure: its text names no whole hour; the failures document holds the hour it is in.
    const cause = await tenantsFailed(['acme', 'beta'], {
      beta: [
        'CitrixTransient',
        'Citrix answered 503.',
        { start: '2026-11-24T11:05:00Z', end: '2026-11-24T11:10:00Z', entity: 'Machines' },
      ],
    });
    expect(JSON.parse(JSON.parse(cause).errorMessage)).toMatchObject({
      tenants: [{ tenant: 'beta', hour: '2026-11-24T11:00:00Z', entity: 'Machines' }],
    });
    const execution = {
      name: 'w5-scheduled',
      executionArn: execArn('w5-scheduled'),
      stateMachineArn: SM_ARN,
      status: 'FAILED' as const,
      startDate: at('2026-11-24T11:20:00Z'),
      stopDate: at('2026-11-24T11:31:00Z'),
    };
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
    sfnMock.on(ListExecutionsCommand, { stateMachineArn: SM_ARN }).resolves({ executions: [execution] });
    sfnMock.on(ListExecutionsCommand, { stateMachineArn: SM_ARN, statusFilter: 'FAILED' }).resolves({
      executions: [execution],
    });
    sfnMock.on(DescribeExecutionCommand, { executionArn: execArn('w5-scheduled') }).resolves({
      executionArn: execArn('w5-scheduled'),
      status: 'FAILED',
      input: '{}',
      stopDate: at('2026-11-24T11:31:00Z'),
      error: 'TenantsFailed',
      cause,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution redrivable period exceeded.',
    });

    const status = JSON.parse((await w.cli(['status', '--tenant', 'beta', '--json'])).stdout) as StatusReport;
    const redrive = await w.cli(['redrive', '--tenant', 'beta', '--since', '2026-11-24']);

    expect(status.failed.notRedrivable).toMatchObject([
      {
        name: 'w5-scheduled',
        hour: '2026-11-24T11:00:00Z',
        failedTenants: [{ tenant: 'beta', error: 'CitrixTransient', hour: '2026-11-24T11:00:00Z' }],
      },
    ]);
    expect(redrive.stdout).toContain(
      'instead: citrix-monitor backfill --from 2026-11-24T11:00:00Z --to 2026-11-24T11:00:00Z --tenant beta',
    );
    expect(redrive.stdout).not.toContain('{"message"');
  });

  it("with WINDOW_MINUTES=5 shows each tenant's next window and its lag in minutes", async () => {
    const w = world({ WINDOW_MINUTES: '5' });
    await w.writeTenants(['acme', 'beta', 'gamma']);
    await w.tenant('acme').writeState('2026-11-24T13:00:00Z', '2026-11-24T14:05:00Z');
    await w.tenant('beta').writeState('2026-11-24T10:00:00Z', '2026-11-24T11:10:00Z');
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });

    const seen = await w.cli(['status']);
    const report = JSON.parse((await w.cli(['status', '--json'])).stdout) as FleetStatusReport;

    expect(seen.code).toBe(1);
    expect(seen.stdout).toContain(
      'newest due window end 2026-11-24T14:15:00Z\n' +
        '               5-minute windows, each due 15 minutes after its end (lag alarm above 3 hours)\n' +
        '  TENANT  LAST_HOUR_UTC         NEXT_WINDOW                      LAG\n' +
        '  acme    2026-11-24T13:00:00Z  2026-11-24T14:05:00Z..14:10:00Z  10 minutes\n' +
        '  beta    2026-11-24T10:00:00Z  2026-11-24T11:10:00Z..11:15:00Z  185 minutes (3h05m), above the alarm\n' +
        '  gamma   none yet              2026-11-24T14:10:00Z..14:15:00Z  -\n',
    );
    expect(seen.stdout).toContain(
      'UNHEALTHY: tenant beta: the state is 185 minutes behind the newest due window end (alarm above 3 hours); tenant gamma: no state file at',
    );
    expect(report.tenants.map((t) => [t.id, t.state.end, t.lagMinutes, t.next?.start, t.next?.end])).toEqual([
      ['acme', '2026-11-24T14:05:00Z', 10, '2026-11-24T14:05:00Z', '2026-11-24T14:10:00Z'],
      ['beta', '2026-11-24T11:10:00Z', 185, '2026-11-24T11:10:00Z', '2026-11-24T11:15:00Z'],
      ['gamma', null, null, '2026-11-24T14:10:00Z', '2026-11-24T14:15:00Z'],
    ]);
  });

  it('says a tenant that is not in the list is unknown, naming the list and its tenants, with exit 2', async () => {
    const w = await twoTenants();

    const seen = await w.cli(['status', '--tenant', 'gamma']);
    const json = await w.cli(['status', '--tenant', 'gamma', '--json']);

    expect(seen.code).toBe(2);
    expect(seen.stderr).toMatch(
      /^citrix-monitor status: UnknownTenant: --tenant "gamma": no such tenant in the tenant list s3:\/\/cli-test\/collector-work\/cli-\d+\/tenants\.json\. Listed: acme, beta\.\n$/,
    );
    expect(seen.stdout).toBe('');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { name: 'UnknownTenant' }, exitCode: 2 });
  });

  it('refuses --tenant with exit 2 when there is no tenant list, saying where it looked', async () => {
    const w = world();
    await w.writeState('2026-11-24T12:00:00Z');

    const seen = await w.cli(['status', '--tenant', 'acme']);

    expect(seen.code).toBe(2);
    expect(seen.stderr).toMatch(
      /^citrix-monitor status: UnknownTenant: --tenant "acme": there is no tenant list at s3:\/\/cli-test\/collector-work\/cli-\d+\/tenants\.json, so this deployment collects the one tenant of its environment\. Leave out --tenant/,
    );
  });
});

/**
 * What an execution of the state machine outputs when it succeeds: the run's fields (the Report step's
 * result), no commits. What it did is in the tenants' commit records.
 */
const output = (runId: string, hour: string) =>
  JSON.stringify({ runId, input: { hour }, tenantConcurrency: 40, earlier: [], retry: false });

const startInputs = () =>
  sfnMock
    .commandCalls(StartExecutionCommand)
    .map((call) => [call.args[0].input.name, call.args[0].input.input]);

/**
 * Every execution started succeeds, as AWS would leave it: each tenant of `rows` with rows to publish has
 * the commit record of the execution's hour, published by it with those rows.
 */
function executionsSucceed(w: World, rows: Record<string, number>): void {
  sfnMock
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: execArn(input.name) }));
  sfnMock.on(DescribeExecutionCommand).callsFake(async (input: { executionArn: string }) => {
    const name = input.executionArn.split(':').at(-1) ?? '';
    const hour = `${name.slice(-13)}:00:00Z`;
    for (const [id, n] of Object.entries(rows))
      if (n > 0) await w.tenant(id).writeRecord(hour, 'published', undefined, { run: name, rows: n });
    return {
      executionArn: input.executionArn,
      status: 'SUCCEEDED',
      startDate: at('2026-11-24T14:30:00Z'),
      stopDate: at('2026-11-24T14:33:20Z'),
      output: output(name, hour),
    };
  });
}

describe('backfill with a tenant list', () => {
  it('--tenant starts executions for that tenant alone, skips the hours it published, and reads its rows from its commit records', async () => {
    const w = world();
    await w.writeTenants(['acme', 'beta']);
    await w.tenant('beta').writeRecord('2026-11-24T11:00:00Z', 'published');
    await w.tenant('acme').writeRecord('2026-11-24T12:00:00Z', 'published'); // acme's: no reason to skip beta's
    executionsSucceed(w, { beta: 321 });

    const seen = await w.cli([
      'backfill',
      '--tenant',
      'beta',
      '--from',
      '2026-11-24T11Z',
      '--to',
      '2026-11-24T12Z',
    ]);

    expect(seen.code).toBe(0);
    expect(startInputs()).toEqual([
      ['backfill-beta-2026-11-24T12', '{"hour":"2026-11-24T12:00:00Z","tenants":["beta"]}'],
    ]);
    expect(seen.stdout).toContain(
      'Backfill 2026-11-24T11:00:00Z .. 2026-11-24T12:00:00Z (2 hours) of tenant beta',
    );
    expect(seen.stdout).toMatch(/ {2}published: +1\n/);
    expect(seen.stdout).toMatch(/ {2}skipped, already published: +1\n/);
    expect(seen.stderr.trim().split('\n').sort()).toEqual([
      '2026-11-24T11:00:00Z  skipped, already published',
      '2026-11-24T12:00:00Z  published (backfill-beta-2026-11-24T12) 321 rows in 3m20s',
    ]);
  });

  it('without --tenant collects every listed tenant, skipping only an hour every tenant published', async () => {
    const w = world();
    await w.writeTenants(['acme', 'beta']);
    await w.tenant('acme').writeRecord('2026-11-24T11:00:00Z', 'published');
    await w.tenant('beta').writeRecord('2026-11-24T11:00:00Z', 'published');
    await w.tenant('acme').writeRecord('2026-11-24T12:00:00Z', 'published');
    executionsSucceed(w, { acme: 0, beta: 1000 });

    const seen = await w.cli(['backfill', '--from', '2026-11-24T11Z', '--to', '2026-11-24T12Z']);

    expect(seen.code).toBe(0);
    expect(startInputs()).toEqual([['backfill-2026-11-24T12', '{"hour":"2026-11-24T12:00:00Z"}']]);
    expect(seen.stdout).toContain('(2 hours) of every tenant (acme, beta)');
    expect(seen.stderr).toContain(
      '2026-11-24T12:00:00Z  published (backfill-2026-11-24T12) 1,000 rows of 2 tenants in 3m20s',
    );
  });

  it('refuses a --tenant that is not listed with exit 2, before starting anything', async () => {
    const w = world();
    await w.writeTenants(['acme']);

    const seen = await w.cli([
      'backfill',
      '--tenant',
      'acme2',
      '--from',
      '2026-11-24T12Z',
      '--to',
      '2026-11-24T12Z',
    ]);

    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain('no such tenant in the tenant list');
    expect(seen.stderr).toContain('Listed: acme.');
    expect(startInputs()).toEqual([]);
  });
});

describe('redrive with a tenant list', () => {
  it('--tenant redrives only the failed executions that name the tenant, and says a redrive re-runs every failed tenant of its execution', async () => {
    const w = world();
    await w.writeTenants(['acme', 'beta', 'gamma']);
    const failed = [
      {
        name: 'r1-scheduled',
        stop: '2026-11-24T09:31:00Z',
        input: '{}',
        error: 'TenantsFailed',
        cause: await tenantsFailed(['acme', 'beta', 'gamma'], { beta: authFailed, gamma: transient }),
        redriveStatus: 'REDRIVABLE' as const,
      },
      {
        name: 'r2-scheduled',
        stop: '2026-11-24T10:31:00Z',
        input: '{}',
        error: 'TenantsFailed',
        cause: await tenantsFailed(['acme', 'beta', 'gamma'], { acme: transient }),
        redriveStatus: 'REDRIVABLE' as const,
      },
      {
        name: 'backfill-beta-2026-11-02T07',
        stop: '2026-11-02T09:00:00Z',
        input: '{"hour":"2026-11-02T07:00:00Z","tenants":["beta"]}',
        error: 'TenantsFailed',
        cause: await tenantsFailed(['beta'], {
          beta: [
            'CitrixTransient',
            '503.',
            { start: '2026-11-02T07:00:00Z', end: '2026-11-02T08:00:00Z', entity: null },
          ],
        }),
        redriveStatus: 'NOT_REDRIVABLE' as const,
      },
    ];
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
    sfnMock.on(ListExecutionsCommand, { stateMachineArn: SM_ARN, statusFilter: 'FAILED' }).resolves({
      executions: failed.map((f) => ({
        name: f.name,
        executionArn: execArn(f.name),
        stateMachineArn: SM_ARN,
        status: 'FAILED' as const,
        startDate: new Date(Date.parse(f.stop) - 600_000),
        stopDate: at(f.stop),
      })),
    });
    for (const f of failed)
      sfnMock.on(DescribeExecutionCommand, { executionArn: execArn(f.name) }).resolves({
        executionArn: execArn(f.name),
        status: 'FAILED',
        input: f.input,
        stopDate: at(f.stop),
        error: f.error,
        cause: f.cause,
        redriveStatus: f.redriveStatus,
        ...(f.redriveStatus === 'NOT_REDRIVABLE'
          ? { redriveStatusReason: 'Execution redrivable period exceeded.' }
          : {}),
      });
    sfnMock.on(RedriveExecutionCommand).resolves({ redriveDate: at('2026-11-24T14:30:01Z') });

    const seen = await w.cli(['redrive', '--tenant', 'beta', '--since', '2026-11-01']);

    expect(sfnMock.commandCalls(RedriveExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: execArn('r1-scheduled') },
    ]);
    expect(seen.code).toBe(1); // beta's backfill of 2026-11-02T07 can no longer be redriven
    expect(seen.stdout).toContain('Failed executions naming tenant beta stopped since 2026-11-01T00:00:00Z');
    expect(seen.stdout).toContain(
      '  redriven: r1-scheduled (FAILED 2026-11-24T09:31:00Z, hour 2026-11-24T12:00:00Z)\n' +
        '    collects again its failed tenants: beta, gamma (not those that committed)\n',
    );
    expect(seen.stdout).toContain(
      '  cannot be redriven: backfill-beta-2026-11-02T07 (FAILED 2026-11-02T09:00:00Z, hour 2026-11-02T07:00:00Z)',
    );
    expect(seen.stdout).toContain(
      '    instead: citrix-monitor backfill --from 2026-11-02T07:00:00Z --to 2026-11-02T07:00:00Z --tenant beta\n',
    );
    expect(seen.stdout).toContain(
      'Left alone: 1 failed execution whose failure does not name tenant beta (r2-scheduled); citrix-monitor redrive without --tenant redrives them too.',
    );
    expect(seen.stdout).toContain(
      'A redrive re-runs every failed tenant of its execution, not only beta, and only the failed ones: tenants that committed their hours are not collected again.',
    );
  });
});

describe('help', () => {
  it.each([
    ['status', /--tenant ID {16}one tenant of the tenant list/],
    ['backfill', /without --tenant,\nevery listed tenant \(input \{"hour": HOUR\}\)/],
    [
      'redrive',
      /A redrive re-runs every failed tenant of its execution, not only ID, and only the failed ones/,
    ],
  ])('of %s documents --tenant', async (command, text) => {
    const seen = await world().cli([command, '--help']);

    expect(seen.code).toBe(0);
    expect(seen.stdout).toContain('[--tenant ID]');
    expect(seen.stdout).toMatch(text);
  });
});
