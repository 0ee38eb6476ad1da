/**
 * One tenant's due windows through the domain operations the state machine's Tasks call, one after
 * another: plan, fetchPages for each entity of each window, commitWindow. No state machine: the S3
 * requests counted around it are the domain's own (window-requests.ts, test/integration/window-requests.test.ts).
 */
import { type Collector, fetchPages, plan } from '../../../functions/domain/collector.ts';
import { type CommitResult, commitWindow } from '../../../functions/domain/publish.ts';

/** The operation running: the requests it sends are counted under it. */
export type Step = 'plan' | 'fetch' | 'commit';

/** A scheduled run of collectDue: its id, its time, and who is told each step. */
export interface DueRun {
  /** The run's id, as a scheduled execution's name. */
  readonly runId: string;
  /** The time the run plans at, epoch ms. */
  readonly clock: number;
  /** Told each step as it starts (default: no one). */
  readonly onStep?: (step: Step) => void;
}

/**
 * Plans at `clock` as a scheduled run `runId` does, fetches every planned window's entities (each in one
 * invocation with a minute's budget) and commits each window. `onStep` is told each step as it starts.
 */
export async function collectDue(
  c: Collector,
  { runId, clock, onStep = () => {} }: DueRun,
): Promise<CommitResult[]> {
  onStep('plan');
  const planned = await plan(c, { input: {}, runId, clock });
  const results: CommitResult[] = [];
  for (const { start, end } of planned.windows) {
    onStep('fetch');
    const fetched = [];
    for (const entity of planned.entities) {
      const done = await fetchPages(
        c,
        { start, end, entity, runId, continuation: null },
        Date.now() + 60_000,
      );
      if (!done.done) throw new Error(`${entity} ${start}: not fetched within a minute`);
      fetched.push({ entity, objects: done.objects, rows: done.rows });
    }
    onStep('commit');
    results.push(await commitWindow(c, { start, end, runId, mode: 'scheduled', fetched }));
  }
  return results;
}
