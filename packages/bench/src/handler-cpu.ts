/**
 * The CPU time and the result of each handler invocation of a local run, for a bench child. It wraps the
 * Task handlers where aws-local-stepfunctions receives them (`overrides.taskResourceLocalHandlers` of
 * `StateMachine.run`), around the runner's own wrapper (packages/testkit/src/workflow.ts), which it leaves as it is.
 *
 * `process.cpuUsage()` is the whole process's (its threads: V8's GC helpers, libuv's pool): an invocation's
 * delta is its own only while no other invocation runs and nothing else in the process works. `maxInFlight`
 * says whether invocations overlapped; a child that serves nothing else (the stand-in and S3 run in the
 * parent) and runs its tenants one at a time (TENANT_CONCURRENCY=1) with MAX_CONCURRENCY=1 has them strictly
 * one after another.
 *
 * Only the definition's Task states are measured: the runner serves each Distributed Map item with a Task of
 * its own that runs a whole child execution, which is no Lambda invocation. Each execution the runner starts
 * (the parent and every child: a run whose handlers are not wrapped yet) is timed from its start to its end.
 */
import { loadDefinition } from '@citrix-monitor/testkit/workflow';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { z } from 'zod';

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

/** One execution (`$$.Execution.Name`), from the start of its run to its end, `performance.now()` ms. */
export interface ExecutionSpan {
  readonly name: string;
  readonly startedMs: number;
  readonly endedMs: number;
}

export interface HandlerMeter {
  /** Settled invocations, in the order they settled. */
  readonly calls: MeasuredCall[];
  /** Settled executions, parent and children, in the order they settled. */
  readonly executions: ExecutionSpan[];
  /** Most invocations running at once. */
  readonly maxInFlight: number;
}

/** The parts of an ASL state this file reads; a branch's or an item processor's `States` is walked in turn. */
const nestedStates = z.object({ States: z.unknown().optional() });
const aslState = z.looseObject({
  Type: z.string().optional(),
  Branches: z.array(nestedStates).optional(),
  ItemProcessor: nestedStates.optional(),
  Iterator: nestedStates.optional(),
});
type AslState = z.infer<typeof aslState>;

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/**
 * Calls `visit` on each state of `states` and of the states nested in them (Parallel branches, Map item
 * processors), with its name, its parsed shape and the object itself (for a caller that edits it in place).
 */
function eachState(
  states: unknown,
  visit: (name: string, state: AslState, raw: Record<string, unknown>) => void,
): void {
  if (!isRecord(states)) return;
  for (const [name, raw] of Object.entries(states)) {
    if (!isRecord(raw)) continue;
    const state = aslState.parse(raw);
    visit(name, state, raw);
    for (const branch of state.Branches ?? []) eachState(branch.States, visit);
    eachState((state.ItemProcessor ?? state.Iterator)?.States, visit);
  }
}

/** The names of the definition's Task states, wherever they are (Parallel branches, Map iterators). */
export function taskStateNames(definition: StateMachineDefinition): Set<string> {
  const names = new Set<string>();
  eachState(definition.States, (name, state) => {
    if (state.Type === 'Task') names.add(name);
  });
  return names;
}

/**
 * Where AWS's default applies, the longest timeout Node's timers hold (2^31 − 1 ms), in seconds: in AWS a Task
 * with no TimeoutSeconds runs up to 99,999,999 s ("Task workflow state"), but aws-local-stepfunctions 3.0.0
 * ends it at 60 s.
 */
const NO_TASK_TIMEOUT_SECONDS = 2_147_483;

/**
 * Gives each Task of `machine`'s definition that sets no timeout AWS's unbounded one. The runner's own Task
 * that runs a Distributed Map's child execution (packages/testkit/src/workflow.ts) sets none, so locally any child longer
 * than a minute failed its run with States.Timeout (the real-speed bench's hour-long Express child takes
 * 2.5 minutes); until the runner sets one itself, the bench does. The Lambda functions' own timeouts are the
 * runner's to enforce, and it does.
 */
function withTaskTimeouts(machine: StateMachine): void {
  // `definition` is private to StateMachine: read as the object it is at run time.
  const definition: unknown = Reflect.get(machine, 'definition');
  eachState(isRecord(definition) ? definition.States : undefined, (_name, state, raw) => {
    if (state.Type === 'Task' && raw.TimeoutSeconds === undefined && raw.TimeoutSecondsPath === undefined) {
      raw.TimeoutSeconds = NO_TASK_TIMEOUT_SECONDS;
    }
  });
}

type Handler = Handlers[string];

/** What the wrappers record, and how many invocations run now. */
interface Recording {
  readonly calls: MeasuredCall[];
  readonly executions: ExecutionSpan[];
  inFlight: number;
  maxInFlight: number;
}

/** `handler`, recording the CPU time, the outcome and the result of each of its invocations as `state`'s. */
function measuredHandler(state: string, handler: Handler, recording: Recording): Handler {
  return async (event) => {
    recording.inFlight += 1;
    recording.maxInFlight = Math.max(recording.maxInFlight, recording.inFlight);
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
      recording.inFlight -= 1;
      recording.calls.push({ state, cpuMs: (cpu.user + cpu.system) / 1000, failed, result });
    }
  };
}

/** `handlers`, those of the states in `tasks` measured, the others as they are. */
function measuredHandlers(handlers: Handlers, tasks: ReadonlySet<string>, recording: Recording): Handlers {
  const wrapped: Handlers = {};
  for (const [state, handler] of Object.entries(handlers)) {
    wrapped[state] = tasks.has(state) ? measuredHandler(state, handler, recording) : handler;
  }
  return wrapped;
}

/** An execution's span as it starts: its name and when it started, its end not known yet. */
type ExecutionStart = Omit<ExecutionSpan, 'endedMs'>;

/** Records the span of `execution`, named `name`, from `startedMs` to when its result settles. */
function timeExecution(
  execution: ReturnType<Run>,
  { name, startedMs }: ExecutionStart,
  recording: Recording,
): void {
  const settled = () => {
    recording.executions.push({ name, startedMs, endedMs: performance.now() });
  };
  // Both branches: a rejection stays the runner's to handle, on the promise it holds.
  execution.result.then(settled, settled);
}

/**
 * Starts measuring every handler invocation, and timing every execution, of the state machines run from now
 * on in this process. `tasks`: the Task states to measure (default: those of the deployed definition).
 */
export function meterHandlers(tasks: ReadonlySet<string> = taskStateNames(loadDefinition())): HandlerMeter {
  const recording: Recording = { calls: [], executions: [], inFlight: 0, maxInFlight: 0 };
  const measured = new WeakSet<Handlers>();
  const run: Run = StateMachine.prototype.run;
  StateMachine.prototype.run = function (this: StateMachine, input, options) {
    const handlers = options?.overrides?.taskResourceLocalHandlers;
    // A Map's or Parallel's inner runs get the same options, handlers already wrapped.
    if (!handlers || measured.has(handlers)) return run.call(this, input, options);
    const wrapped = measuredHandlers(handlers, tasks, recording);
    measured.add(wrapped);
    withTaskTimeouts(this);
    const name = String(options?.context?.Execution?.Name ?? '');
    const startedMs = performance.now();
    const execution = run.call(this, input, {
      ...options,
      overrides: { ...options?.overrides, taskResourceLocalHandlers: wrapped },
    });
    timeExecution(execution, { name, startedMs }, recording);
    return execution;
  };
  return {
    calls: recording.calls,
    executions: recording.executions,
    get maxInFlight() {
      return recording.maxInFlight;
    },
  };
}
