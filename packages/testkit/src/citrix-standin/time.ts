/**
 * Instants with .NET precision (100 ns ticks). A Number of ticks since 1970 would exceed 2^53, so an
 * instant is kept as whole milliseconds plus 0–9999 ticks, which compares exactly.
 */
export interface Instant {
  ms: number;
  sub: number;
}

export const TICKS_PER_MS = 10_000;
export const HOUR_MS = 3_600_000;
export const HOUR_TICKS = HOUR_MS * TICKS_PER_MS;

// OData's dateTimeOffsetValue: seconds and fraction optional, `Z` or a ±hh:mm offset.
const LITERAL =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/i;

/** Parses an unquoted OData DateTimeOffset literal (0–7 fraction digits, `Z` or offset); null if invalid. */
export function parseInstant(text: string): Instant | null {
  const m = LITERAL.exec(text);
  if (!m) return null;
  const part = (k: number): number => Number(m[k] ?? 0);
  const ms = Date.UTC(part(1), part(2) - 1, part(3), part(4), part(5), part(6));
  const d = new Date(ms);
  // Date.UTC silently rolls 2026-02-30 or 24:00 over: reject anything that does not round-trip.
  const same =
    d.getUTCFullYear() === part(1) &&
    d.getUTCMonth() === part(2) - 1 &&
    d.getUTCDate() === part(3) &&
    d.getUTCHours() === part(4) &&
    d.getUTCMinutes() === part(5) &&
    d.getUTCSeconds() === part(6);
  if (!same || part(10) > 14 || part(11) > 59) return null;
  const offsetMs = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * (part(10) * 60 + part(11)) * 60_000;
  const ticks = Number((m[7] ?? '').padEnd(7, '0'));
  return { ms: ms - offsetMs + Math.floor(ticks / TICKS_PER_MS), sub: ticks % TICKS_PER_MS };
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function compareInstants(a: Instant, b: Instant): number {
  return a.ms - b.ms || a.sub - b.sub;
}

/** The instant `ticks` (may be negative) after `a`. */
export function addTicks(a: Instant, ticks: number): Instant {
  const total = a.sub + ticks;
  const ms = Math.floor(total / TICKS_PER_MS);
  return { ms: a.ms + ms, sub: total - ms * TICKS_PER_MS };
}

/** Ticks from `originMs` to `a`: exact within years of the origin, and always of the right sign. */
export function ticksSince(a: Instant, originMs: number): number {
  return (a.ms - originMs) * TICKS_PER_MS + a.sub;
}

/**
 * A fixed-width text that sorts like the instant (ticks since 1970, zero-padded), so instants of rows and
 * literals compare as plain strings wherever values of several types are ordered together.
 */
export function instantKey(a: Instant): string {
  return `${String(a.ms).padStart(15, '0')}${String(a.sub).padStart(4, '0')}`;
}

const prefixes = new Map<number, string>();
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Formats like .NET: `2026-11-24T10:00:00Z`, `…:50.72Z`, `…:59.9999999Z` (trailing zeros trimmed). */
export function formatInstant(originMs: number, ticks: number): string {
  const wholeMs = Math.floor(ticks / TICKS_PER_MS);
  const ms = originMs + wholeMs;
  const hour = Math.floor(ms / HOUR_MS) * HOUR_MS;
  // Serving a page formats thousands of stamps in the same few hours: cache 'YYYY-MM-DDTHH:'.
  let prefix = prefixes.get(hour);
  if (prefix === undefined) {
    if (prefixes.size > 1000) prefixes.clear();
    prefix = new Date(hour).toISOString().slice(0, 14);
    prefixes.set(hour, prefix);
  }
  const inHour = ms - hour;
  const head = `${prefix}${two(Math.floor(inHour / 60_000))}:${two(Math.floor(inHour / 1000) % 60)}`;
  let fraction = (inHour % 1000) * TICKS_PER_MS + (ticks - wholeMs * TICKS_PER_MS);
  if (fraction === 0) return `${head}Z`;
  let digits = 7;
  while (fraction % 10 === 0) {
    fraction /= 10;
    digits--;
  }
  return `${head}.${String(fraction).padStart(digits, '0')}Z`;
}
