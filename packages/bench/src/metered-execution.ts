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
import { z } from 'zod';
import type { CommitResult } from '../../../functions/domain/publish.ts';
import type { Fleet } from '../../../functions/domain/tenants.ts';
import { type PlannedTenant, TASK_STATES, type TaskState } from './cost.ts';
import type { ExecutionSpan, HandlerMeter, MeasuredCall } from './handler-cpu.ts';

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
  /** FetchPages: the entity, and the rows staged so far for its window; whether it finished the entity-window. */
  readonly entity?: string;
  readonly rows?: number;
  readonly done?: boolean;
}

export type Committed = Pick<CommitResult, 'start' | 'end' | 'outcome' | 'rows' | 'objects'> & {
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

/** A task state, as the runner names it (cost.ts's TaskState). */
export const taskStateSchema = z.enum(TASK_STATES) satisfies z.ZodType<TaskState>;

/** Handler invocations (or their time) by task state: every state a key. */
export const byTaskState = z.record(taskStateSchema, z.number()) satisfies z.ZodType<
  Record<TaskState, number>
>;

const executionRef = z.object({
  name: z.string(),
  type: z.enum(['PARENT', 'STANDARD', 'EXPRESS']),
}) satisfies z.ZodType<ExecutionRef>;

/** A {@link Call}, as a bench child prints it. */
export const callSchema = z.object({
  state: taskStateSchema,
  stateName: z.string(),
  execution: executionRef,
  tenant: z.string().optional(),
  startedMs: z.number(),
  endedMs: z.number(),
  cpuMs: z.number(),
  failed: z.boolean(),
  entity: z.string().optional(),
  rows: z.number().optional(),
  done: z.boolean().optional(),
}) satisfies z.ZodType<Call>;

/** A {@link PlannedTenant}, as a bench child prints it. */
export const plannedTenantSchema = z.object({
  windows: z.array(z.object({ start: z.string(), end: z.string(), published: z.boolean() })).readonly(),
  entities: z.array(z.string()).readonly(),
  failed: z.boolean(),
  plan: z.string().optional(),
  execution: executionRef.shape.type.optional(),
  tenant: z.string().optional(),
}) satisfies z.ZodType<PlannedTenant>;

/** The outcomes of a commit (CommitResult's). */
export const commitOutcome = z.enum(['published', 'already-published', 'publishing-elsewhere']);

/** A {@link Committed}, as a bench child prints it. */
export const committedSchema = z.object({
  start: z.string(),
  end: z.string(),
  outcome: commitOutcome,
  rows: z.number(),
  objects: z.number(),
  tenant: z.string().optional(),
}) satisfies z.ZodType<Committed>;

/** An {@link ExecutionSpan}, as a bench child prints it. */
export const executionSpanSchema = z.object({
  name: z.string(),
  startedMs: z.number(),
  endedMs: z.number(),
}) satisfies z.ZodType<ExecutionSpan>;

/** The parts of a {@link MeteredExecution} a bench child prints. */
export const meteredShape = {
  calls: z.array(callSchema).readonly(),
  plans: z.array(plannedTenantSchema).readonly(),
  committed: z.array(committedSchema).readonly(),
  executions: z.array(executionSpanSchema).readonly(),
};

const namesTenant = z.object({ tenant: z.object({ id: z.string() }) });

/** The tenant an event names by its list entry (`tenant: { id }`); a Plan's event names it by index alone. */
export const tenantOf = (event: unknown): string | undefined => {
  const parsed = namesTenant.safeParse(event);
  return parsed.success ? parsed.data.tenant.id : undefined;
};

/** The parts of a FetchPages, Plan and Commit result (FetchResult, TenantPlan, CommitResult) recorded. */
const fetched = z.object({ entity: z.string(), rows: z.number(), done: z.boolean() });
const planned = z.object({
  windows: z.array(z.looseObject({ start: z.string(), end: z.string(), published: z.boolean() })),
  entities: z.array(z.string()),
});
const commitResult = z.object({
  start: z.string(),
  end: z.string(),
  outcome: commitOutcome,
  rows: z.number(),
  objects: z.number(),
});

/** The runner's invocations and the meter's calls of one execution, and its own time and CPU. */
type Timed = Pick<MeteredExecution, 'outcome' | 'wallMs' | 'cpuSeconds' | 'executions'> & {
  readonly timed: readonly Invocation[];
  readonly measured: readonly MeasuredCall[];
};

/** Runs one execution, keeping the runner's record of each invocation and the meter's. */
async function timedExecution(fleet: Fleet, meter: HandlerMeter, options: RunOptions): Promise<Timed> {
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
  return {
    outcome,
    wallMs,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    timed,
    measured: meter.calls.slice(from),
    executions: meter.executions.slice(executionsFrom),
  };
}

/** The invocation `t` with the meter's record of it, `m`: its CPU time and, for a page fetch, what it fetched. */
function callOf(t: Invocation, m: MeasuredCall): Call {
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
  if (t.state !== 'FetchPages' || t.failed) return call;
  const r = fetched.parse(m.result);
  return { ...call, entity: r.entity, rows: r.rows, done: r.done };
}

/** What a successful Plan invocation planned. */
function planOf(t: Invocation, m: MeasuredCall): PlannedTenant {
  const p = planned.parse(m.result);
  return {
    windows: p.windows,
    entities: p.entities,
    failed: false,
    plan: t.stateName,
    execution: t.execution.type,
    tenant: tenantOf(m.result),
  };
}

/** What a successful Commit invocation of `call` did. */
function committedOf(call: Call, m: MeasuredCall): Committed {
  const c = commitResult.parse(m.result);
  return {
    start: c.start,
    end: c.end,
    outcome: c.outcome,
    rows: c.rows,
    objects: c.objects,
    tenant: call.tenant,
  };
}

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
  const { outcome, wallMs, cpuSeconds, timed, measured, executions } = await timedExecution(
    fleet,
    meter,
    options,
  );
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
    const call = callOf(t, m);
    calls.push(call);
    if (t.state === 'Plan' && !t.failed) plans.push(planOf(t, m));
    if (t.state === 'Commit' && !t.failed) committed.push(committedOf(call, m));
  }
  return { outcome, wallMs, cpuSeconds, calls, plans, committed, executions };
}
