import { createHash } from 'node:crypto';
import { RedeployedSinceStart } from './errors.ts';

/**
 * A redrive runs the execution's original state machine definition, with its original input, against the
 * functions deployed today (AWS, "Redriving executions"), up to 14 days later. Across a redeploy the two may
 * no longer agree on the events they exchange, and a redrive would then fail somewhere in the middle, or do
 * something neither version meant. So the definition carries its own revision in the events of the Tasks
 * where a redrive enters (Tenants, Plan, Report), and the functions, bundled with the definition they were
 * deployed with, refuse any other one at once, saying what to do instead.
 */

/** The field of a Task's event (a literal of its Parameters) that holds the definition's revision. */
export const REVISION_FIELD = 'definitionRevision';

/**
 * A definition's revision: a short hash of it, without its `Comment`s (which change no behaviour, so a
 * redrive across a change of comments alone still runs) and without the revision fields themselves (so a
 * definition can hold its own revision).
 */
export function revisionOf(definition: unknown): string {
  const text = JSON.stringify(definition, (key, value: unknown) =>
    key === 'Comment' || key === REVISION_FIELD ? undefined : value,
  );
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** What a Task's check of its event needs: the step, the execution, and the two revisions. */
export interface RevisionCheck {
  readonly step: string;
  readonly runId: string;
  /** The revision the event carries; absent from the events of definitions before revisions. */
  readonly sent: string | null | undefined;
  /** The revision of the definition the functions were deployed with. */
  readonly own: string;
}

/**
 * Throws {@link RedeployedSinceStart} unless the event comes from the definition the functions were
 * deployed with. An event without a revision is refused too: only a definition older than revisions sends
 * none, so it is certainly not the functions' own, and running it with them is what this guards against.
 */
export function checkRevision({ step, runId, sent, own }: RevisionCheck): void {
  if (sent === own) return;
  const theirs = sent ? `revision ${sent}` : 'a revision from before definitions carried one';
  throw new RedeployedSinceStart(
    `Execution ${runId} was started by an earlier deployment of the collector: its state machine definition is ${theirs}, and the functions deployed now are of revision ${own}. A redrive runs the execution's original definition with today's functions, so it cannot run this execution (the ${step} step refused it before doing anything). Start a new execution instead: the next scheduled run collects every hour not yet published, or citrix-monitor backfill --from HOUR --to HOUR starts one for an hour.`,
  );
}
