/**
 * The executions of one window size over one hour of data, for windows.ts: the real state machine
 * in-process with the real handlers (packages/testkit/src/workflow.ts), one execution per start time of BENCH_STARTS_MS
 * (epoch ms, comma-separated: the schedule's times), one after another, each started at its simulated time
 * (`$$.Execution.StartTime`, the plan's clock) with the collector's own clock running on from there.
 * Started with the collector's environment (WINDOW_MINUTES, SETTLE_MINUTES, TENANT_CONCURRENCY and, for many
 * tenants, their secrets among it) and each tenant's state file at the hour's start. With
 * BENCH_ALL_STANDARD=1 it runs the baseline definition, every Distributed Map's children Standard executions
 * ({@link allStandard}). Each handler invocation and each execution is recorded (metered-execution.ts), and
 * each execution's events are counted from the local event log (`countEvents`). Prints one JSON line, a
 * {@link WindowsRunResult}.
 */
import { fileURLToPath } from 'node:url';
import { type ExecutionOutcome, loadDefinition } from '@citrix-monitor/testkit/workflow';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { z } from 'zod';
import { fleetFromEnv } from '../../../functions/adapters/lambda.ts';
import { silentTelemetry } from '../../../functions/adapters/telemetry.ts';
import type { Fleet } from '../../../functions/domain/tenants.ts';
import { meterHandlers } from './handler-cpu.ts';
import { byTaskState, type MeteredExecution, meteredExecution, meteredShape } from './metered-execution.ts';
import { fail, need } from './result.ts';
import { aslState } from './windows-cost.ts';

export interface WindowsExecution
  extends Pick<MeteredExecution, 'wallMs' | 'calls' | 'plans' | 'committed' | 'executions'>,
    Pick<MeteredExecution['outcome'], 'status' | 'error' | 'cause' | 'invocations' | 'express'> {
  /** The simulated start time, epoch ms. */
  readonly startMs: number;
  /** The execution's own name (its parent's `$$.Execution.Name`). */
  readonly name: string;
  /** The local event log's events by type, and its StateEntered events by state name (every execution's). */
  readonly events: Record<string, number>;
  readonly statesEntered: Record<string, number>;
  /** Standard child executions the run started (each has a history of its own). */
  readonly standardChildren: number;
  /** The largest state output of the run, bytes. */
  readonly largestOutputBytes: number;
}

export interface WindowsRunResult {
  readonly executions: readonly WindowsExecution[];
  /** Most handler invocations running at once (1: one after another). */
  readonly maxInFlight: number;
  /** `performance.timeOrigin`: the calls' `performance.now()` times plus this are epoch ms, as the stand-in logs its pages. */
  readonly timeOriginMs: number;
}

/** A {@link WindowsExecution}, as this child prints it. */
export const windowsExecution = z.object({
  ...meteredShape,
  wallMs: z.number(),
  status: z.enum(['SUCCEEDED', 'FAILED', 'ABORTED']),
  error: z.string().optional(),
  cause: z.string().optional(),
  invocations: byTaskState,
  express: z.object({ children: z.number(), longestMs: z.number() }),
  startMs: z.number(),
  name: z.string(),
  events: z.record(z.string(), z.number()),
  statesEntered: z.record(z.string(), z.number()),
  standardChildren: z.number(),
  largestOutputBytes: z.number(),
}) satisfies z.ZodType<WindowsExecution>;

/** A {@link WindowsRunResult}, as this child prints it. */
export const windowsRunResult = z.object({
  executions: z.array(windowsExecution),
  maxInFlight: z.number(),
  timeOriginMs: z.number(),
}) satisfies z.ZodType<WindowsRunResult>;

/**
 * The definition with every Distributed Map's children run as Standard executions: the same states, billed
 * per transition. The baseline the windows bench prices the Express children against.
 */
export function allStandard(definition: StateMachineDefinition = loadDefinition()): StateMachineDefinition {
  const copy = structuredClone(definition);
  for (const state of Object.values(copy.States)) {
    const config = aslState.parse(state).ItemProcessor?.ProcessorConfig;
    if (config?.Mode === 'DISTRIBUTED' && state.Type === 'Map' && state.ItemProcessor) {
      Object.assign(state.ItemProcessor, { ProcessorConfig: { ...config, ExecutionType: 'STANDARD' } });
    }
  }
  return copy;
}

const summary = (
  outcome: ExecutionOutcome,
): Pick<WindowsExecution, 'standardChildren' | 'largestOutputBytes' | 'express'> => ({
  standardChildren: outcome.history.children.length,
  largestOutputBytes: outcome.largestOutputBytes,
  express: outcome.express,
});

/** One execution's record, as windows.ts reads it. */
const executionRecord = (startMs: number, run: MeteredExecution): WindowsExecution => {
  const { outcome } = run;
  return {
    startMs,
    name: outcome.executionName,
    status: outcome.status,
    error: outcome.error,
    cause: outcome.cause,
    invocations: outcome.invocations,
    events: outcome.events ?? {},
    statesEntered: outcome.statesEntered ?? {},
    ...summary(outcome),
    wallMs: run.wallMs,
    calls: run.calls,
    plans: run.plans,
    committed: run.committed,
    executions: run.executions,
  };
};

/** The collector's fleet, its clock at the simulated start time `startAt` last set, running on from there. */
function simulatedFleet(firstStartMs: number): { fleet: Fleet; startAt: (ms: number) => void } {
  let simulatedStart = firstStartMs;
  let realStart = Date.now();
  const now = () => simulatedStart + (Date.now() - realStart);
  const fleet = fleetFromEnv({
    env: process.env,
    telemetry: silentTelemetry,
    inAws: false,
    overrides: { now },
  });
  const startAt = (ms: number) => {
    simulatedStart = ms;
    realStart = Date.now();
  };
  return { fleet, startAt };
}

async function main(): Promise<void> {
  const starts = need('BENCH_STARTS_MS').split(',').map(Number);
  const baseline = process.env.BENCH_ALL_STANDARD === '1';
  const name = `windows-${need('WINDOW_MINUTES')}${baseline ? '-standard' : ''}`;
  const definition = baseline ? allStandard() : undefined;
  const { fleet, startAt } = simulatedFleet(starts[0] ?? 0);
  const meter = meterHandlers();
  const executions: WindowsExecution[] = [];
  for (const [k, startMs] of starts.entries()) {
    startAt(startMs);
    const run = await meteredExecution(fleet, meter, {
      startTime: startMs,
      executionName: `${name}-${k}`,
      countEvents: true,
      ...(definition ? { definition } : {}),
    });
    executions.push(executionRecord(startMs, run));
    if (run.outcome.status !== 'SUCCEEDED') break;
  }
  const result: WindowsRunResult = {
    executions,
    maxInFlight: meter.maxInFlight,
    timeOriginMs: performance.timeOrigin,
  };
  // A pipe takes a write asynchronously: exit once the whole line is out, or the parent reads part of it.
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

// Imported by windows.ts for its types and by the unit tests for allStandard: run only as a script.
if (process.argv[1] === fileURLToPath(import.meta.url)) main().catch(fail);
