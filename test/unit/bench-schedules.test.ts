/**
 * The schedules of serverless.yml as the freshness-against-cost bench (local/bench/windows.ts) reads them:
 * the minutes each fires at, and, over one hour of data, which execution publishes each window.
 */
import { describe, expect, it } from 'vitest';
import { WINDOW_SIZES } from '../../functions/domain/windows.ts';
import { cronMinutes, hourOfRuns, schedules } from '../../local/bench/windows.ts';

const MIN = 60_000;
const H0 = Date.UTC(2026, 10, 24, 10);

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
      const { starts, windows } = hourOfRuns(H0, Number(w), 15, minutes);

      expect(starts, `W=${w}`).toHaveLength(minutes.length);
      expect(
        windows.map((x) => x.publishedAt),
        `W=${w}`,
      ).toEqual(starts);
    }
  });

  it('publishes a row 15 to 20 minutes after its change with 5-minute windows, 20 to W + 20 otherwise', () => {
    const delays = (w: number) => {
      const { windows } = hourOfRuns(H0, w, 15, cronMinutes(schedules()[w] ?? ''));
      const all = windows.flatMap((x) => [x.publishedAt - x.end, x.publishedAt - x.start]);
      return [Math.min(...all) / MIN, Math.max(...all) / MIN];
    };

    expect(delays(5)).toEqual([15, 20]);
    for (const w of [10, 15, 20, 30, 60]) expect(delays(w), `W=${w}`).toEqual([20, w + 20]);
  });
});
