import { hostname } from 'node:os';
import { type ExitCode, exitCodeOfExecution } from '../cli/exit-codes.ts';
import type { Config } from '../functions/domain/config.ts';
import type { CommitResult } from '../functions/domain/publish.ts';
import type { Tenant } from '../functions/domain/schemas.ts';
import { describeWindow, windowOf } from '../functions/domain/windows.ts';
import type { ExecutionOutcome, TenantOutput } from './workflow.ts';

const n = (x: number) => x.toLocaleString('en-US');

/** `Hour 2026-11-24T10:00:00Z` or `Window 2026-11-24T10:05:00Z..10:10:00Z`. */
const labelOf = (c: Pick<CommitResult, 'hour' | 'end'>) =>
  describeWindow(windowOf(c.hour, c.end, 'The window'));

/**
 * An hour another run holds: who, until when, why this run did not take it over, and what to do.
 * The lease's `until` is when any run may finish the hour.
 */
function heldElsewhere(hour: CommitResult, now: number): string[] {
  const lease = hour.heldBy;
  const label = labelOf(hour);
  if (!lease) return [`  ${label}: another run is publishing it; nothing written by this run.`];
  const minutes = Math.max(0, Math.ceil((Date.parse(lease.until) - now) / 60_000));
  const owner = lease.host && lease.pid ? ` (process ${lease.pid} on ${lease.host})` : '';
  const why = !owner
    ? 'an execution of the deployed state machine holds it (its lease names no process)'
    : lease.host === hostname()
      ? `process ${lease.pid} still runs on this machine: let it finish, or stop it and run again at once`
      : `the run is on another machine, so this one cannot tell whether it still runs`;
  return [
    `  ${label}: not published by this run, nothing written: run ${lease.holder}${owner} holds it until ${lease.until}, in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
    `    Why: ${why}.`,
    `    Run again after ${lease.until}: a run then finishes the hour if that one has not. To see who holds it: citrix-monitor status.`,
  ];
}

/**
 * How the run moved the state: from where it was before its first window to where its last one left it,
 * when it committed several windows (a catch-up), else why its one window moved it or did not.
 */
function stateMove(committed: readonly CommitResult[]): string {
  const moves = committed.filter((c) => c.state.moved);
  const [first, last] = [moves[0], committed.at(-1)];
  if (moves.length < 2 || !first || !last?.state.moved)
    return `${last?.state.moved ? 'moved' : 'not moved'}: ${last?.state.reason}`;
  return `moved: advanced from ${first.state.from ?? 'no state'} to ${last.state.to} over ${moves.length} windows`;
}

/** What a person reads after a run: what was published, where, the state, or what failed and what to do. */
export function describeOutcome(
  outcome: ExecutionOutcome,
  configOf: (tenant: Tenant | null) => Config,
  seconds: number,
  now: number = Date.now(),
): string {
  const lines: string[] = [];
  lines.push(`Execution ${outcome.executionName} ${outcome.status} in ${seconds.toFixed(1)} s`);
  if (outcome.status === 'FAILED') {
    lines.push(`  ${outcome.error}: ${outcome.cause}`);
    // Only once windows were being fetched: a failure before (configuration, credentials) involved no hour.
    if (outcome.invocations.FetchPages > 0)
      lines.push(
        `  Nothing of a failed hour was published and the state did not move past it: run again (or redrive) once the cause is fixed.`,
      );
    return lines.join('\n');
  }
  for (const result of outcome.results ?? []) {
    const out = result as unknown as TenantOutput;
    const config = configOf(result.tenant);
    const indent = result.tenant ? '    ' : '  ';
    if (result.tenant) lines.push(`  Tenant ${result.tenant.id} (customer ${result.tenant.customerId}):`);
    lines.push(...describeTenant(out, config, indent, now));
  }
  return lines.join('\n');
}

/** One tenant's hours, its state and where they were published. */
function describeTenant(out: TenantOutput, config: Config, indent: string, now: number): string[] {
  const lines: string[] = [];
  if (out.hours.length === 0) {
    lines.push(
      `${indent}Nothing to do: the state is at the newest due window (last whole hour ${out.lastHour ?? '?'}).`,
    );
    return lines;
  }
  for (const hour of out.committed) {
    if (hour.outcome === 'publishing-elsewhere') {
      lines.push(...heldElsewhere(hour, now).map((line) => `${indent.slice(2)}${line}`));
      continue;
    }
    const verb =
      hour.outcome === 'published' ? 'published' : 'already published by another run; nothing written';
    lines.push(`${indent}${labelOf(hour)}: ${n(hour.rows)} rows, ${n(hour.objects)} objects ${verb}`);
    for (const [entity, e] of Object.entries(hour.entities)) {
      lines.push(
        `${indent}  ${entity.padEnd(24)} ${n(e.rows).padStart(10)} rows  ${n(e.objects).padStart(5)} objects`,
      );
    }
  }
  const last = out.committed.at(-1);
  if (last)
    lines.push(
      `${indent}State s3://${config.workBucket}/${config.stateKey}: last_hour_utc ${last.state.lastHour ?? 'none'} (${stateMove(out.committed)})`,
    );
  lines.push(
    `${indent}Published under s3://${config.bucket}/${config.prefix}/{Entity}/year=YYYY/month=MM/day=DD/hour=HH/`,
  );
  return lines;
}

/**
 * The exit code of a local execution (cli/exit-codes.ts): 0 when it succeeded and every window it planned
 * is published; 3 when another run holds one; else the code of its error, a TenantsFailed taking the code
 * its failed tenants share.
 */
export function exitCode(outcome: ExecutionOutcome): ExitCode {
  const results = outcome.results ?? [];
  return exitCodeOfExecution({
    status: outcome.status,
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    tenantErrors: results.flatMap((r) => (r.failure ? [r.failure.Error] : [])),
    heldElsewhere: results.some((r) => r.committed?.some((c) => c.outcome === 'publishing-elsewhere')),
  });
}
