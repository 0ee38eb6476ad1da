/**
 * One execution of the real state machine (packages/testkit/src/workflow.ts) in a bench child, every handler invocation
 * recorded: its task state, state name, execution (the parent or a child, and the child's type) and wall time
 * as the runner reports it (`onInvocation`), its CPU time and its result (handler-cpu.ts); and every
 * execution's own wall time. Shared by real-speed-run.ts and windows-run.ts.
 */
import {
  type ExecutionOutcome,
  type ExecutionRef,
  type Invocation,
  type RunOptions,
  runExecution,
} from '@citrix-monitor/testkit/workflow';
import type { FetchResult } from '../../../functions/domain/collector.ts';
import type { CommitResult } from '../../../functions/domain/publish.ts';
import type { Fleet } from '../../../functions/domain/tenants.ts';
import type { TenantPlan } from '../../../functions/plan.ts';
import type { PlannedTenant, TaskState } from './cost.ts';
import type { ExecutionSpan, HandlerMeter } from './handler-cpu.ts';

export interface Call {
  readonly state: TaskState;
  /** The state's name in the definition ("Plan", "Plan (on time)", …). */
  readonly stateName: string;
  /** The execution that invoked it: the parent, or a Distributed Map's child and its type. */
  readonly execution: ExecutionRef;
  /** The tenant's id, when the invocation's event names its tenant by its list entry. */
  readonly tenant?: string;
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

export type Committed = Pick<CommitResult, 'hour' | 'end' | 'outcome' | 'rows' | 'objects'> & {
  /** The tenant's id; none for the environment's one tenant. */
  readonly tenant?: string;
};

export interface MeteredExecution {
  readonly outcome: ExecutionOutcome;
  /** State machine start to end, ms. */
  readonly wallMs: number;
  /** CPU time (user + system) of the process during the execution, s. */
  readonly cpuSeconds: number;
  /** Every handler invocation, in the order they settled. */
  readonly calls: readonly Call[];
  /** What each successful Plan planned. */
  readonly plans: readonly PlannedTenant[];
  /** What each successful Commit did. */
  readonly committed: readonly Committed[];
  /** The parent's and each child execution's start and end (`performance.now()`, ms), in the order they ended. */
  readonly executions: readonly ExecutionSpan[];
}

/** The tenant an event names by its list entry (`tenant: { id }`); a Plan's event names it by index alone. */
const tenantOf = (event: unknown): string | undefined => {
  const tenant = (event as { tenant?: unknown } | null)?.tenant;
  const id = (tenant as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
};

/**
 * Runs one execution with `options`, each invocation measured by `meter` (started once in the process,
 * before the first execution). The invocations must run one after another: only then is each
 * invocation's CPU its own, and do the runner's and the meter's records pair up in order.
 */
export async function meteredExecution(
  fleet: Fleet,
  meter: HandlerMeter,
  options: RunOptions = {},
): Promise<MeteredExecution> {
  const timed: Invocation[] = [];
  const from = meter.calls.length;
  const executionsFrom = meter.executions.length;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const outcome = await runExecution(fleet, {
    ...options,
    onInvocation: (call) => {
      timed.push(call);
      options.onInvocation?.(call);
    },
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const measured = meter.calls.slice(from);
  // Both lists are appended as each invocation settles, the runner's first: with invocations one after
  // another they pair up in order.
  if (timed.length !== measured.length || timed.some((t, i) => t.stateName !== measured[i]?.state)) {
    throw new Error(
      `the runner reported ${timed.length} invocations and the meter ${measured.length}, not in the same order`,
    );
  }
  const calls: Call[] = [];
  const plans: PlannedTenant[] = [];
  const committed: Committed[] = [];
  for (const [i, t] of timed.entries()) {
    const m = measured[i];
    if (!m) continue;
    const call = {
      state: t.state,
      stateName: t.stateName,
      execution: t.execution,
      tenant: tenantOf(t.event),
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
      const p = m.result as TenantPlan;
      plans.push({
        hours: p.hours,
        entities: p.entities,
        failed: false,
        plan: t.stateName,
        execution: t.execution.type,
        tenant: tenantOf(p),
      });
    }
    if (t.state === 'Commit' && !t.failed) {
      const c = m.result as CommitResult;
      committed.push({
        hour: c.hour,
        end: c.end,
        outcome: c.outcome,
        rows: c.rows,
        objects: c.objects,
        tenant: call.tenant,
      });
    }
  }
  return {
    outcome,
    wallMs,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    calls,
    plans,
    committed,
    executions: meter.executions.slice(executionsFrom),
  };
}
