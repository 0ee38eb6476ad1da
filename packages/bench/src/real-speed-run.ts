/**
 * One scheduled run of the environment's one tenant, for real-speed.ts: the real state machine in-process
 * with the real handlers (packages/testkit/src/workflow.ts), no hour in the input, the tenant's state file one hour behind
 * so the run collects exactly one hour. Started with the collector's environment and BENCH_CLOCK_MS, the
 * collector's clock at the start (20 past the hour after the hour to collect), so the due hour cannot move.
 *
 * Each handler invocation is recorded (metered-execution.ts): its task state, wall time, CPU time and
 * result. Prints one JSON line, a {@link RealSpeedRunResult}.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { meterHandlers } from './handler-cpu.ts';
import { type MeteredExecution, meteredExecution, meteredShape } from './metered-execution.ts';
import { fail } from './result.ts';
import { type ScheduledRun, scheduledFleet, scheduledRunSchema } from './scheduled-run.ts';

export type { Call } from './metered-execution.ts';

export interface RealSpeedRunResult
  extends ScheduledRun,
    Pick<MeteredExecution, 'calls' | 'plans' | 'committed' | 'executions'> {
  /** Most handler invocations running at once (1: one after another). */
  readonly maxInFlight: number;
  /** Resident set size once every module is loaded, before the execution starts, and the peak, MB. */
  readonly rssBeforeMB: number;
  readonly maxRssMB: number;
  /** CPU time (user + system) of the execution, s. */
  readonly runCpuSeconds: number;
}

/** A {@link RealSpeedRunResult}, as this child prints it. */
export const realSpeedRunResult = scheduledRunSchema.extend({
  ...meteredShape,
  maxInFlight: z.number(),
  rssBeforeMB: z.number(),
  maxRssMB: z.number(),
  runCpuSeconds: z.number(),
}) satisfies z.ZodType<RealSpeedRunResult>;

async function main(): Promise<void> {
  const { fleet, startTime } = scheduledFleet();
  const meter = meterHandlers();
  const rssBeforeMB = Math.round(process.memoryUsage().rss / 1048576);
  const run = await meteredExecution(fleet, meter, { startTime });
  const { outcome } = run;
  const result: RealSpeedRunResult = {
    status: outcome.status,
    error: outcome.error,
    cause: outcome.cause,
    wallMs: run.wallMs,
    calls: run.calls,
    plans: run.plans,
    committed: run.committed,
    executions: run.executions,
    maxInFlight: meter.maxInFlight,
    rssBeforeMB,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    runCpuSeconds: run.cpuSeconds,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

// Imported by real-speed.ts for its result's schema: run only as a script.
if (process.argv[1] === fileURLToPath(import.meta.url)) main().catch(fail);
