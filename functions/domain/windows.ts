import { BadConfiguration } from './errors.ts';
import { HOUR_MS, hourParts } from './hours.ts';

/**
 * Windows: what a run collects, publishes and commits at once. A window is half-open, [start, end), so
 * a row stamped exactly on a boundary belongs to the window it starts. Windows lie on a grid of
 * WINDOW_MINUTES (a divisor of the hour), so a window never crosses an hour: its objects go in its hour's
 * folder. A window of 60 minutes starting on the hour is the hour the collector always collected, under
 * the same keys.
 */
export interface Window {
  readonly start: number;
  readonly end: number;
}

export const MINUTE_MS = 60_000;

/** The window sizes the collector runs with: divisors of the hour, from 5 minutes. */
export const WINDOW_SIZES = [5, 10, 15, 20, 30, 60] as const;

const INSTANT_TEXT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)$/;

/** `2026-11-24T10:05:00Z`: a whole UTC minute (a window's start or end), as the state file and events hold it. */
export function formatMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}:00Z`;
}

/** Parses a whole UTC minute such as `2026-11-24T10:05:00Z` (a whole hour too); null if it is not one. */
export function parseMinute(text: string): number | null {
  const m = INSTANT_TEXT.exec(text.trim());
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return formatMinute(ms).slice(0, 16) === `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}` ? ms : null;
}

/** A window as events and records hold it: its start and its end, each a whole UTC minute. */
export function windowOf(startText: string, endText: string, what: string): Window {
  const start = parseMinute(startText);
  const end = parseMinute(endText);
  if (
    start === null ||
    end === null ||
    end <= start ||
    Math.floor(start / HOUR_MS) !== Math.floor((end - 1) / HOUR_MS)
  ) {
    throw new BadConfiguration(
      `${what} ${JSON.stringify(startText)}..${JSON.stringify(endText)} is not a window: expected whole UTC minutes within one hour, such as "2026-11-24T10:05:00Z".."2026-11-24T10:10:00Z".`,
    );
  }
  return { start, end };
}

/** A window as log lines and failure records name it (their `window` field): its start and end. */
export const windowField = ({ start, end }: { readonly start: string; readonly end: string }) => ({
  start,
  end,
});

export const isWholeHour = (w: Window) => w.start % HOUR_MS === 0 && w.end - w.start === HOUR_MS;

export const minutesOf = (w: Window) => (w.end - w.start) / MINUTE_MS;

/**
 * How messages name a window: `Hour 2026-11-24T10:00:00Z` for a whole hour (as they always did),
 * `Window 2026-11-24T10:05:00Z..10:10:00Z` otherwise.
 */
export function describeWindow(w: Window): string {
  return isWholeHour(w)
    ? `Hour ${formatMinute(w.start)}`
    : `Window ${formatMinute(w.start)}..${formatMinute(w.end).slice(11)}`;
}

/**
 * A window's name in keys: `20261124T10` for a whole hour (the keys the collector always wrote),
 * `20261124T1005` otherwise, so a folder's names sort by window start.
 */
export function windowStamp(w: Window): string {
  const p = hourParts(w.start);
  const hour = `${p.year}${p.month}${p.day}T${p.hour}`;
  return isWholeHour(w) ? hour : `${hour}${new Date(w.start).toISOString().slice(14, 16)}`;
}

/**
 * The name of the claim on a window's start: `20261124T10` on the hour, `20261124T1005` otherwise. Keyed by
 * the start alone, so two runs that planned windows of different sizes from the same instant (a window
 * size changed while a run was under way) claim the same record, and only one of them publishes.
 */
export function claimStamp(start: number): string {
  const p = hourParts(start);
  const minute = new Date(start).toISOString().slice(14, 16);
  return `${p.year}${p.month}${p.day}T${p.hour}${minute === '00' ? '' : minute}`;
}

/** The end of the newest window that is due at `now`: it ended `settleMinutes` ago, on the grid of `windowMinutes`. */
export function newestDueEnd(nowMs: number, windowMinutes: number, settleMinutes: number): number {
  const size = windowMinutes * MINUTE_MS;
  return Math.floor((nowMs - settleMinutes * MINUTE_MS) / size) * size;
}

/** The next point of the grid of `windowMinutes` after `ms`. */
export const nextGridPoint = (ms: number, windowMinutes: number) =>
  (Math.floor(ms / (windowMinutes * MINUTE_MS)) + 1) * windowMinutes * MINUTE_MS;

/** A window already claimed (its commit record): its bounds, and whether it was published. */
export interface Claimed extends Window {
  readonly published: boolean;
}

/** What {@link windowsBetween} lays windows over. */
export interface WindowSpan {
  readonly from: number;
  readonly until: number;
  readonly windowMinutes: number;
  /** At most this much time in all (default: no limit). */
  readonly budgetMs?: number;
  /** The windows claimed already in the span (default: none). */
  readonly claimed?: readonly Claimed[];
}

/**
 * The windows from `from` up to `until`, oldest first, at most `budgetMs` of time in all: on the grid of
 * `windowMinutes`, except where a window was claimed already (a run of another window size, a run ahead
 * of the state): such a window is taken as it was claimed, and a new window ends where the next claimed
 * one starts. So windows never overlap, whatever the window sizes of the runs that made them, and a
 * changed window size starts at the state's end and meets the new grid at its next point.
 */
export function windowsBetween({
  from,
  until,
  windowMinutes,
  budgetMs = Number.POSITIVE_INFINITY,
  claimed = [],
}: WindowSpan): Array<Window & { published: boolean }> {
  const windows: Array<Window & { published: boolean }> = [];
  let cursor = from;
  let spent = 0;
  while (cursor < until) {
    const found = claimed.find((c) => c.start === cursor);
    const nextClaim = Math.min(...claimed.filter((c) => c.start > cursor).map((c) => c.start));
    const end = found ? found.end : Math.min(nextGridPoint(cursor, windowMinutes), nextClaim, until);
    if (end > until || spent + (end - cursor) > budgetMs) break;
    windows.push({ start: cursor, end, published: found?.published ?? false });
    spent += end - cursor;
    cursor = end;
  }
  return windows;
}

/** WINDOW_MINUTES checked: one of {@link WINDOW_SIZES}. */
export function windowMinutesOf(raw: string | undefined): number {
  const value = raw?.trim() || '60';
  if (!WINDOW_SIZES.some((size) => String(size) === value)) {
    throw new BadConfiguration(
      `WINDOW_MINUTES=${JSON.stringify(raw)} is invalid: expected one of ${WINDOW_SIZES.join(', ')} (a divisor of the hour).`,
    );
  }
  return Number(value);
}
