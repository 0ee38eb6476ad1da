/**
 * Windows shorter than an hour: the real ASL and handlers, executions started at simulated times (the
 * execution's start time is the plan's clock, as in AWS), against the Citrix Monitor stand-in over HTTP
 * with live churn (rows delivered change under the pager, their ModifiedDate moving to the simulated now)
 * and a real S3 server (s3rver). Nothing is mocked here.
 */
import { describeOutcome } from '@citrix-monitor/local-run/report';
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { afterEach, describe, expect, it } from 'vitest';
import { fleetFromEnv } from '../../functions/adapters/lambda.ts';
import type { Collector } from '../../functions/domain/collector.ts';
import {
  HOUR,
  invocationsEnded,
  iso,
  pastHour,
  rowKey,
  startEnvironment,
  type TestEnvironment,
} from './harness.ts';

const MIN = 60_000;
const ENTITIES = ['Sessions', 'Users'];
const STATE_KEY = 'collector-work/citrix_monitor/state.json';

let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

interface Simulation {
  readonly e: TestEnvironment;
  /** The simulated now: the stand-in stamps changed rows with it. */
  clock: number;
  /** One execution started at the simulated `at`, with WINDOW_MINUTES=`window`. */
  run(at: number, window: number, name: string): ReturnType<typeof runExecution>;
  stateEnd(): Promise<string | null>;
  /** Every published row, by entity, window stamp and version (key and ModifiedDate). */
  published(): Promise<Array<{ entity: string; stamp: string; version: string }>>;
}

async function simulate(churn: boolean, firstHour: number): Promise<Simulation> {
  const sim = { clock: firstHour } as Simulation & { clock: number };
  const e = await startEnvironment({
    rowsPerHour: 120,
    serverPageSize: 5,
    dataFromMs: firstHour - 2 * HOUR,
    dataToMs: firstHour + 5 * HOUR,
    now: () => sim.clock,
    ...(churn ? { churn: { entities: ['Sessions'], rowsPerPage: 1 } } : {}),
  });
  env = e;
  await e.store.put(STATE_KEY, JSON.stringify({ last_hour_utc: iso(firstHour - HOUR) }));
  return Object.assign(sim, {
    e,
    run(at: number, window: number, name: string) {
      sim.clock = at;
      const collector: Collector = {
        ...e.collector({ ENTITIES: ENTITIES.join(','), WINDOW_MINUTES: String(window), PAGE_SIZE: '5' }),
        now: () => at,
      };
      return runExecution(collector, { startTime: at, executionName: name, retryIntervalMs: 1 });
    },
    async stateEnd() {
      const found = await e.store.get(STATE_KEY);
      return found
        ? ((JSON.parse(found.body.toString()) as { last_window_end?: string }).last_window_end ?? null)
        : null;
    },
    async published() {
      const objects = await e.published();
      return objects.flatMap(({ key, rows }) => {
        const entity = key.split('/')[1] ?? '';
        const stamp = /_(\d{8}T\d{2,4})_\d{5}\.ndjson$/.exec(key)?.[1] ?? '';
        return rows.map((row) => ({
          entity,
          stamp,
          version: `${rowKey(entity, row)}@${String(row.ModifiedDate)}`,
        }));
      });
    },
  });
}

/** Each row of the stand-in's data now, whose ModifiedDate lies in [from, to): its current version. */
function truth(e: TestEnvironment, from: number, to: number): string[] {
  return ENTITIES.flatMap((entity) =>
    e.standin
      .rowsFor(entity, { fromMs: from, toMs: to })
      .map((row) => `${entity} ${rowKey(entity, row)}@${String(row.ModifiedDate)}`),
  ).sort();
}

const hhmm = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

const duplicates = (list: readonly string[]) => list.filter((v, i) => list.indexOf(v) !== i);

