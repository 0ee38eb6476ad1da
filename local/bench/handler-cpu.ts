/**
 * The CPU time and the result of each handler invocation of a local run, for a bench child. It wraps the
 * Task handlers where aws-local-stepfunctions receives them (`overrides.taskResourceLocalHandlers` of
 * `StateMachine.run`), around the runner's own wrapper (local/workflow.ts), which it leaves as it is.
 *
 * `process.cpuUsage()` is the whole process's (its threads: V8's GC helpers, libuv's pool): an invocation's
 * delta is its own only while no other invocation runs and nothing else in the process works. `maxInFlight`
 * says whether invocations overlapped; a child that serves nothing else (the stand-in and S3 run in the
 * parent) and runs one tenant with MAX_CONCURRENCY=1 has them strictly one after another.
 */
import { StateMachine } from 'aws-local-stepfunctions';

type Run = StateMachine['run'];
type Handlers = NonNullable<
  NonNullable<NonNullable<Parameters<Run>[1]>['overrides']>['taskResourceLocalHandlers']
>;

export interface MeasuredCall {
  readonly state: string;
  /** CPU time (user + system) of the process during the invocation, ms. */
  readonly cpuMs: number;
  readonly failed: boolean;
  /** What the handler returned. */
  readonly result?: unknown;
}

export interface HandlerMeter {
  /** Settled invocations, in the order they settled. */
  readonly calls: MeasuredCall[];
  /** Most invocations running at once. */
  readonly maxInFlight: number;
}

/** Starts measuring every handler invocation of the state machines run from now on in this process. */
export function meterHandlers(): HandlerMeter {
  const calls: MeasuredCall[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const measured = new WeakSet<Handlers>();
  const run: Run = StateMachine.prototype.run;
  StateMachine.prototype.run = function (this: StateMachine, input, options) {
    const handlers = options?.overrides?.taskResourceLocalHandlers;
    // A Map's or Parallel's inner runs get the same options, handlers already wrapped.
    if (!handlers || measured.has(handlers)) return run.call(this, input, options);
    const wrapped: Handlers = {};
    for (const [state, handler] of Object.entries(handlers)) {
      wrapped[state] = async (event) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const before = process.cpuUsage();
        let failed = true;
        let result: unknown;
        try {
          const out = await handler(event);
          result = out;
          failed = false;
          return out;
        } finally {
          const cpu = process.cpuUsage(before);
          inFlight -= 1;
          calls.push({ state, cpuMs: (cpu.user + cpu.system) / 1000, failed, result });
        }
      };
    }
    measured.add(wrapped);
    return run.call(this, input, {
      ...options,
      overrides: { ...options?.overrides, taskResourceLocalHandlers: wrapped },
    });
  };
  return {
    calls,
    get maxInFlight() {
      return maxInFlight;
    },
  };
}
