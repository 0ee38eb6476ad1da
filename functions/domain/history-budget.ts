/**
 * How many windows one tenant's child execution may take on in one run. Step Functions fails an execution
 * whose history reaches 25,000 events (`States.Runtime`, "The execution reached the maximum number of history
 * events"); no Catch catches it and such an execution cannot be redriven. A tenant is a Distributed Map child
 * with a history of its own, which grows with the windows it collects: at 5-minute windows a day behind is
 * 288 windows, about 19,600 events before any retry. So a run plans no more windows than fill half the
 * quota in a clean run, and leaves the other half to retries (3 events each) and page continuations (7
 * each). A tenant further behind carries on in the next scheduled run, from its state.
 *
 * The events per state are the ASL's (statemachine/collector.asl.json, as packages/testkit/src/history.ts counts them);
 * test/unit/history-budget.test.ts checks these figures against that count of the real definition.
 */

/** Step Functions' quota of history events per Standard execution (a Distributed Map child is one). */
export const HISTORY_EVENTS_QUOTA = 25_000;

/** The share of the quota that a clean run's planned windows may fill. */
export const PLANNED_SHARE = 0.5;

/**
 * A child's events whatever its windows: its start and end (2), the Tenant Parallel (4), Plan (5) and
 * the Windows map (4).
 */
export const CHILD_FIXED_EVENTS = 15;
/** Per window: its Windows iteration (2), "Already published?" (2), the Entities map (4) and Commit (5). */
export const WINDOW_EVENTS = 13;
/** Per entity of a window: its Entities iteration (2), FetchPages (5), "More pages?" (2) and "Entity fetched" (2). */
export const ENTITY_WINDOW_EVENTS = 11;

/** The events a child writes in a clean run of `windows` windows of `entities` entities, one page-fetch each. */
export const cleanChildEvents = (windows: number, entities: number): number =>
  CHILD_FIXED_EVENTS + windows * (WINDOW_EVENTS + entities * ENTITY_WINDOW_EVENTS);

/** The most windows of `entities` entities that one child plans in one run (at least one). */
export function windowsPerRun(entities: number): number {
  const budget = HISTORY_EVENTS_QUOTA * PLANNED_SHARE - CHILD_FIXED_EVENTS;
  return Math.max(1, Math.floor(budget / (WINDOW_EVENTS + entities * ENTITY_WINDOW_EVENTS)));
}
