/**
 * One scheduled run of many tenants: the real state machine in-process with the real handlers
 * (packages/testkit/src/workflow.ts), no hour in the input, the tenants read from the tenant list in the work bucket.
 * Started by tenants.ts with the collector's environment (TENANT_CONCURRENCY among it) and BENCH_CLOCK_MS,
 * the collector's clock at the start (the schedule's: 20 past the hour after the hour to collect), so the
 * due hour cannot move while the bench runs. Prints one JSON line, a {@link TenantsRunResult}.
 */
import { fileURLToPath } from 'node:url';
import { type ExecutionOutcome, type Invocation, runExecution } from '@citrix-monitor/testkit/workflow';
import { z } from 'zod';
import { byTaskState, commitOutcome, tenantOf } from './metered-execution.ts';
import { fail } from './result.ts';
import { type ScheduledRun, scheduledFleet, scheduledRunSchema } from './scheduled-run.ts';

type TaskState = keyof ExecutionOutcome['invocations'];

/**
 * The parts of a TenantResult (@citrix-monitor/testkit/workflow) tenants.ts reads: the tenant's id, its planned
 * windows and entities, its commits and its failure. The tenant, the result and its failure pass their other
 * fields through unchecked; a planned window and a commit keep only the fields read.
 */
const tenantResultSchema = z.looseObject({
  tenant: z.looseObject({ id: z.string() }).nullable(),
  windows: z
    .array(z.object({ start: z.string(), end: z.string(), published: z.boolean() }))
    .readonly()
    .optional(),
  entities: z.array(z.string()).readonly().optional(),
  committed: z
    .array(z.object({ start: z.string(), outcome: commitOutcome, rows: z.number() }))
    .readonly()
    .optional(),
  failure: z.looseObject({ Error: z.string(), Cause: z.string() }).optional(),
});
export type TenantResultRead = z.infer<typeof tenantResultSchema>;

export interface TenantsRunResult extends ScheduledRun {
  readonly results: readonly TenantResultRead[];
  /** Handler invocations by task state, as the runner counts them (retried attempts included). */
  readonly invocations: Record<TaskState, number>;
  /** Invocations that failed (and were retried or failed their state). */
  readonly failedInvocations: Record<TaskState, number>;
  /** Successful invocations by state name ("Plan", "Plan (on time)", …). */
  readonly succeededByState: Record<string, number>;
  /** Per tenant id: the name of each Plan state that planned it, one per child execution it had. */
  readonly plannedBy: Record<string, string[]>;
  /** Handler time by task state, each invocation rounded up to the millisecond as Lambda bills it. */
  readonly billedMs: Record<TaskState, number>;
  readonly events: Record<string, number>;
  readonly statesEntered: Record<string, number>;
  /** Per tenant id: its first Plan invocation's start to its last Commit invocation's end, ms. */
  readonly spansMs: Record<string, number>;
  readonly maxRssMB: number;
  /** CPU time (user + system) of the whole child, startup included, and of the execution alone, s. */
  readonly cpuSeconds: number;
  readonly runCpuSeconds: number;
}

/** A {@link TenantsRunResult}, as this child prints it. */
export const tenantsRunResult = scheduledRunSchema.extend({
  results: z.array(tenantResultSchema).readonly(),
  invocations: byTaskState,
  failedInvocations: byTaskState,
  succeededByState: z.record(z.string(), z.number()),
  plannedBy: z.record(z.string(), z.array(z.string())),
  billedMs: byTaskState,
  events: z.record(z.string(), z.number()),
  statesEntered: z.record(z.string(), z.number()),
  spansMs: z.record(z.string(), z.number()),
  maxRssMB: z.number(),
  cpuSeconds: z.number(),
  runCpuSeconds: z.number(),
}) satisfies z.ZodType<TenantsRunResult>;

const zero = (): Record<TaskState, number> => ({
  Tenants: 0,
  Plan: 0,
  FetchPages: 0,
  Commit: 0,
  Failed: 0,
  HandOn: 0,
  Report: 0,
});

/** Per tenant id, the Plan states of its children. */
function plannedBy(children: Map<string, { plan?: string; tenant?: string }>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { plan, tenant } of children.values()) {
    if (plan && tenant) out[tenant] = [...(out[tenant] ?? []), plan];
  }
  return out;
}

/** What the run's handler invocations tell, recorded as each settles (`onInvocation`). */
function invocationRecorder() {
  const failedInvocations = zero();
  const billedMs = zero();
  const spans = new Map<string, { start: number; end: number }>();
  const succeededByState: Record<string, number> = {};
  /** Per child execution: the Plan state that planned its tenant, and the tenant (named by its later tasks). */
  const children = new Map<string, { plan?: string; tenant?: string }>();
  const onInvocation = (call: Invocation) => {
    billedMs[call.state] += Math.ceil(call.endedMs - call.startedMs);
    if (call.failed) failedInvocations[call.state] += 1;
    else succeededByState[call.stateName] = (succeededByState[call.stateName] ?? 0) + 1;
    const id = tenantOf(call.event);
    const child = children.get(call.execution.name) ?? {};
    if (call.state === 'Plan' && !call.failed) child.plan = call.stateName;
    if (id !== undefined) child.tenant = id;
    if (call.execution.type !== 'PARENT') children.set(call.execution.name, child);
    if (id === undefined) return;
    const span = spans.get(id) ?? { start: Number.POSITIVE_INFINITY, end: Number.NEGATIVE_INFINITY };
    // A Plan's event names its tenant by its index in the run's list; the page fetches carry the entry.
    if (call.state === 'FetchPages') span.start = Math.min(span.start, call.startedMs);
    if (call.state === 'Commit') span.end = Math.max(span.end, call.endedMs);
    spans.set(id, span);
  };
  return { onInvocation, failedInvocations, billedMs, spans, succeededByState, children };
}

async function main(): Promise<void> {
  const { fleet, startTime } = scheduledFleet();
  const recorded = invocationRecorder();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const outcome = await runExecution(fleet, {
    startTime,
    countEvents: true,
    onInvocation: recorded.onInvocation,
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const usage = process.resourceUsage();
  const result: TenantsRunResult = {
    status: outcome.status,
    error: outcome.error,
    cause: outcome.cause,
    wallMs,
    results: outcome.results ?? [],
    invocations: outcome.invocations,
    failedInvocations: recorded.failedInvocations,
    succeededByState: recorded.succeededByState,
    plannedBy: plannedBy(recorded.children),
    billedMs: recorded.billedMs,
    events: outcome.events ?? {},
    statesEntered: outcome.statesEntered ?? {},
    spansMs: Object.fromEntries([...recorded.spans].map(([id, s]) => [id, s.end - s.start])),
    maxRssMB: Math.round(usage.maxRSS / 1024),
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    runCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

// Imported by tenants.ts for its result's schema: run only as a script.
if (process.argv[1] === fileURLToPath(import.meta.url)) main().catch(fail);
