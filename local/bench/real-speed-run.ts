/**
 * One scheduled run of the environment's one tenant, for real-speed.ts: the real state machine in-process
 * with the real handlers (local/workflow.ts), no hour in the input, the tenant's state file one hour behind
 * so the run collects exactly one hour. Started with the collector's environment and BENCH_CLOCK_MS, the
 * collector's clock at the start (20 past the hour after the hour to collect), so the due hour cannot move.
 *
 * Each handler invocation is recorded: its task state and wall time as the runner reports it
 * (`onInvocation`), its CPU time and its result (handler-cpu.ts). Prints one JSON line, a
 * {@link RealSpeedRunResult}.
 */
import type { FetchResult, Plan } from '../../functions/domain/collector.ts';
import type { CommitResult } from '../../functions/domain/publish.ts';
import { type Invocation, runExecution } from '../workflow.ts';
import type { PlannedTenant, TaskState } from './cost.ts';
import { meterHandlers } from './handler-cpu.ts';
import { fail } from './result.ts';
import { type ScheduledRun, scheduledFleet } from './scheduled-run.ts';

export interface Call {
  readonly state: TaskState;
  /** The runner's `performance.now()` at the invocation's start and end, ms. */
  readonly startedMs: number;
  readonly endedMs: number;
  /** CPU time of the process during the invocation, ms. */
  readonly cpuMs: number;
  readonly failed: boolean;
  /** FetchPages: the entity, and the rows staged so far for its hour; whether it finished the entity-hour. */
  readonly entity?: string;
  readonly rows?: number;
  readonly done?: boolean;
}

export interface RealSpeedRunResult extends ScheduledRun {
  /** Every handler invocation, in the order they settled. */
  readonly calls: readonly Call[];
  /** What each successful Plan planned. */
  readonly plans: readonly PlannedTenant[];
  /** What each successful Commit did. */
  readonly committed: readonly Pick<CommitResult, 'hour' | 'outcome' | 'rows' | 'objects'>[];
  /** Most handler invocations running at once (1: one after another). */
  readonly maxInFlight: number;
  /** Resident set size once every module is loaded, before the execution starts, and the peak, MB. */
  readonly rssBeforeMB: number;
  readonly maxRssMB: number;
  /** CPU time (user + system) of the execution, s. */
  readonly runCpuSeconds: number;
}

async function main(): Promise<void> {
  const fleet = scheduledFleet();
  const meter = meterHandlers();
  const timed: Invocation[] = [];
  const rssBeforeMB = Math.round(process.memoryUsage().rss / 1048576);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const outcome = await runExecution(fleet, { onInvocation: (call) => timed.push(call) });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  // Both lists are appended as each invocation settles, the runner's first: with invocations one after
  // another they pair up in order.
  if (timed.length !== meter.calls.length || timed.some((t, i) => t.state !== meter.calls[i]?.state)) {
    throw new Error(
      `the runner reported ${timed.length} invocations and the meter ${meter.calls.length}, not in the same order`,
    );
  }
  const calls: Call[] = [];
  const plans: PlannedTenant[] = [];
  const committed: RealSpeedRunResult['committed'][number][] = [];
  for (const [i, t] of timed.entries()) {
    const m = meter.calls[i];
    if (!m) continue;
    const call = {
      state: t.state,
      startedMs: t.startedMs,
      endedMs: t.endedMs,
      cpuMs: m.cpuMs,
      failed: t.failed,
    };
    if (t.state === 'FetchPages' && !t.failed) {
      const r = m.result as FetchResult;
      calls.push({ ...call, entity: r.entity, rows: r.rows, done: r.done });
      continue;
    }
    calls.push(call);
    if (t.state === 'Plan' && !t.failed) {
      const p = m.result as Plan;
      plans.push({ hours: p.hours, entities: p.entities, failed: false });
    }
    if (t.state === 'Commit' && !t.failed) {
      const c = m.result as CommitResult;
      committed.push({ hour: c.hour, outcome: c.outcome, rows: c.rows, objects: c.objects });
    }
  }
  const result: RealSpeedRunResult = {
    status: outcome.status,
    error: outcome.error,
    cause: outcome.cause,
    wallMs,
    calls,
    plans,
    committed,
    maxInFlight: meter.maxInFlight,
    rssBeforeMB,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    runCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch(fail);
