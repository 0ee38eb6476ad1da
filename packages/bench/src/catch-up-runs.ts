/**
 * How many scheduled runs catch a tenant up, when each run takes on at most `perRun` windows and the
 * schedule starts a run every window (EventBridge, `rate(WINDOW_MINUTES minutes)`): each run finds one
 * window more due than the last left behind. test/catch-up/week.test.ts checks the count against runs of
 * the real state machine.
 */

export const WEEK_MS = 7 * 24 * 3_600_000;

/** Runs until one collects every due window, from `behindMs` behind, `windowMinutes` windows, `perRun` at most each. */
export function runsToCatchUp(windowMinutes: number, perRun: number, behindMs = WEEK_MS): number {
  let due = Math.ceil(behindMs / (windowMinutes * 60_000));
  // One window a run keeps pace and no more: a tenant behind stays as far behind.
  if (perRun < 2 && due > perRun) return Number.POSITIVE_INFINITY;
  let runs = 1;
  while (due > perRun) {
    due = due - perRun + 1;
    runs += 1;
  }
  return runs;
}
