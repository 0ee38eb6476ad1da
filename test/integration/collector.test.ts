/**
 * The real ASL (statemachine/collector.asl.json) executed by aws-local-stepfunctions, every Task served
 * by the real handler modules, against the Citrix Monitor stand-in over HTTP and a real S3 server (s3rver).
 * Nothing is mocked here.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { afterEach, describe, expect, it } from 'vitest';
import { NOW, newestDueHour } from '../fixtures/time.ts';
import {
  ENTITIES,
  HOUR,
  iso,
  pastHour,
  rowKey,
  rowsOf,
  startEnvironment,
  type TestEnvironment,
} from './harness.ts';

let envs: TestEnvironment[] = [];
async function environment(...args: Parameters<typeof startEnvironment>) {
  const e = await startEnvironment(...args);
  envs.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(envs.map((e) => e.stop()));
  envs = [];
});

async function stateOf(e: TestEnvironment): Promise<Record<string, unknown> | null> {
  const found = await e.store.get('collector-work/citrix_monitor/state.json');
  return found ? (JSON.parse(found.body.toString()) as Record<string, unknown>) : null;
}

function expectExactlyOnce(
  e: TestEnvironment,
  objects: Awaited<ReturnType<TestEnvironment['published']>>,
  hour: number,
) {
  for (const entity of ENTITIES) {
    const expected = e.standin.rowsFor(entity, { fromMs: hour, toMs: hour + HOUR });
    const got = rowsOf(objects, entity, hour);
    expect(got.map((r) => rowKey(entity, r)).sort(), `${entity} ${iso(hour)}`).toEqual(
      expected.map((r) => rowKey(entity, r)).sort(),
    );
    expect(new Set(got.map((r) => rowKey(entity, r))).size, `${entity} duplicates`).toBe(got.length);
  }
}

describe('collecting one hour', () => {
  it('publishes every row of the hour exactly once, unchanged, and commits the state to that hour', async () => {
    const e = await environment({ rowsPerHour: 2300, serverPageSize: 1000 });
    const hour = pastHour(5);

    const outcome = await runExecution(e.collector(), { input: { hour: iso(hour) } });

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    const objects = await e.published();
    expectExactlyOnce(e, objects, hour);
    const sessions = rowsOf(objects, 'Sessions', hour);
    expect(sessions).toContainEqual(e.standin.rowsFor('Sessions', { fromMs: hour, toMs: hour + HOUR })[0]);
    expect(await stateOf(e)).toMatchObject({ last_hour_utc: iso(hour) });
  });

  it('puts a row stamped exactly on the hour in the hour it starts, not the one before', async () => {
    const e = await environment({ rowsPerHour: 50 });
    const hour = pastHour(6);
    const onTheHour = e.standin.rowsFor('Users', { fromMs: hour, toMs: hour + 1 })[0];
    expect(onTheHour?.ModifiedDate).toBe(iso(hour));

    await runExecution(e.collector(), { input: { hour: iso(hour - HOUR) } });
    await runExecution(e.collector(), { input: { hour: iso(hour) } });

    const objects = await e.published();
    expect(rowsOf(objects, 'Users', hour)).toContainEqual(onTheHour);
    expect(rowsOf(objects, 'Users', hour - HOUR)).not.toContainEqual(onTheHour);
  });

  it('writes only the published layout under the prefix and keeps state and staging outside it', async () => {
    const e = await environment({ rowsPerHour: 120, serverPageSize: 50 });
    const hour = pastHour(4);

    await runExecution(e.collector({ COMPRESSION: 'gzip' }), { input: { hour: iso(hour) } });

    const keys = await e.store.list('');
    const published = keys.filter((k) => k.startsWith('citrix_monitor/'));
    const layout =
      /^citrix_monitor\/(\w+)\/year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/\1_\d{8}T\d{2}_\d{5}\.ndjson\.gz$/;
    expect(published.length).toBe(ENTITIES.length); // pages are staged and published in groups of about 4 MiB
    expect(published.filter((k) => !layout.test(k))).toEqual([]);
    expect(keys.filter((k) => k.includes('/staging/'))).toEqual([]);
    expectExactlyOnce(e, await e.published(), hour);
  });

  it('loops on the continuation when the page-fetch time budget runs out, without losing or repeating a page', async () => {
    const e = await environment({ rowsPerHour: 900, serverPageSize: 100, latencyMs: 150 });
    const hour = pastHour(3);

    // A 2 s Lambda timeout leaves a 1.5 s budget: a few 150 ms pages per invocation.
    const outcome = await runExecution(e.collector({ ENTITIES: 'Sessions,Users', PAGE_SIZE: '100' }), {
      input: { hour: iso(hour) },
      lambdaTimeoutMs: 2_000,
    });

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    expect(outcome.timeouts).toBe(0);
    expect(outcome.invocations.FetchPages).toBeGreaterThanOrEqual(2 * 2);
    const objects = await e.published();
    for (const entity of ['Sessions', 'Users']) {
      expect(rowsOf(objects, entity, hour).map((r) => rowKey(entity, r))).toEqual(
        e.standin.rowsFor(entity, { fromMs: hour, toMs: hour + HOUR }).map((r) => rowKey(entity, r)),
      );
    }
  });

  it('hands back a continuation before the Lambda timeout while a page is retried past the budget, and publishes the hour once', async () => {
    const e = await environment({ rowsPerHour: 300, serverPageSize: 100 });
    const hour = pastHour(3);
    // Three 429s that each ask for 2 s: 6 s of waiting for one page, in invocations that may run 4 s.
    e.standin.injectFault({ kind: '429', entity: 'Sessions', times: 3, retryAfterSeconds: 2 });

    const outcome = await runExecution(e.collector({ ENTITIES: 'Sessions', PAGE_SIZE: '100' }), {
      input: { hour: iso(hour) },
      lambdaTimeoutMs: 4_000,
    });

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    expect(outcome.timeouts, 'invocations that ran into the Lambda timeout').toBe(0);
    expect(outcome.invocations.FetchPages).toBeGreaterThanOrEqual(2);
    expect(e.standin.stats.faultsInjected['429']).toBe(3);
    const published = rowsOf(await e.published(), 'Sessions', hour).map((r) => rowKey('Sessions', r));
    expect(published.sort()).toEqual(
      e.standin
        .rowsFor('Sessions', { fromMs: hour, toMs: hour + HOUR })
        .map((r) => rowKey('Sessions', r))
        .sort(),
    );
  });
});

describe('catching up', () => {
  it('collects every due hour after the state, oldest first, and leaves the state on the newest', async () => {
    const e = await environment({ rowsPerHour: 60 });
    const collector = e.collector();
    const newestDue = newestDueHour();
    await e.store.put(
      'collector-work/citrix_monitor/state.json',
      JSON.stringify({ last_hour_utc: iso(newestDue - 4 * HOUR) }),
    );

    const outcome = await runExecution(collector, { startTime: NOW });

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    expect(outcome.output?.committed.map((c) => c.start)).toEqual(
      [3, 2, 1, 0].map((n) => iso(newestDue - n * HOUR)),
    );
    const objects = await e.published();
    for (const n of [3, 2, 1, 0]) expectExactlyOnce(e, objects, newestDue - n * HOUR);
    expect(rowsOf(objects, 'Sessions', newestDue - 4 * HOUR)).toEqual([]);
    expect(await stateOf(e)).toMatchObject({ last_hour_utc: iso(newestDue) });
  });
  it('publishes an hour run ahead of the state but leaves the state behind the hours not yet published, which the schedule then collects', async () => {
    const e = await environment({ rowsPerHour: 60 });
    const newestDue = newestDueHour();
    const behind = newestDue - 4 * HOUR;
    await e.store.put(
      'collector-work/citrix_monitor/state.json',
      JSON.stringify({ last_hour_utc: iso(behind) }),
    );

    const ahead = await runExecution(e.collector(), {
      input: { hour: iso(newestDue - HOUR) },
      startTime: NOW,
    });

    expect(ahead.status, ahead.cause).toBe('SUCCEEDED');
    expect(ahead.output?.committed[0]?.state).toMatchObject({ moved: false, lastHour: iso(behind) });
    expect(ahead.output?.committed[0]?.state.reason).toContain('not published yet');
    expect(await stateOf(e)).toMatchObject({ last_hour_utc: iso(behind) });

    const scheduled = await runExecution(e.collector(), { startTime: NOW });

    expect(scheduled.status, scheduled.cause).toBe('SUCCEEDED');
    expect(scheduled.output?.committed.map((c) => [c.start, c.outcome])).toEqual([
      [iso(newestDue - 3 * HOUR), 'published'],
      [iso(newestDue - 2 * HOUR), 'published'],
      [iso(newestDue - HOUR), 'already-published'],
      [iso(newestDue), 'published'],
    ]);
    const objects = await e.published();
    for (const n of [3, 2, 1, 0]) expectExactlyOnce(e, objects, newestDue - n * HOUR);
    expect(await stateOf(e)).toMatchObject({ last_hour_utc: iso(newestDue) });
  });
});

describe('an operator excluding an entity', () => {
  it('collects the remaining entities and records the exclusion in the state file', async () => {
    const e = await environment({ rowsPerHour: 30 });
    const hour = pastHour(6);
    await runExecution(e.collector({ ENTITIES: 'Sessions,Users' }), { input: { hour: iso(hour) } });

    const outcome = await runExecution(e.collector({ ENTITIES: 'Sessions' }), {
      input: { hour: iso(hour + HOUR) },
    });

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    expect(await stateOf(e)).toMatchObject({
      last_hour_utc: iso(hour + HOUR),
      entities: ['Sessions'],
      excluded_entities: [{ entity: 'Users', since: iso(hour + HOUR) }],
    });
    expect(rowsOf(await e.published(), 'Users', hour + HOUR)).toEqual([]);
  });
});

describe('faults', () => {
  it('survives 429s, 503 HTML pages, truncated bodies, resets and expired tokens with every row exactly once', async () => {
    const e = await environment({ rowsPerHour: 1500, serverPageSize: 500, tokenTtlSeconds: 3600 });
    const hour = pastHour(7);
    e.standin.injectFault({ kind: '429', times: 3, retryAfterSeconds: 0 });
    e.standin.injectFault({ kind: '503-html', entity: 'Sessions', times: 2 });
    e.standin.injectFault({ kind: 'truncated', entity: 'Connections' });
    e.standin.injectFault({ kind: 'reset', entity: 'Machines' });
    e.standin.injectFault({ kind: 'html-200', entity: 'Users' });
    e.standin.expireAllTokens();

    const outcome = await runExecution(e.collector({ MAX_CONCURRENCY: '5' }), {
      input: { hour: iso(hour) },
      retryIntervalMs: 20,
    });

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    expect(e.standin.stats.maxInFlight).toBe(1);
    expect(e.standin.stats.faultsInjected).toMatchObject({
      '429': 3,
      '503-html': 2,
      truncated: 1,
      reset: 1,
      'html-200': 1,
    });
    expectExactlyOnce(e, await e.published(), hour);
    expect(await stateOf(e)).toMatchObject({ last_hour_utc: iso(hour) });
  });

  it('renews a token that expires mid-run', async () => {
    const e = await environment({
      rowsPerHour: 400,
      serverPageSize: 100,
      tokenTtlSeconds: 1,
      latencyMs: 300,
    });
    const hour = pastHour(8);

    const outcome = await runExecution(e.collector({ ENTITIES: 'Sessions' }), { input: { hour: iso(hour) } });

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    expect(e.standin.stats.tokenRequests).toBeGreaterThan(1);
    expect(rowsOf(await e.published(), 'Sessions', hour)).toHaveLength(400);
  });

  it('fails, names the entity and hour, publishes nothing and keeps the state when one entity keeps failing', async () => {
    const e = await environment({ rowsPerHour: 100 });
    const before = pastHour(10);
    const hour = before + HOUR;
    await e.store.put(
      'collector-work/citrix_monitor/state.json',
      JSON.stringify({ last_hour_utc: iso(before) }),
    );
    e.standin.failEntity('Users');

    const outcome = await runExecution(e.collector(), { input: { hour: iso(hour) }, retryIntervalMs: 1 });

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('CitrixTransient');
    expect(outcome.cause).toContain(`Hour ${iso(hour)}, entity Users`);
    expect(outcome.cause).toContain('HTML page');
    expect(await e.published()).toEqual([]);
    expect(await stateOf(e)).toEqual({ last_hour_utc: iso(before) });
  });

  it('refuses a nextLink to another host without sending it the token, and keeps the state', async () => {
    const seen: Array<string | undefined> = [];
    const foreign = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.end('{"value":[]}');
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.2', r));
    const e = await environment({ rowsPerHour: 300, serverPageSize: 100 });
    const hour = pastHour(9);
    e.standin.injectFault({
      kind: 'foreign-nextlink',
      entity: 'Sessions',
      foreignUrl: `http://127.0.0.2:${(foreign.address() as AddressInfo).port}`,
    });

    const outcome = await runExecution(e.collector(), { input: { hour: iso(hour) } });
    foreign.close();

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('ForeignNextLink');
    expect(outcome.cause).toContain('127.0.0.2');
    expect(seen).toEqual([]);
    expect(await e.published()).toEqual([]);
    expect(await stateOf(e)).toBeNull();
  });

  it('stops at a corrupt state file with a message that says what to do, collecting nothing', async () => {
    const e = await environment();
    await e.store.put('collector-work/citrix_monitor/state.json', '{"last_hour_utc": "2026-11-24T10:00');

    const outcome = await runExecution(e.collector());

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('StateCorrupt');
    expect(outcome.cause).toContain('collector-work/citrix_monitor/state.json is not valid JSON');
    expect(e.standin.stats.dataRequests).toBe(0);
  });
});
