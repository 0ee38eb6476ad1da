import { type Collector, type FetchResult, type FetchTask, fetchPages } from './collector.ts';
import { windowField } from './windows.ts';

/**
 * When the fetches of an Express child started at `childStart` must stop: `fetchSeconds`
 * (EXPRESS_FETCH_SECONDS) after its start, which leaves the rest of AWS's 5 minutes to the last write and
 * the commit. Null without a start (a Standard child), or with one that is not a time.
 */
export function fetchDeadline(childStart: string | null | undefined, fetchSeconds: number): string | null {
  const started = childStart ? Date.parse(childStart) : Number.NaN;
  return Number.isNaN(started) ? null : new Date(started + fetchSeconds * 1000).toISOString();
}

/**
 * An Express child's fetch deadline has passed: nothing more is fetched, and what was staged stays staged.
 * The task comes back as it came, not done, with `timeBoxClosed`.
 */
function closed(c: Collector, task: FetchTask): FetchResult {
  const before = task.continuation;
  c.log('time box closed; handing the tenant on', {
    execution: task.runId,
    window: windowField(task),
    entity: task.entity,
    deadline: task.deadline,
  });
  return {
    ...task,
    done: false,
    timeBoxClosed: true,
    objects: before?.objects ?? 0,
    rows: before?.rows ?? 0,
    bytes: before?.bytes ?? 0,
  };
}

/**
 * The entity-window's first task in a Standard child, carried on from what an Express child of the same run
 * kept when its time box closed (the plan's `carryOn`): done already (its staged objects stand), or resumed
 * from its continuation. Null when there is nothing to carry on from.
 */
function carriedOn(c: Collector, task: FetchTask): FetchResult | FetchTask | null {
  const kept = task.carryOn?.window === task.start ? task.carryOn.entities[task.entity] : undefined;
  if (!kept || task.continuation !== null || task.deadline) return null;
  c.log('carrying on from the Express child', {
    execution: task.runId,
    window: windowField(task),
    entity: task.entity,
    done: kept.done,
  });
  if (kept.done) {
    const { objects, rows, bytes } = kept;
    return { ...task, continuation: null, done: true, timeBoxClosed: false, objects, rows, bytes };
  }
  return kept.continuation ? { ...task, continuation: kept.continuation } : null;
}

/**
 * One page-fetch task: fetches for `budgetMs`, or until an Express child's deadline (`task.deadline`), after
 * which the result says `timeBoxClosed`; a Standard child's first task of an entity-window carries on from
 * what an Express child of the run kept.
 */
export async function fetchWithinTimeBox(
  c: Collector,
  task: FetchTask,
  budgetMs: number,
): Promise<FetchResult> {
  const timeBox = task.deadline ? Date.parse(task.deadline) : Number.NaN;
  if (timeBox <= Date.now()) return closed(c, task);
  const carried = carriedOn(c, task);
  if (carried && 'done' in carried) return carried;
  const deadline = Math.min(
    Date.now() + budgetMs,
    Number.isNaN(timeBox) ? Number.POSITIVE_INFINITY : timeBox,
  );
  const result = await fetchPages(c, carried ?? task, deadline);
  return !result.done && timeBox <= Date.now() ? { ...result, timeBoxClosed: true } : result;
}
