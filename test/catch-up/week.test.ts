/**
 * A tenant a week behind, at the settings docs/configuration.md allows at their largest (MAX_HOURS_PER_RUN=168) and
 * its shortest windows: successive scheduled runs of the real ASL, with the real handlers, the Citrix
 * stand-in over HTTP and a real S3 server (s3rver), under the quotas the local runner enforces as AWS does
 * (packages/testkit/src/aws-limits.ts: 25,000 history events per child, 256 KiB per state). Each run takes on what its
 * child's history holds (functions/domain/history-budget.ts); the next carries on, with no manual step,
 * until the tenant is current. Nothing is mocked here. About four minutes on two cores: `npm run
 * test:catch-up` runs it (and .ci/run), apart from `npm test`.
 */
import { runsToCatchUp } from '@citrix-monitor/bench/catch-up-runs';
import { HISTORY_EVENTS_LIMIT, PAYLOAD_LIMIT_BYTES } from '@citrix-monitor/testkit/aws-limits';
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { afterEach, describe, expect, it } from 'vitest';
import type { Collector } from '../../functions/domain/collector.ts';
import { windowsPerRun } from '../../functions/domain/history-budget.ts';
import { newestDueEnd } from '../../functions/domain/windows.ts';
import { NOW } from '../fixtures/time.ts';
import { HOUR, iso, rowKey, startEnvironment, type TestEnvironment } from '../integration/harness.ts';

const MIN = 60_000;
const DAY = 24 * HOUR;
const STATE_KEY = 'collector-work/citrix_monitor/state.json';
const ENTITIES = ['Machines', 'Sessions', 'Connections', 'Applications', 'Users'];

let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

const stateEnd = async (e: TestEnvironment): Promise<number> => {
  const found = await e.store.get(STATE_KEY);
  const state = JSON.parse(found?.body.toString() ?? '{}') as { last_window_end?: string };
  return Date.parse(state.last_window_end ?? '');
};

describe.each([5, 15])('a tenant a week behind, WINDOW_MINUTES=%i and MAX_HOURS_PER_RUN=168', (window) => {
  it('catches up over successive scheduled runs, each inside the quotas, every row published once', async () => {
    const first = Math.floor(NOW / HOUR) * HOUR - 7 * DAY;
    let clock = NOW;
    const e = await startEnvironment({
      rowsPerHour: 4,
      serverPageSize: 50,
      dataFromMs: first - HOUR,
      dataToMs: NOW + HOUR,
      now: () => clock,
    });
    env = e;
    await e.store.put(STATE_KEY, JSON.stringify({ last_hour_utc: iso(first - HOUR) }));
    const settings = { WINDOW_MINUTES: String(window), MAX_HOURS_PER_RUN: '168' };
    const perRun = windowsPerRun(ENTITIES.length);
    const outcomes = [];

    // A scheduled run every window, as EventBridge starts them, until one finds nothing left to catch up.
    for (let run = 0; run < 40; run++) {
      const at = clock;
      const collector: Collector = { ...e.collector(settings), now: () => at };
      const outcome = await runExecution(collector, {
        startTime: at,
        executionName: `run-${run}`,
        retryIntervalMs: 1,
      });
      expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
      outcomes.push(outcome);
      if ((await stateEnd(e)) >= newestDueEnd(at, window, 15)) break;
      clock += window * MIN;
    }

    const windows = outcomes.map((o) => o.output?.windows.length ?? 0);
    expect(windows[0]).toBe(perRun);
    expect(Math.max(...windows)).toBe(perRun);
    // As many runs as the table of docs/many-tenants.md says (npm run bench:catch-up counts them so).
    expect(outcomes).toHaveLength(runsToCatchUp(window, perRun, newestDueEnd(NOW, window, 15) - first));
    for (const o of outcomes) {
      expect(o.history.children.every((events) => events <= HISTORY_EVENTS_LIMIT / 2)).toBe(true);
      expect(o.largestOutputBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES / 8);
    }
    const end = await stateEnd(e);
    expect(end).toBe(newestDueEnd(clock, window, 15));
    for (const entity of ENTITIES) {
      const rows = (await e.published(`citrix_monitor/${entity}/`)).flatMap((o) => o.rows);
      const truth = e.standin.rowsFor(entity, { fromMs: first, toMs: end }).map((r) => rowKey(entity, r));
      expect(rows.map((r) => rowKey(entity, r)).sort(), entity).toEqual(truth.sort());
    }
  }, 900_000);
});