describe('five-minute windows', () => {
  it('publishes every row once, each by the first execution that starts after its window has settled, the state moving window by window', async () => {
    const first = pastHour(8);
    const sim = await simulate(true, first);
    const starts = Array.from({ length: 24 }, (_, k) => first + 20 * MIN + k * 5 * MIN);
    const publishedBy = new Map<string, number>();
    const ends: Array<string | null> = [];

    for (const [k, at] of starts.entries()) {
      const outcome = await sim.run(at, 5, `every-5-${k}`);
      expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
      for (const c of outcome.output?.committed ?? []) {
        if (c.outcome === 'published') publishedBy.set(c.start, at);
      }
      ends.push(await sim.stateEnd());
    }

    // The state moves one window per execution: every 5 minutes, 5 minutes of rows.
    expect(ends).toEqual(
      starts.map((_, k) => new Date(first + (k + 1) * 5 * MIN).toISOString().replace('.000Z', 'Z')),
    );
    // Each window is published by the first execution that starts at or after its end plus the 15-minute settle.
    for (let j = 0; j < 24; j++) {
      const start = first + j * 5 * MIN;
      const due = start + 5 * MIN + 15 * MIN;
      expect(publishedBy.get(new Date(start).toISOString().replace('.000Z', 'Z')), `window ${j}`).toBe(
        starts.find((t) => t >= due),
      );
    }
    // Every row, each version once: what the stand-in holds now for the two hours, and nothing twice.
    const rows = (await sim.published()).map((r) => `${r.entity} ${r.version}`);
    expect(duplicates(rows)).toEqual([]);
    const now = truth(sim.e, first, first + 2 * HOUR);
    expect(now.filter((v) => !rows.includes(v))).toEqual([]);
    expect(sim.e.standin.changes('Sessions').length).toBeGreaterThan(10);
    expect(rows.length).toBeGreaterThan(now.length);
  }, 240_000);

  it('loses and duplicates nothing when the window size goes from 60 to 5 minutes and back, mid-hour', async () => {
    const first = pastHour(8);
    const sim = await simulate(false, first);
    const run = async (at: number, window: number, name: string) => {
      const outcome = await sim.run(at, window, name);
      expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
      return sim.stateEnd();
    };
    const hhmm = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

    expect(await run(first + HOUR + 20 * MIN, 60, 'hourly-1')).toBe(hhmm(first + HOUR));
    expect(await run(first + HOUR + 25 * MIN, 5, 'five-1')).toBe(hhmm(first + HOUR + 10 * MIN));
    expect(await run(first + HOUR + 45 * MIN, 5, 'five-2')).toBe(hhmm(first + HOUR + 30 * MIN));
    // Back to hours, mid-hour: the next window runs from the state to the next hour, then hour by hour.
    expect(await run(first + 2 * HOUR + 20 * MIN, 60, 'hourly-2')).toBe(hhmm(first + 2 * HOUR));
    expect(await run(first + 3 * HOUR + 20 * MIN, 60, 'hourly-3')).toBe(hhmm(first + 3 * HOUR));

    const published = await sim.published();
    const rows = published.map((r) => `${r.entity} ${r.version}`);
    expect(duplicates(rows)).toEqual([]);
    expect([...rows].sort()).toEqual(truth(sim.e, first, first + 3 * HOUR));
    // The windows' objects sit in their hours' folders, named by window start.
    const stamps = [...new Set(published.map((r) => r.stamp))].sort();
    const h = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace(/-/g, '');
    expect(stamps).toEqual(
      [
        h(first),
        `${h(first + HOUR)}00`,
        `${h(first + HOUR)}05`,
        `${h(first + HOUR)}10`,
        `${h(first + HOUR)}15`,
        `${h(first + HOUR)}20`,
        `${h(first + HOUR)}25`,
        `${h(first + HOUR)}30`,
        h(first + 2 * HOUR),
      ].sort(),
    );
  }, 240_000);
});

