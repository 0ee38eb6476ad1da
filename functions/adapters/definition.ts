import deployed from '../../statemachine/collector.asl.json' with { type: 'json' };
import { checkRevision, revisionOf } from '../domain/revision.ts';

/**
 * The revision of the state machine definition these functions were built with: esbuild bundles the ASL
 * file that serverless.yml deploys beside them, so a deployment's functions and definition share it.
 */
export const DEPLOYED_REVISION = revisionOf(deployed);

/**
 * Fails the step at once, with RedeployedSinceStart, when its event comes from a definition other than the
 * one deployed with these functions: a redrive (or an execution in flight) across a redeploy.
 */
export function sameDefinition(step: string, runId: string, sent: string | null | undefined): void {
  checkRevision({ step, runId, sent, own: DEPLOYED_REVISION });
}
