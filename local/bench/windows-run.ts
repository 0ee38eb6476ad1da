/**
 * The executions of one window size over one hour of data, for windows.ts: the real state machine
 * in-process with the real handlers (local/workflow.ts), one execution per start time of BENCH_STARTS_MS
 * (epoch ms, comma-separated: the schedule's times), one after another, each started at its simulated time
 * (`$$.Execution.StartTime`, the plan's clock) with the collector's own clock running on from there.
 * Started with the collector's environment (WINDOW_MINUTES, SETTLE_MINUTES among it) and the tenant's state
 * file at the hour's start. Each handler invocation is recorded (metered-execution.ts), and each execution's
 * events are counted from the local event log (`countEvents`). Prints one JSON line, a
 * {@link WindowsRunResult}.
 */
import { fleetFromEnv } from '../../functions/adapters/lambda.ts';
import { silentTelemetry } from '../../functions/adapters/telemetry.ts';
import { meterHandlers } from './handler-cpu.ts';
import { type MeteredExecution, meteredExecution } from './metered-execution.ts';
import { fail, need } from './result.ts';

export interface WindowsExecution
  extends Pick<MeteredExecution, 'wallMs' | 'calls' | 'plans' | 'committed'>,
    Pick<MeteredExecution['outcome'], 'status' | 'error' | 'cause' | 'invocations'> {
  /** The simulated start time, epoch ms. */
  readonly startMs: number;
  /** The local event log's events by type, and its StateEntered events by state name. */
  readonly events: Record<string, number>;
  readonly statesEntered: Record<string, number>;
}

export interface WindowsRunResult {
  readonly executions: readonly WindowsExecution[];
  /** Most handler invocations running at once (1: one after another). */
  readonly maxInFlight: number;
  /** `performance.timeOrigin`: the calls' `performance.now()` times plus this are epoch ms, as the stand-in logs its pages. */
  readonly timeOriginMs: number;
}

async function main(): Promise<void> {
  const starts = need('BENCH_STARTS_MS').split(',').map(Number);
  const name = `windows-${need('WINDOW_MINUTES')}`;
  let simulatedStart = starts[0] ?? 0;
  let realStart = Date.now();
  const now = () => simulatedStart + (Date.now() - realStart);
  const fleet = fleetFromEnv(process.env, silentTelemetry, false, {}, { now });
  const meter = meterHandlers();
  const executions: WindowsExecution[] = [];
  for (const [k, startMs] of starts.entries()) {
    simulatedStart = startMs;
    realStart = Date.now();
    const run = await meteredExecution(fleet, meter, {
      startTime: startMs,
      executionName: `${name}-${k}`,
      countEvents: true,
    });
    const { outcome } = run;
    executions.push({
      startMs,
      status: outcome.status,
      error: outcome.error,
      cause: outcome.cause,
      invocations: outcome.invocations,
      events: outcome.events ?? {},
      statesEntered: outcome.statesEntered ?? {},
      wallMs: run.wallMs,
      calls: run.calls,
      plans: run.plans,
      committed: run.committed,
    });
    if (outcome.status !== 'SUCCEEDED') break;
  }
  const result: WindowsRunResult = {
    executions,
    maxInFlight: meter.maxInFlight,
    timeOriginMs: performance.timeOrigin,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch(fail);