describe('five-minute windows, under faults', () => {
  it('catches up two hours of windows in one execution, oldest first, each once, the state at the newest due window', async () => {
    const first = pastHour(8);
    const sim = await simulate(false, first);

    const outcome = await sim.run(first + 2 * HOUR + 15 * MIN, 5, 'catch-up');

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    expect(outcome.output?.committed.map((c) => c.start)).toEqual(
      Array.from({ length: 24 }, (_, j) => new Date(first + j * 5 * MIN).toISOString().replace('.000Z', 'Z')),
    );
    expect(await sim.stateEnd()).toBe(new Date(first + 2 * HOUR).toISOString().replace('.000Z', 'Z'));
    const rows = (await sim.published()).map((r) => `${r.entity} ${r.version}`);
    expect([...rows].sort()).toEqual(truth(sim.e, first, first + 2 * HOUR));
    // What npm start and npm run collect print: the state's move over the whole run, not its last window's.
    const summary = describeOutcome(outcome, { configOf: () => sim.e.collector({}).config, seconds: 1 });
    expect(summary).toContain(
      `state.json: advanced from ${hhmm(first)} to ${hhmm(first + 2 * HOUR)} over 24 windows\n`,
    );
  }, 240_000);

  it('publishes every window once when an execution is killed part-way and redriven', async () => {
    const first = pastHour(8);
    const sim = await simulate(true, first);
    const at = first + HOUR + 15 * MIN;
    const kill = new AbortController();
    const inFlight = invocationsEnded();
    let commits = 0;
    sim.clock = at;
    const collector: Collector = {
      ...sim.e.collector({ ENTITIES: ENTITIES.join(','), WINDOW_MINUTES: '5', PAGE_SIZE: '5' }),
      now: () => at,
    };
    const options = { startTime: at, executionName: 'killed-5', retryIntervalMs: 1 };

    const killed = await runExecution(collector, {
      ...options,
      kill: kill.signal,
      onInvocation: ({ state }) => {
        inFlight.onInvocation();
        if (state === 'Commit' && ++commits === 5) kill.abort();
      },
    });
    expect(killed.status).toBe('ABORTED');
    await inFlight.all(killed);
    const redriven = await runExecution(collector, { ...options, redriveOf: killed.redrive });

    expect(redriven.status, redriven.cause).toBe('SUCCEEDED');
    expect(await sim.stateEnd()).toBe(new Date(first + HOUR).toISOString().replace('.000Z', 'Z'));
    const rows = (await sim.published()).map((r) => `${r.entity} ${r.version}`);
    expect(duplicates(rows)).toEqual([]);
    const stillThere = truth(sim.e, first, first + HOUR);
    expect(stillThere.filter((v) => !rows.includes(v))).toEqual([]);
  }, 240_000);

  it('fails naming the window and entity when an entity keeps failing, publishes nothing of it, and a redrive publishes it once', async () => {
    const first = pastHour(8);
    const sim = await simulate(false, first);
    const at = first + 30 * MIN;
    sim.e.standin.failEntity('Users', 503);

    const failed = await sim.run(at, 5, 'failing-5');

    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('CitrixTransient');
    const window = `Window ${new Date(first).toISOString().replace('.000Z', 'Z')}..${new Date(first + 5 * MIN).toISOString().slice(11, 19)}Z, entity Users`;
    expect(failed.cause).toContain(window);
    expect(await sim.published()).toEqual([]);
    expect(await sim.stateEnd()).toBeNull();

    sim.e.standin.failEntity(null);
    const collector: Collector = {
      ...sim.e.collector({ ENTITIES: ENTITIES.join(','), WINDOW_MINUTES: '5', PAGE_SIZE: '5' }),
      now: () => at,
    };
    const redriven = await runExecution(collector, {
      startTime: at + 2 * HOUR,
      executionName: 'failing-5',
      retryIntervalMs: 1,
      redriveOf: failed.redrive,
    });

    expect(redriven.status, redriven.cause).toBe('SUCCEEDED');
    // The redrive plans what the run planned (its start time), not what is due at the redrive.
    expect(await sim.stateEnd()).toBe(new Date(first + 15 * MIN).toISOString().replace('.000Z', 'Z'));
    const rows = (await sim.published()).map((r) => `${r.entity} ${r.version}`);
    expect([...rows].sort()).toEqual(truth(sim.e, first, first + 15 * MIN));
  }, 240_000);
});

