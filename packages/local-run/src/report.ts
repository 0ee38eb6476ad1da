import { hostname } from 'node:os';
import type { ExecutionOutcome, TenantResult } from '@citrix-monitor/testkit/workflow';
import { type ExitCode, exitCodeOfExecution } from '../../../cli/exit-codes.ts';
import type { Config } from '../../../functions/domain/config.ts';
import type { CommitResult } from '../../../functions/domain/publish.ts';
import type { Tenant } from '../../../functions/domain/schemas.ts';
import { describeWindow, windowOf } from '../../../functions/domain/windows.ts';

const n = (x: number) => x.toLocaleString('en-US');

/** `Hour 2026-11-24T10:00:00Z` or `Window 2026-11-24T10:05:00Z..10:10:00Z`. */
const labelOf = (c: Pick<CommitResult, 'start' | 'end'>) =>
  describeWindow(windowOf(c.start, c.end, 'The window'));

/**
 * A window another run holds: who, until when, why this run did not take it over, and what to do.
 * The lease's `until` is when any run may finish the window.
 */
function heldElsewhere(window: CommitResult, now: number): string[] {
  const lease = window.heldBy;
  const label = labelOf(window);
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
    `    Run again after ${lease.until}: a run then finishes the window if that one has not. To see who holds it: citrix-monitor status.`,
  ];
}

/** `1 object`, `5 objects`, `7,500 rows`. */
const counted = (count: number, one: string) => `${n(count)} ${one}${count === 1 ? '' : 's'}`;

/**
 * How the run moved the state, in one statement: from where it was before its first window to where its
 * last one left it (over several windows, a catch-up), or why it did not move.
 */
function stateMove(committed: readonly CommitResult[]): string {
  const moves = committed.filter((c) => c.state.moved);
  const [first, last] = [moves[0], committed.at(-1)];
  if (!last?.state.moved) return `not moved: ${last?.state.reason}`;
  if (moves.length < 2 || !first) return last.state.reason;
  return `advanced from ${first.state.from ?? 'no state'} to ${last.state.to} over ${moves.length} windows`;
}

/** What an outcome's report reads besides the outcome. */
export interface OutcomeContext {
  /** The configuration a tenant's run used (null: the environment's one tenant). */
  readonly configOf: (tenant: Tenant | null) => Config;
  /** The execution's wall time, seconds. */
  readonly seconds: number;
  /** The time now, epoch ms (default the clock's): the minutes left on another run's lease are counted from it. */
  readonly now?: number;
}

/**
 * What a person reads after a local run: what was published, where, the state, or what failed and what
 * to do. The failure is told as a local run meets it: each tenant's windows and error, and a run of the
 * same command to finish (a local execution is not redriven, whatever the Report step's message says of
 * a deployed one).
 */
export function describeOutcome(
  outcome: ExecutionOutcome,
  { configOf, seconds, now = Date.now() }: OutcomeContext,
): string {
  const lines = [`Execution ${outcome.executionName} ${outcome.status} in ${seconds.toFixed(1)} s`];
  const results = outcome.results ?? [];
  const failed = results.filter((r) => r.failure);
  if (outcome.status === 'FAILED') lines.push(failureHeadline(outcome, results.length, failed.length));
  for (const result of results) {
    const indent = result.tenant ? '    ' : '  ';
    if (result.tenant) lines.push(`  Tenant ${result.tenant.id} (customer ${result.tenant.customerId}):`);
    lines.push(...describeTenant(result, configOf(result.tenant), { indent, now }));
  }
  // Only once windows were being fetched: a failure before (configuration, credentials) involved none.
  if (outcome.status === 'FAILED' && (failed.length > 0 || outcome.invocations.FetchPages > 0))
    lines.push(`  ${RUN_AGAIN}`);
  return lines.join('\n');
}

/** What a local user can do about a failed window: the same command again, not a redrive. */
const RUN_AGAIN =
  'Run the same command again once the cause is fixed: it collects what is not published yet (a window already published is not fetched again) and publishes nothing twice.';

/**
 * The first line of a failure: a TenantsFailed as how many tenants failed (each says its error below),
 * any other error (the environment's one tenant's, or the execution's) with its message.
 */
function failureHeadline(outcome: ExecutionOutcome, tenants: number, failed: number): string {
  if (outcome.error === 'TenantsFailed' && failed > 0)
    return `  TenantsFailed: ${failed} of ${tenants} tenants failed.`;
  return `  ${outcome.error}: ${outcome.cause}`;
}

/** A failed tenant's error (a listed tenant's: the headline names the environment's one) and what it left. */
function describeFailure(result: TenantResult, indent: string): string[] {
  const failure = result.failure;
  if (!failure) return [];
  const lines = result.tenant ? [`${indent}Failed: ${failure.Error}: ${failure.Cause}`] : [];
  // The fetch step names the entity: the window was never claimed, so nothing of it is published.
  if (failure.entity !== null)
    lines.push(`${indent}Nothing of that window was published, and the state did not move past it.`);
  else if (failure.window !== null) lines.push(`${indent}The state did not move past that window.`);
  return lines;
}

/** How a tenant's lines are told: their indent, and the time now (epoch ms) another run's lease is counted from. */
interface Telling {
  readonly indent: string;
  readonly now: number;
}

/** One tenant's windows, its state and where they were published, and its failure. */
function describeTenant(result: TenantResult, config: Config, { indent, now }: Telling): string[] {
  const committed = result.committed ?? [];
  if (!result.failure && committed.length === 0)
    return [
      `${indent}Nothing to do: the state is at the newest due window (last whole hour ${result.lastHour ?? '?'}).`,
    ];
  const lines: string[] = [];
  for (const window of committed) lines.push(...describeWindowOutcome(window, indent, now));
  if (committed.length > 0) {
    lines.push(`${indent}State s3://${config.workBucket}/${config.stateKey}: ${stateMove(committed)}`);
    lines.push(
      `${indent}Published under s3://${config.bucket}/${config.prefix}/{Entity}/year=YYYY/month=MM/day=DD/hour=HH/`,
    );
  }
  return [...lines, ...describeFailure(result, indent)];
}

/** One committed window: published by this run, by another before it, or held by another run. */
function describeWindowOutcome(window: CommitResult, indent: string, now: number): string[] {
  if (window.outcome === 'publishing-elsewhere')
    return heldElsewhere(window, now).map((line) => `${indent.slice(2)}${line}`);
  const objects = Object.values(window.entities).reduce((sum, e) => sum + e.objects, 0);
  const head =
    window.outcome === 'published'
      ? `${counted(window.rows, 'row')}, ${counted(window.objects, 'object')} published`
      : `already published by run ${window.publishedBy} (${counted(window.rows, 'row')} in ${counted(objects, 'object')}); this run wrote nothing`;
  return [
    `${indent}${labelOf(window)}: ${head}`,
    ...Object.entries(window.entities).map(
      ([entity, e]) =>
        `${indent}  ${entity.padEnd(24)} ${n(e.rows).padStart(10)} ${e.rows === 1 ? 'row ' : 'rows'}  ${n(e.objects).padStart(5)} ${e.objects === 1 ? 'object' : 'objects'}`,
    ),
  ];
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
