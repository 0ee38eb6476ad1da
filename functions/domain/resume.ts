import { z } from 'zod';
import type { Collector } from './collector.ts';
import { StateCorrupt, TimeBoxClosed } from './errors.ts';
import { stagingRunPrefix } from './keys.ts';
import type { CommitTask } from './schemas.ts';
import { type CarryOn, describeIssues, resumedEntitySchema } from './schemas.ts';
import { describeWindow, type Window, windowField, windowOf } from './windows.ts';

/**
 * What an Express child had fetched of a window when its time box closed, entity by entity: kept beside the
 * window's staged objects, for the Standard child of the same run that the tenant is handed on to. That
 * child's Plan reads it (carryOnOf), and the fetches of the window start from it instead of from the first
 * page: an entity done is not fetched again, an entity cut short resumes from its continuation, and the
 * staged objects both count are the same objects.
 */
const resumeSchema = z.object({ entities: z.record(z.string(), resumedEntitySchema) });
export type Resume = z.infer<typeof resumeSchema>;

/** Beside the run's staged objects of the window, and removed with them once the window is published. */
export const resumeKey = (c: Collector, runId: string, window: Window) =>
  `${stagingRunPrefix(c.config, runId, window)}resume.json`;

/** One window of one run. */
export interface RunWindow {
  readonly runId: string;
  readonly window: Window;
}

/** Keeps what an Express child fetched of `window` before its time box closed. */
export async function keepResume(c: Collector, { runId, window }: RunWindow, resume: Resume): Promise<void> {
  await c.work.put(resumeKey(c, runId, window), JSON.stringify(resume), 'application/json');
}

/**
 * What an Express child of this run kept of the window the run's plan starts with, for a Standard child to
 * carry on from; null when none was kept (the tenant was behind, or its Express child finished the window).
 * Only the first window can have one: the Express child committed every window before it.
 */
export async function carryOnOf(
  c: Collector,
  runId: string,
  first: { readonly start: string; readonly end: string } | undefined,
): Promise<CarryOn | null> {
  if (!first) return null;
  const key = resumeKey(c, runId, windowOf(first.start, first.end, 'The first planned window'));
  const found = await c.work.get(key);
  if (!found) return null;
  let json: unknown;
  try {
    json = JSON.parse(found.body.toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = resumeSchema.safeParse(json);
  if (!parsed.success) {
    throw new StateCorrupt(
      `The resume record s3://${c.work.bucket}/${key} cannot be read (${json === undefined ? 'not valid JSON' : describeIssues(parsed.error)}). Delete it: the window is then fetched again from its first page, and nothing is published twice.`,
    );
  }
  return { window: first.start, entities: parsed.data.entities };
}

/**
 * A window whose time box closed before every entity was fetched: nothing of it is committed. What was
 * fetched is kept for the Standard child the tenant is handed on to, and the Express child ends with
 * {@link TimeBoxClosed}, which hands it on.
 */
export async function closeTimeBox(c: Collector, task: CommitTask): Promise<never> {
  const window = windowOf(task.start, task.end, 'The task window');
  const entities: Resume['entities'] = {};
  for (const f of task.fetched) {
    entities[f.entity] = {
      done: f.done === true && f.timeBoxClosed !== true,
      objects: f.objects,
      rows: f.rows,
      bytes: f.bytes ?? 0,
      continuation: f.continuation ?? null,
    };
  }
  await keepResume(c, { runId: task.runId, window }, { entities });
  const done = Object.entries(entities)
    .filter(([, e]) => e.done)
    .map(([entity]) => entity);
  c.log('time box closed; window handed on', { execution: task.runId, window: windowField(task), done });
  throw new TimeBoxClosed(
    `${describeWindow(window)}: the Express child's fetch deadline (EXPRESS_FETCH_SECONDS=${c.config.expressFetchSeconds}) passed with ${done.length} of ${task.fetched.length} entities fetched; a Standard child of this run carries on from what they staged.`,
  );
}
