import { BadConfiguration } from './errors.ts';

/**
 * Hour arithmetic. An hour is identified by its start instant in epoch milliseconds; its window is
 * half-open, [start, start + 1 h), so a row stamped exactly on the hour belongs to the hour it starts.
 */
export const HOUR_MS = 3_600_000;

const HOUR_TEXT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(?::00(?::00(?:\.0+)?)?)?(?:Z|[+-]00:?00)$/;

/** Parses `2026-11-24T10:00:00Z` (also `…T10Z`, `…T10:00Z`); returns null if it is not a whole UTC hour. */
export function parseHour(text: string): number | null {
  const m = HOUR_TEXT.exec(text.trim());
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  return formatHour(ms).slice(0, 13) === `${m[1]}-${m[2]}-${m[3]}T${m[4]}` ? ms : null;
}

/** `2026-11-24T10:00:00Z`: the format of `last_hour_utc` in the state file and of the execution input. */
export function formatHour(hourMs: number): string {
  return `${new Date(hourMs).toISOString().slice(0, 13)}:00:00Z`;
}

/** The OData DateTimeOffset literal for an instant (unquoted in a filter). */
export function odataInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** Zero-padded calendar parts of an hour, for the published layout. */
export function hourParts(hourMs: number): { year: string; month: string; day: string; hour: string } {
  const iso = new Date(hourMs).toISOString();
  return { year: iso.slice(0, 4), month: iso.slice(5, 7), day: iso.slice(8, 10), hour: iso.slice(11, 13) };
}

/** An hour given in an execution input or a task, or a {@link BadConfiguration} that says what it expected. */
export function hourOf(text: unknown, what: string): number {
  const hour = typeof text === 'string' ? parseHour(text) : null;
  if (hour === null) {
    throw new BadConfiguration(
      `${what}=${JSON.stringify(text)} is not a whole UTC hour: expected e.g. "2026-11-24T10:00:00Z".`,
    );
  }
  return hour;
}
