/**
 * The windows a tenant's child takes on in one run (functions/domain/history-budget.ts): its figures
 * against the count of the real ASL (packages/testkit/src/history.ts), and the plan that applies them. The plan runs
 * over in-memory stores (test/fixtures/memory-collector.ts) and a Citrix port it never calls: planning reads only the state and the commit
 * records.
 */
import { childEvents, tenantEntries } from '@citrix-monitor/testkit/history';
import { loadDefinition } from '@citrix-monitor/testkit/workflow';
import { describe, expect, it } from 'vitest';
import { type Collector, plan } from '../../functions/domain/collector.ts';
import {
  cleanChildEvents,
  HISTORY_EVENTS_QUOTA,
  windowsPerRun,
} from '../../functions/domain/history-budget.ts';
import { memoryCollector } from '../fixtures/memory-collector.ts';

const definition = loadDefinition();
const aslCount = (windows: number, entities: number) =>
  childEvents(definition, 'Collect tenants', tenantEntries(windows, entities));

describe("a child's history budget", () => {
  it.each([
    [1, 1],
    [24, 5],
    [183, 5],
    [50, 12],
  ])('counts %i windows of %i entities as the ASL writes them', (windows, entities) => {
    expect(cleanChildEvents(windows, entities)).toBe(aslCount(windows, entities));
  });

  it.each([1, 2, 5, 12, 30])('plans windows of %i entities that fill at most half the quota', (entities) => {
    const windows = windowsPerRun(entities);

    expect(aslCount(windows, entities)).toBeLessThanOrEqual(HISTORY_EVENTS_QUOTA / 2);
    expect(aslCount(windows + 1, entities)).toBeGreaterThan(HISTORY_EVENTS_QUOTA / 2);
  });

  it('takes on 183 windows of the five default entities: 15 hours of 5-minute windows, a week of hourly ones', () => {
    expect(windowsPerRun(5)).toBe(183);
  });
});

describe('the plan of a tenant a week behind', () => {
  const now = Date.parse('2026-12-06T10:30:00Z');
  const collector = (window: number): Collector =>
    memoryCollector(
      { WINDOW_MINUTES: String(window), MAX_HOURS_PER_RUN: '168' },
      {
        firstPageUrl: () => 'unused',
        keyPageUrl: () => 'unused',
        resolveNextLink: (link) => link,
        fetchPage: () => Promise.reject(new Error('planning calls no Citrix API')),
      },
      () => now,
    );

  it.each([
    [5, 183],
    [15, 183],
    [60, 168],
  ])(
    'with %i-minute windows takes on %i windows, the oldest, and leaves the rest to the next runs',
    async (window, expected) => {
      const c = collector(window);
      await c.work.put(c.config.stateKey, JSON.stringify({ last_hour_utc: '2026-11-29T08:00:00Z' }));

      const planned = await plan(c, { input: {}, runId: 'run-1' });

      expect(planned.windows).toHaveLength(expected);
      expect(planned.windows[0]?.start).toBe('2026-11-29T09:00:00Z');
    },
  );
});

describe('the plan after the window size changed', () => {
  it.each([
    // Back to hours from 5-minute windows: the rest of the hour, then whole hours; never 10:00 again (a
    // window published twice) nor 11:00 first (25 minutes never published).
    [60, '2026-12-06T08:25:00Z', ['08:25-09:00', '09:00-10:00']],
    // To 15-minute windows from hours, mid-window of the new grid: to its next point, then on the grid.
    [15, '2026-12-06T09:05:00Z', ['09:05-09:15', '09:15-09:30', '09:30-09:45', '09:45-10:00', '10:00-10:15']],
  ])(
    'with %i-minute windows and the state at %s, starts where the state is and meets the new grid at its next point',
    async (window, end, expected) => {
      const now = Date.parse('2026-12-06T10:30:00Z');
      const c = memoryCollector(
        { WINDOW_MINUTES: String(window) },
        {
          firstPageUrl: () => 'unused',
          keyPageUrl: () => 'unused',
          resolveNextLink: (link) => link,
          fetchPage: () => Promise.reject(new Error('planning calls no Citrix API')),
        },
        () => now,
      );
      const lastHour = `${end.slice(0, 11)}${String(Number(end.slice(11, 13)) - 1).padStart(2, '0')}:00:00Z`;
      await c.work.put(c.config.stateKey, JSON.stringify({ last_hour_utc: lastHour, last_window_end: end }));

      const planned = await plan(c, { input: {}, runId: 'run-1' });

      expect(planned.windows.map((w) => `${w.start.slice(11, 16)}-${w.end.slice(11, 16)}`)).toEqual(expected);
    },
  );
});