describe('five-minute windows, many tenants', () => {
  it('collects each tenant window by window side by side, fails naming the failing tenant, and a redrive collects it alone', async () => {
    const first = pastHour(8);
    const ids = ['alpha', 'beta', 'gamma'];
    const e = await startEnvironment(
      {
        rowsPerHour: 120,
        serverPageSize: 5,
        dataFromMs: first - 2 * HOUR,
        dataToMs: first + 5 * HOUR,
        tenants: ids.map((id, i) => ({
          customerId: id,
          clientId: id,
          clientSecret: `${id}-secret`,
          seed: i + 1,
        })),
      },
      {
        WINDOW_MINUTES: '5',
        ...Object.fromEntries(ids.map((id) => [`${id.toUpperCase()}_SECRET`, `${id}-secret`])),
      },
    );
    env = e;
    const tenants = ids.map((id) => ({
      id,
      customerId: id,
      clientId: id,
      clientSecretEnv: `${id.toUpperCase()}_SECRET`,
      entities: ENTITIES,
    }));
    await e.store.put('collector-work/citrix_monitor/tenants.json', JSON.stringify({ tenants }));
    const stateKey = (id: string) => `collector-work/citrix_monitor/tenants/${id}/state.json`;
    for (const id of ids)
      await e.store.put(stateKey(id), JSON.stringify({ last_hour_utc: iso(first - HOUR) }));
    const stateEnd = async (id: string) =>
      (JSON.parse((await e.store.get(stateKey(id)))?.body.toString() ?? '{}') as { last_window_end?: string })
        .last_window_end ?? null;
    const fleet = fleetFromEnv({ env: e.env, inAws: false, tuning: { backoffMs: 1, maxAttempts: 2 } });
    const at = first + HOUR + 15 * MIN;
    e.standin.tenant('beta').failEntity('Sessions', 503);

    const failed = await runExecution(fleet, {
      startTime: at,
      executionName: 'tenants-5',
      retryIntervalMs: 1,
    });

    expect(failed.error).toBe('TenantsFailed');
    expect(failed.cause).toContain(`tenant "beta": CitrixTransient: Window ${hhmm(first)}..`);
    for (const id of ['alpha', 'gamma']) expect(await stateEnd(id), id).toBe(hhmm(first + HOUR));
    expect(await stateEnd('beta')).toBeNull();

    e.standin.tenant('beta').failEntity(null);
    const redriven = await runExecution(fleet, {
      startTime: at,
      executionName: 'tenants-5',
      retryIntervalMs: 1,
      redriveOf: failed.redrive,
    });

    expect(redriven.status, redriven.cause).toBe('SUCCEEDED');
    expect(redriven.results?.map((r) => r.tenant?.id)).toEqual(['beta']);
    expect(await stateEnd('beta')).toBe(hhmm(first + HOUR));
    for (const id of ids) {
      const published = await e.published(`citrix_monitor/${id}/`);
      const rows = published.flatMap(({ key, rows }) =>
        rows.map((row) => `${key.split('/')[2]} ${rowKey(key.split('/')[2] ?? '', row)}`),
      );
      const expected = ENTITIES.flatMap((entity) =>
        e.standin
          .tenant(id)
          .rowsFor(entity, { fromMs: first, toMs: first + HOUR })
          .map((row) => `${entity} ${rowKey(entity, row)}`),
      );
      expect([...rows].sort(), id).toEqual(expected.sort());
      expect(new Set(published.map((o) => o.key.split('_').at(-2))).size, id).toBe(12);
    }
  }, 240_000);
});
