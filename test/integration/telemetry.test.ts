/**
 * The log and metrics a run leaves in CloudWatch: the real state machine and handlers with the same
 * Powertools Logger and Metrics the Lambdas use, against the stand-in and s3rver; stdout is captured as
 * CloudWatch Logs would receive it.
 */
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { afterEach, expect, it, vi } from 'vitest';
import { fleetFromEnv } from '../../functions/adapters/lambda.ts';
import { powertoolsTelemetry } from '../../functions/adapters/telemetry.ts';
import type { Tenant } from '../../functions/domain/schemas.ts';
import { HOUR, iso, pastHour, startEnvironment, type TestEnvironment } from './harness.ts';

let e: TestEnvironment | undefined;

/** What CloudWatch Logs receives: stdout, and stderr, where Powertools writes warn and error lines. */
function captureLogs(lines: string[]): void {
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      return true;
    });
  }
}
afterEach(async () => {
  vi.restoreAllMocks();
  await e?.stop();
});

it('writes JSON log lines that carry the execution, window, entity and page, and never the secret or a token', async () => {
  e = await startEnvironment({ rowsPerHour: 300, serverPageSize: 100, tokenTtlSeconds: 3600 });
  const hour = pastHour(5);
  const lines: string[] = [];
  captureLogs(lines);
  const { telemetry, metrics } = powertoolsTelemetry();
  e.standin.injectFault({ kind: '429', entity: 'Sessions', retryAfterSeconds: 0 });

  const outcome = await runExecution(e.collector({ ENTITIES: 'Sessions,Users' }, telemetry), {
    executionName: 'exec-telemetry',
    input: { hour: iso(hour) },
  });
  metrics.publishStoredMetrics();
  vi.restoreAllMocks();

  expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const staged = records.filter((r) => r.message === 'pages staged');
  expect(staged.length).toBe(2);
  for (const r of staged) {
    expect(r).toMatchObject({
      level: 'INFO',
      service: 'citrix-monitor-collector',
      execution: 'exec-telemetry',
      window: { start: iso(hour), end: iso(hour + HOUR) },
      page: 2, // the last Citrix page in the staged group
      pages: 3,
      object: 0,
    });
    expect(['Sessions', 'Users']).toContain(r.entity);
  }
  const throttled = records.find((r) => r.message === 'Citrix answered 429; waiting');
  expect(throttled).toMatchObject({
    level: 'WARN',
    execution: 'exec-telemetry',
    window: { start: iso(hour), end: iso(hour + HOUR) },
    entity: 'Sessions',
    page: 0,
  });
  const text = lines.join('\n');
  expect(text).not.toContain(e.standin.clientSecret);
  expect(text).not.toMatch(/bearer=|access_token/i);
  const emf = records.filter((r) => r._aws !== undefined);
  const names = emf.flatMap((r) =>
    (r._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }).CloudWatchMetrics.flatMap(
      (m) => m.Metrics.map((x) => x.Name),
    ),
  );
  expect(names).toEqual(
    expect.arrayContaining(['Rows', 'Pages', 'Bytes', 'FetchSeconds', 'Throttles', 'PublishedObjects']),
  );
  const sessionsRows = emf.find((r) => r.Entity === 'Sessions' && 'Rows' in r);
  expect(sessionsRows?.Rows).toBe(300);
});

it("logs a listed tenant's failure at warn or error, with the tenant as a key of its lines", async () => {
  const ids = ['good', 'refused'];
  e = await startEnvironment(
    {
      rowsPerHour: 6,
      serverPageSize: 50,
      tenants: ids.map((id, i) => ({
        customerId: `${id}-cust`,
        clientId: `${id}-client`,
        clientSecret: `${id}-secret`,
        seed: i + 1,
      })),
    },
    { GOOD_SECRET: 'good-secret', REFUSED_SECRET: 'not-the-secret' },
  );
  const tenants: Tenant[] = ids.map((id) => ({
    id,
    customerId: `${id}-cust`,
    clientId: `${id}-client`,
    clientSecretEnv: `${id.toUpperCase()}_SECRET`,
    entities: ['Sessions'],
  }));
  await e.store.put('collector-work/citrix_monitor/tenants.json', JSON.stringify({ tenants }));
  const hour = pastHour(5);
  const lines: string[] = [];
  captureLogs(lines);
  const { telemetry } = powertoolsTelemetry();
  const fleet = fleetFromEnv({
    env: e.env,
    telemetry,
    inAws: false,
    tuning: { backoffMs: 1, maxAttempts: 2 },
  });

  const outcome = await runExecution(fleet, {
    executionName: 'exec-tenant-failure',
    input: { hour: iso(hour) },
    retryIntervalMs: 1,
  });
  vi.restoreAllMocks();

  expect(outcome.status).toBe('FAILED');
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const failures = records.filter((r) => r.level === 'WARN' || r.level === 'ERROR');
  expect(failures).toContainEqual(
    expect.objectContaining({
      message: 'FetchPages failed',
      tenant: 'refused',
      error: 'CitrixAuthFailed',
      execution: 'exec-tenant-failure',
      window: { start: iso(hour), end: iso(hour + HOUR) },
    }),
  );
  expect(failures.every((r) => r.tenant === 'refused' || r.tenant === undefined)).toBe(true);
  const good = records.filter((r) => r.message === 'entity fetched' && r.tenant === 'good');
  expect(good).toHaveLength(1);
  expect(good[0]?.level).toBe('INFO');
});
