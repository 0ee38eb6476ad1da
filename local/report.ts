import type { Config } from '../functions/commons/config.ts';
import type { ExecutionOutcome } from './workflow.ts';

const n = (x: number) => x.toLocaleString('en-US');

/** What a person reads after a run: what was published, where, the state, or what failed and what to do. */
export function describeOutcome(outcome: ExecutionOutcome, config: Config, seconds: number): string {
  const lines: string[] = [];
  lines.push(`Execution ${outcome.executionName} ${outcome.status} in ${seconds.toFixed(1)} s`);
  if (outcome.status === 'FAILED') {
    lines.push(`  ${outcome.error}: ${outcome.cause}`);
    lines.push(
      `  Nothing of a failed hour was published and the state did not move past it: run again (or redrive) once the cause is fixed.`,
    );
    return lines.join('\n');
  }
  const out = outcome.output;
  if (!out || out.hours.length === 0) {
    lines.push(`  Nothing to do: the state is at ${out?.lastHour ?? '?'}, the newest due hour.`);
    return lines.join('\n');
  }
  for (const hour of out.committed) {
    const verb =
      hour.outcome === 'published' ? 'published' : 'already published by another run; nothing written';
    lines.push(`  Hour ${hour.hour}: ${n(hour.rows)} rows, ${n(hour.objects)} objects ${verb}`);
    for (const [entity, e] of Object.entries(hour.entities)) {
      lines.push(
        `    ${entity.padEnd(24)} ${n(e.rows).padStart(10)} rows  ${n(e.pages).padStart(5)} objects`,
      );
    }
  }
  const last = out.committed.at(-1);
  if (last)
    lines.push(
      `  State s3://${config.bucket}/${config.stateKey}: last_hour_utc ${last.state.lastHour ?? 'none'} (${last.state.moved ? 'moved' : 'not moved'}: ${last.state.reason})`,
    );
  lines.push(
    `  Published under s3://${config.bucket}/${config.prefix}/{Entity}/year=YYYY/month=MM/day=DD/hour=HH/`,
  );
  return lines.join('\n');
}

/** Exit 0 only when the execution succeeded and every hour it planned is published. */
export function exitCode(outcome: ExecutionOutcome): number {
  if (outcome.status !== 'SUCCEEDED') return 1;
  return outcome.output?.committed.every((c) => c.outcome !== 'publishing-elsewhere') === false ? 3 : 0;
}
