import type { Collector } from './collector.ts';
import { readState } from './state-store.ts';
import { MINUTE_MS, newestDueEnd } from './windows.ts';

/**
 * How far behind a tenant may be and still be collected in an Express child: its due windows span at most
 * an hour (one window, for hourly windows). At real Citrix speed an hour of a 5,000-row tenant takes about
 * two and a half minutes to fetch; a tenant further behind, or one whose windows turn out larger, needs a
 * Standard child, which has no time box.
 */
export const ON_TIME_MINUTES = 60;

/** Which kind of child collects a tenant in this run. */
export type Route = 'express' | 'standard';

/**
 * The kind of child that collects a tenant in a run started at `clock`: Express when the tenant is on time
 * (its state ends at most {@link ON_TIME_MINUTES}, or one window, before the newest due window's end; a
 * tenant with no state yet collects one window), Standard otherwise, and for an explicit hour (a backfill
 * or a rerun). A state that cannot be read goes to a Standard child, which fails on it with its own error,
 * recorded for the tenant alone.
 */
export async function routeOf(c: Collector, input: { hour?: unknown }, clock: number): Promise<Route> {
  if (input.hour !== undefined && input.hour !== null) return 'standard';
  const { windowMinutes, settleMinutes } = c.config;
  const dueEnd = newestDueEnd(clock, windowMinutes, settleMinutes);
  const state = await readState(c.work, c.config).catch(() => null);
  if (state === null) return 'standard';
  const behindMs = state.end === null ? 0 : dueEnd - state.end;
  return behindMs <= Math.max(windowMinutes, ON_TIME_MINUTES) * MINUTE_MS ? 'express' : 'standard';
}
