/**
 * The schedules of serverless.yml as the freshness-against-cost bench (packages/bench/src/windows.ts) reads them:
 * the minutes each fires at, and, over one hour of data, which execution publishes each window; and the
 * parts of its cost model that need no run (packages/bench/src/windows-cost.ts, cost.ts).
 */
import { derivedEntered, expressGbSeconds, expressMemoryMB } from '@citrix-monitor/bench/cost';
import type { Call } from '@citrix-monitor/bench/metered-execution';
import { cronMinutes, hourOfRuns, schedules } from '@citrix-monitor/bench/windows';
import { childDurations, stateScopes } from '@citrix-monitor/bench/windows-cost';
import { allStandard } from '@citrix-monitor/bench/windows-run';
import { parentEntries, tenantEntries } from '@citrix-monitor/testkit/history';
import { loadDefinition } from '@citrix-monitor/testkit/workflow';
import { describe, expect, it } from 'vitest';
import { WINDOW_SIZES } from '../../../functions/domain/windows.ts';

const MIN = 60_000;
const H0 = Date.UTC(2026, 10, 24, 10);
const ENTITIES = ['Machines', 'Sessions', 'Connections', 'Applications', 'Users'];
const at = (ms: number) => new Date(ms).toISOString().replace('.000', '');
/** The `n`th hour-long window from H0, not published before. */
const window = (n: number) => ({
  start: at(H0 + n * 60 * MIN),
  end: at(H0 + (n + 1) * 60 * MIN),
  published: false,
});

describe('cron minutes', () => {
  it('reads single minutes, steps, ranges and lists', () => {
    expect(cronMinutes('cron(20 * * * ? *)')).toEqual([20]);
    expect(cronMinutes('cron(0/20 * * * ? *)')).toEqual([0, 20, 40]);
    expect(cronMinutes('cron(5/15 * * * ? *)')).toEqual([5, 20, 35, 50]);
    expect(cronMinutes('cron(*/30 * * * ? *)')).toEqual([0, 30]);
    expect(cronMinutes('cron(10-12,50 * * * ? *)')).toEqual([10, 11, 12, 50]);
  });

  it('refuses a schedule that is not the same every hour', () => {
    expect(() => cronMinutes('cron(20 8 * * ? *)')).toThrow(/same minutes every hour/);
    expect(() => cronMinutes('rate(5 minutes)')).toThrow(/same minutes every hour/);
  });
});

