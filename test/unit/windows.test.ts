import { describe, expect, it } from 'vitest';
import { publishedKey } from '../../functions/domain/keys.ts';
import {
  type Claimed,
  claimStamp,
  newestDueEnd,
  windowMinutesOf,
  windowOf,
  windowStamp,
  windowsBetween,
} from '../../functions/domain/windows.ts';

const at = (text: string) => Date.parse(text);
const span = (from: string, to: string) => ({ start: at(from), end: at(to) });
const shown = (windows: Array<{ start: number; end: number; published?: boolean }>) =>
  windows.map(
    (w) =>
      `${new Date(w.start).toISOString().slice(11, 16)}-${new Date(w.end).toISOString().slice(11, 16)}${w.published ? ' published' : ''}`,
  );
const layout = {
  prefix: 'citrix_monitor',
  workPrefix: 'w',
  stagingPrefix: 'w/staging',
  compression: 'none' as const,
};

describe('the newest due window', () => {
  it('is the one that ended SETTLE_MINUTES ago on the grid: a whole hour 15 minutes after it ends, as before windows', () => {
    expect(newestDueEnd(at('2026-11-24T11:14:59Z'), 60, 15)).toBe(at('2026-11-24T10:00:00Z'));
    expect(newestDueEnd(at('2026-11-24T11:15:00Z'), 60, 15)).toBe(at('2026-11-24T11:00:00Z'));
    expect(newestDueEnd(at('2026-11-24T11:15:00Z'), 5, 15)).toBe(at('2026-11-24T11:00:00Z'));
    expect(newestDueEnd(at('2026-11-24T11:24:59Z'), 5, 15)).toBe(at('2026-11-24T11:05:00Z'));
  });

  it('never ends after now less the settle, at any minute and any window size', () => {
    for (const size of [5, 10, 15, 20, 30, 60]) {
      for (let minute = 0; minute < 120; minute++) {
        const now = at('2026-11-24T11:00:00Z') + minute * 60_000 + 59_999;
        expect(newestDueEnd(now, size, 0), `${size} min at +${minute}`).toBeLessThanOrEqual(now);
        expect(newestDueEnd(now, size, 15), `${size} min at +${minute}`).toBeLessThanOrEqual(
          now - 15 * 60_000,
        );
      }
    }
  });
});

describe('the windows between two instants', () => {
  it('follow the grid of the window size, oldest first', () => {
    const windows = windowsBetween({
      from: at('2026-11-24T10:00:00Z'),
      until: at('2026-11-24T10:20:00Z'),
      windowMinutes: 5,
    });

    expect(shown(windows)).toEqual(['10:00-10:05', '10:05-10:10', '10:10-10:15', '10:15-10:20']);
  });

  it('start where the state is and meet a new grid at its next point, when the window size changed', () => {
    expect(
      shown(
        windowsBetween({
          from: at('2026-11-24T10:25:00Z'),
          until: at('2026-11-24T12:00:00Z'),
          windowMinutes: 60,
        }),
      ),
    ).toEqual(['10:25-11:00', '11:00-12:00']);
  });

  it('take a window as it was claimed, whatever its size, and end a new one where the next claim starts', () => {
    const claimed: Claimed[] = [
      { ...span('2026-11-24T10:00:00Z', '2026-11-24T10:05:00Z'), published: true },
      { ...span('2026-11-24T10:10:00Z', '2026-11-24T10:25:00Z'), published: false },
    ];

    const windows = windowsBetween({
      from: at('2026-11-24T10:00:00Z'),
      until: at('2026-11-24T10:30:00Z'),
      windowMinutes: 30,
      claimed,
    });

    expect(shown(windows)).toEqual(['10:00-10:05 published', '10:05-10:10', '10:10-10:25', '10:25-10:30']);
  });

  it('are none when the state is at or ahead of the newest due window', () => {
    expect(
      windowsBetween({
        from: at('2026-11-24T10:20:00Z'),
        until: at('2026-11-24T10:20:00Z'),
        windowMinutes: 5,
      }),
    ).toEqual([]);
    expect(
      windowsBetween({
        from: at('2026-11-24T11:00:00Z'),
        until: at('2026-11-24T10:20:00Z'),
        windowMinutes: 60,
      }),
    ).toEqual([]);
  });

  it('stop at the budget of time, never splitting a window', () => {
    const windows = windowsBetween({
      from: at('2026-11-24T10:00:00Z'),
      until: at('2026-11-24T11:00:00Z'),
      windowMinutes: 15,
      budgetMs: 40 * 60_000,
    });

    expect(shown(windows)).toEqual(['10:00-10:15', '10:15-10:30']);
  });
});

describe('window names', () => {
  it('keep the keys of a whole hour, and sort shorter windows by their start', () => {
    const hour = span('2026-11-24T10:00:00Z', '2026-11-24T11:00:00Z');
    const five = span('2026-11-24T10:00:00Z', '2026-11-24T10:05:00Z');
    const later = span('2026-11-24T10:05:00Z', '2026-11-24T10:10:00Z');

    expect(publishedKey(layout, { entity: 'Sessions', window: hour, object: 0 })).toBe(
      'citrix_monitor/Sessions/year=2026/month=11/day=24/hour=10/Sessions_20261124T10_00000.ndjson',
    );
    expect(windowStamp(five)).toBe('20261124T1000');
    const names = [later, five].map((w) =>
      publishedKey(layout, { entity: 'Sessions', window: w, object: 0 }),
    );
    expect([...names].sort()).toEqual([names[1], names[0]]);
    expect(names[0]).toContain('/hour=10/Sessions_20261124T1005_00000.ndjson');
  });

  it('claim a start once, whatever the size of the window that starts there', () => {
    expect(claimStamp(at('2026-11-24T10:00:00Z'))).toBe('20261124T10');
    expect(claimStamp(at('2026-11-24T10:05:00Z'))).toBe('20261124T1005');
  });
});

describe('reading windows', () => {
  it('reads a window from its start and end: a whole hour, and a shorter window', () => {
    expect(windowOf('2026-11-24T10:00:00Z', '2026-11-24T11:00:00Z', 'x')).toEqual(
      span('2026-11-24T10:00:00Z', '2026-11-24T11:00:00Z'),
    );
    expect(windowOf('2026-11-24T10:05:00Z', '2026-11-24T10:10:00Z', 'x')).toEqual(
      span('2026-11-24T10:05:00Z', '2026-11-24T10:10:00Z'),
    );
  });

  it('refuses a window that crosses an hour or ends before it starts, naming what it expected', () => {
    expect(() => windowOf('2026-11-24T10:55:00Z', '2026-11-24T11:05:00Z', 'The task window')).toThrow(
      /The task window .* is not a window: expected whole UTC minutes within one hour/,
    );
    expect(() => windowOf('2026-11-24T10:05:00Z', '2026-11-24T10:00:00Z', 'x')).toThrow(/is not a window/);
    expect(() => windowOf('2026-11-24T10:05:30Z', '2026-11-24T10:10:00Z', 'x')).toThrow(/is not a window/);
    expect(() => windowOf('2026-11-24T10:05:00Z', 'soon', 'A commit record')).toThrow(
      'A commit record "2026-11-24T10:05:00Z".."soon" is not a window',
    );
  });

  it('takes the window sizes that divide the hour', () => {
    expect(windowMinutesOf(undefined)).toBe(60);
    expect(windowMinutesOf(' 5 ')).toBe(5);
    expect(() => windowMinutesOf('7')).toThrow('WINDOW_MINUTES="7" is invalid');
  });
});