describe('the schedules of serverless.yml over one hour of data', () => {
  it('has a schedule for every window size', () => {
    expect(
      Object.keys(schedules())
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([...WINDOW_SIZES]);
  });

  it('starts one execution per window of the hour, each publishing the window that settled last', () => {
    for (const [w, expression] of Object.entries(schedules())) {
      const minutes = cronMinutes(expression);
      const { starts, windows } = hourOfRuns(H0, { windowMinutes: Number(w), settleMinutes: 15, minutes });

      expect(starts, `W=${w}`).toHaveLength(minutes.length);
      expect(
        windows.map((x) => x.publishedAt),
        `W=${w}`,
      ).toEqual(starts);
    }
  });

  it('publishes a row 15 to 20 minutes after its change with 5-minute windows, 20 to W + 20 otherwise', () => {
    const delays = (w: number) => {
      const { windows } = hourOfRuns(H0, {
        windowMinutes: w,
        settleMinutes: 15,
        minutes: cronMinutes(schedules()[w] ?? ''),
      });
      const all = windows.flatMap((x) => [x.publishedAt - x.end, x.publishedAt - x.start]);
      return [Math.min(...all) / MIN, Math.max(...all) / MIN];
    };

    expect(delays(5)).toEqual([15, 20]);
    for (const w of [10, 15, 20, 30, 60]) expect(delays(w), `W=${w}`).toEqual([20, w + 20]);
  });
});

describe('the cost model of the freshness-against-cost bench', () => {
  it('bills the on-time children as Express as deployed, and every child as Standard in the baseline', () => {
    const deployed = loadDefinition();
    const baseline = allStandard(deployed);

    const asDeployed = stateScopes(deployed);
    const asBaseline = stateScopes(baseline);

    expect([asDeployed.get('Tenants'), asDeployed.get('Plan (on time)'), asDeployed.get('Plan')]).toEqual([
      'PARENT',
      'EXPRESS',
      'STANDARD',
    ]);
    expect([asBaseline.get('Plan (on time)'), asBaseline.get('FetchPages (on time)')]).toEqual([
      'STANDARD',
      'STANDARD',
    ]);
    expect(JSON.stringify(baseline).replace(/"ExecutionType":"STANDARD"/g, '')).toBe(
      JSON.stringify(deployed).replace(/"ExecutionType":"(STANDARD|EXPRESS)"/g, ''),
    );
  });

  it('derives the states a clean run enters as packages/testkit/src/history.ts models them, for a tenant behind', () => {
    const calls: Record<string, number> = { Tenants: 1, Report: 1, Plan: 1, FetchPages: 10, Commit: 2 };
    const tenant = { windows: [window(0), window(1)], entities: ENTITIES, failed: false, plan: 'Plan' };

    const { entered } = derivedEntered((name) => calls[name] ?? 0, [tenant], true);

    expect(entered).toEqual({ ...parentEntries(), ...tenantEntries(2, ENTITIES.length) });
  });

  it('derives the states a clean run enters for a tenant on time, its child states suffixed, no Standard map', () => {
    const calls: Record<string, number> = {
      Tenants: 1,
      HandOn: 1,
      Report: 1,
      'Plan (on time)': 1,
      'FetchPages (on time)': 5,
      'Commit (on time)': 1,
    };
    const tenant = { windows: [window(0)], entities: ENTITIES, failed: false, plan: 'Plan (on time)' };

    const { entered } = derivedEntered((name) => calls[name] ?? 0, [tenant], true);

    const { 'Collect tenants': _behindOnly, ...parent } = parentEntries(true);
    const child = Object.fromEntries(
      Object.entries(tenantEntries(1, ENTITIES.length)).map(([name, n]) => [`${name} (on time)`, n]),
    );
    expect(entered).toEqual({ ...parent, ...child });
  });

  it("times an Express child as its own wall time with each invocation's modelled duration in place of its own", () => {
    const call = (name: string, startedMs: number, endedMs: number): Call => ({
      state: 'FetchPages',
      stateName: 'FetchPages (on time)',
      execution: { name, type: 'EXPRESS' },
      startedMs,
      endedMs,
      cpuMs: 0,
      failed: false,
    });
    const execution = {
      calls: [call('a', 100, 300), call('a', 400, 500), call('b', 600, 700)],
      executions: [
        { name: 'a', startedMs: 0, endedMs: 1000 },
        { name: 'b', startedMs: 550, endedMs: 800 },
      ],
    };

    const durations = childDurations(execution, [3000, 2000, 100]);

    expect(durations.map((d) => [d.name, d.ms])).toEqual([
      ['a', 1000 - 200 - 100 + 3000 + 2000],
      ['b', 250],
    ]);
  });

  it('bills an Express child by the 100 ms started and its memory in 64-MB chunks, as the pricing page does', () => {
    expect(expressGbSeconds(1, 64)).toBeCloseTo(0.1 / 16);
    expect(expressGbSeconds(100, 64)).toBeCloseTo(0.1 / 16);
    expect(expressGbSeconds(101, 64)).toBeCloseTo(0.2 / 16);
    // 50 MB + a 20-KB definition + 2 KB of data × 3 Map and Parallel states: one chunk.
    expect(expressMemoryMB(20_480, 2048, 3)).toBe(64);
    // The pricing page's own example: 50 MB + 50 KB + 32 KB × 400 map steps = 62.85 MB, billed 64 MB.
    expect(expressMemoryMB(50 * 1024, 32 * 1024, 400)).toBe(64);
    expect(expressMemoryMB(20 * 1_048_576, 0, 0)).toBe(128);
  });
});
