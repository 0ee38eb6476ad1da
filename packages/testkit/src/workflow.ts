import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import {
  ExecutionAbortedError,
  ExecutionError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { z } from 'zod';
import { fleetOf } from '../../../functions/adapters/lambda.ts';
import { commitHandler } from '../../../functions/commit.ts';
import type { Collector, Plan } from '../../../functions/domain/collector.ts';
import type { CommitResult } from '../../../functions/domain/publish.ts';
import {
  commitTaskSchema,
  describeIssues,
  handOnEventSchema,
  reportEventSchema,
  type Tenant,
  tenantFailureSchema,
} from '../../../functions/domain/schemas.ts';
import { EXPRESS_LIMIT_SECONDS } from '../../../functions/domain/settings/registry.ts';
import {
  type CollectedState,
  describeFailures,
  type Fleet,
  failureLine,
  runTenants,
  type TenantFailure,
  type TenantsPlan,
  tenantOf,
} from '../../../functions/domain/tenants.ts';
import { failedHandler } from '../../../functions/failed.ts';
import { fetchPageHandler } from '../../../functions/fetch-page.ts';
import { handOnHandler } from '../../../functions/hand-on.ts';
import { planHandler, type TenantPlan } from '../../../functions/plan.ts';
import { reportHandler } from '../../../functions/report.ts';
import { tenantsHandler } from '../../../functions/tenants.ts';
import {
  AccountConcurrency,
  dataLimitExceeded,
  HistoryMeter,
  LAMBDA_TIMEOUT_SECONDS,
  type LoggedEvent,
  NEW_ACCOUNT_CONCURRENCY,
  PAYLOAD_LIMIT_BYTES,
  payloadBytes,
  StepFunctionsError,
} from './aws-limits.ts';

const ASL_PATH = new URL('../../../statemachine/collector.asl.json', import.meta.url);

type JSONValue = Parameters<StateMachine['run']>[0];

/** Task state name → the serverless.yml function whose handler serves it. */
export const TASKS = {
  Tenants: 'tenants',
  Plan: 'plan',
  FetchPages: 'fetchPage',
  Commit: 'commit',
  Failed: 'failed',
  HandOn: 'handOn',
  Report: 'report',
} as const;
type TaskState = keyof typeof TASKS;

const isTaskState = (name: string): name is TaskState => Object.hasOwn(TASKS, name);

/** The Task kind of a serverless.yml function: the Express child's Tasks are served by the same functions. */
const KIND_OF_FUNCTION: Readonly<Record<string, TaskState>> = Object.fromEntries(
  Object.keys(TASKS)
    .filter(isTaskState)
    .map((state) => [TASKS[state], state]),
);

/** One tenant's plan and what its commits did: what a one-tenant run outputs. */
export type TenantOutput = Plan & { committed: CommitResult[] };

/**
 * One tenant's outcome in an execution: its plan and commits, and the failure its child caught. In AWS
 * these are in each child execution's history (the map's output holds a constant per tenant); the local
 * run gathers them from the handlers' results, at any number of tenants.
 */
export type TenantResult = Partial<TenantOutput> & {
  readonly tenant: Tenant | null;
  readonly failure?: { readonly Error: string; readonly Cause: string } & Pick<
    TenantFailure,
    'window' | 'entity'
  >;
};

/**
 * Where a redrive of a failed or killed execution starts, as AWS would: at the Report step that failed
 * (which then collects the failed tenants alone again), or, for an execution killed inside a map over
 * tenants, at that map (the Express one by its Choice, which the Tenants step's output enters) (AWS re-runs only its unfinished iterations, from where each stopped; re-running
 * each from its Plan, as this does, repeats more work but writes the same keys).
 */
export interface Redrive {
  readonly from: 'Any on time?' | 'Collect tenants' | 'Report';
  readonly input: TenantsPlan | CollectedState;
  /** The execution's redrive count during the redrive. */
  readonly count: number;
}

/** A placeholder Lambda ARN for a local handler (aws-local-stepfunctions keys them by state name). */
const LOCAL_ARN = (fn: string) => `arn:aws:lambda:us-east-1:000000000000:function:local-${fn}`;

/**
 * The deployed ASL file, with each `{"Fn::GetAtt": [fn, "Arn"]}` (resolved by serverless-step-functions
 * at package time) replaced by a placeholder Lambda ARN: the Task states are then served in-process by
 * the real handlers, keyed by state name.
 */
export function loadDefinition(): StateMachineDefinition {
  const text = readFileSync(ASL_PATH, 'utf8');
  const parsed: unknown = JSON.parse(text, (_key, value: unknown) => {
    const getAtt = isJson(value) ? value['Fn::GetAtt'] : undefined;
    return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? LOCAL_ARN(getAtt[0]) : value;
  });
  return definitionOf(parsed, 'statemachine/collector.asl.json');
}

/** A definition, as much of it as aws-local-stepfunctions needs to start (it validates none: noValidate). */
const definitionSchema = z.looseObject({
  StartAt: z.string(),
  States: z.record(z.string(), z.looseObject({ Type: z.string() })),
});

const isDefinition = (value: unknown): value is StateMachineDefinition =>
  definitionSchema.safeParse(value).success;

/** `value` as a state machine definition, or an error that says what `what` lacks. */
function definitionOf(value: unknown, what: string): StateMachineDefinition {
  if (isDefinition(value)) return value;
  const issues = definitionSchema.safeParse(value).error;
  throw new Error(`${what} is not a state machine definition: ${issues ? describeIssues(issues) : ''}`);
}

export interface ExecutionOutcome {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly executionName: string;
  /** Where a redrive of this execution would start; none when it failed before the tenants were planned. */
  readonly redrive?: Redrive;
  /** The one tenant's plan and commits, when the execution succeeded with one tenant. */
  readonly output?: TenantOutput;
  /**
   * Every tenant's plan and commits, or its failure: when the execution succeeded, and when it failed
   * after its tenants were planned (a TenantsFailed: which error each failed tenant had).
   */
  readonly results?: readonly TenantResult[];
  /** On failure: the error name (from functions/domain/errors.ts) and its message. */
  readonly error?: string;
  readonly cause?: string;
  /**
   * History events as Step Functions would write them (packages/testkit/src/aws-limits.ts): the parent's, and each child
   * execution's (one per tenant the run started, in the order they started).
   */
  readonly history: { readonly parent: number; readonly children: readonly number[] };
  /**
   * The Express children the run started (AWS keeps no history of theirs), and the longest one's wall time
   * in ms (AWS ends one at 5 minutes: `expressTimeoutMs`).
   */
  readonly express: { readonly children: number; readonly longestMs: number };
  /** The largest state output of the run, parent or child, in bytes (the quota is 256 KiB). */
  readonly largestOutputBytes: number;
  /** The account's Lambda concurrency: its limit, the most invocations at once, and the throttled ones. */
  readonly lambda: { readonly limit: number; readonly peak: number; readonly throttles: number };
  /** Handler invocations by task state, counted here because the local event log can drop Map events. */
  readonly invocations: Record<TaskState, number>;
  /** Invocations that ran past their Lambda timeout (failed as `Sandbox.Timedout`, as Lambda fails them). */
  readonly timeouts: number;
  /**
   * Wall time of the handler invocations by task state, summed, in ms (what Lambda would bill as duration
   * if each invocation ran as long in Lambda: local times are not Lambda's).
   */
  readonly durationsMs?: Record<TaskState, number>;
  /**
   * With `countEvents`: the local event log's events by type (`StateEntered`, `StateRetried`,
   * `MapIterationStarted`, …). The log can drop the last events of Map iterations and Parallel branches
   * (aws-local-stepfunctions forwards them after the iteration's own log may have closed): a lower bound.
   */
  readonly events?: Record<string, number>;
  /** With `countEvents`: the `StateEntered` events by state name (the ASL's state names are unique). */
  readonly statesEntered?: Record<string, number>;
}

/** An execution of the run: the parent, or one child execution of a Distributed Map. */
export interface ExecutionRef {
  readonly name: string;
  readonly type: 'PARENT' | 'STANDARD' | 'EXPRESS';
}

/** One handler invocation, as `onInvocation` sees it once it has settled. */
export interface Invocation {
  readonly state: TaskState;
  /** The state's name in the definition ("Plan", "Plan (on time)", …). */
  readonly stateName: string;
  /** The execution that invoked it: the parent, or a child of a Distributed Map and its type. */
  readonly execution: ExecutionRef;
  /** The event the state machine sent the handler (a tenant's tasks carry its `tenant`). */
  readonly event: unknown;
  /** `performance.now()` at its start and end. */
  readonly startedMs: number;
  readonly endedMs: number;
  readonly failed: boolean;
}

export interface RunOptions {
  readonly input?: { readonly hour?: string; readonly [field: string]: unknown };
  /**
   * The execution's start time (`$$.Execution.StartTime`), which every plan is made at: a simulated time.
   * Default: now, or the collector's own clock when it has one.
   */
  readonly startTime?: number;
  readonly executionName?: string;
  /** Pause between ASL retries, in ms (the ASL's own intervals are seconds to minutes). */
  readonly retryIntervalMs?: number;
  /**
   * One Lambda timeout for every function, which the fetch handler sees through
   * `getRemainingTimeInMillis`. Default: each function's own (serverless.yml).
   */
  readonly lambdaTimeoutMs?: number;
  /** Mean pause between retries of a throttled invocation, in ms (default 1,000; drawn between 0 and twice it). */
  readonly throttledRetryMs?: number;
  /**
   * The account's Lambda concurrency, shared by every invocation of the run: one over it fails
   * `Lambda.TooManyRequestsException`. Default: {@link NEW_ACCOUNT_CONCURRENCY}, a new account's.
   */
  readonly accountConcurrency?: number;
  /**
   * How long an Express child may run before it fails `States.Timeout`, as AWS ends one at 5 minutes.
   * Default: {@link EXPRESS_LIMIT_SECONDS}.
   */
  readonly expressTimeoutMs?: number;
  /** The definition to run instead of statemachine/collector.asl.json (a test of the runner itself). */
  readonly definition?: StateMachineDefinition;
  /**
   * Redrive of a failed or killed execution (aws-local-stepfunctions has no redrive): the same execution
   * name, run again from where the outcome's `redrive` says, with the context's redrive count raised.
   */
  readonly redriveOf?: Redrive;
  /** Kills the execution where it is, as a crashed or killed process would leave it. */
  readonly kill?: AbortSignal;
  /** Counts the execution's events (outcome `events` and `statesEntered`); off by default. */
  readonly countEvents?: boolean;
  /** Told of each handler invocation once it has settled (a benchmark's timings). */
  readonly onInvocation?: (invocation: Invocation) => void;
}

/** What Step Functions reports when a Lambda function runs past its timeout. */
class SandboxTimedout extends Error {
  override readonly name = 'Sandbox.Timedout';
}

/** The legacy callbacks of a Lambda context: the handlers are async and call none. */
const noCallback = () => {
  throw new Error('The local Lambda context has no callbacks: the handlers are async.');
};

function lambdaContext(name: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = `local-${name}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: LOCAL_ARN(name),
    memoryLimitInMB: '1024',
    awsRequestId: `local-${Date.now()}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: noCallback,
    fail: noCallback,
    succeed: noCallback,
  };
}

/** The longest a runner's Task may wait for a child: the most a Node timer holds, in whole seconds. */
const CHILD_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** The runner's Task that starts one child execution of the Distributed Map `map` (it writes no history of its own). */
const childExecution = (map: string) => `Child execution (${map})`;

/** A definition walked as plain JSON. */
type Json = Record<string, unknown>;
const isJson = (value: unknown): value is Json => typeof value === 'object' && value !== null;

/** A Map state, as much of it as the split reads. */
const mapSchema = z.looseObject({
  Type: z.literal('Map'),
  ItemProcessor: z.looseObject({
    ProcessorConfig: z
      .looseObject({ Mode: z.string().optional(), ExecutionType: z.string().optional() })
      .optional(),
    StartAt: z.string(),
    States: z.record(z.string(), z.unknown()),
  }),
});

/** One Distributed Map's ItemProcessor, which the runner executes as a child execution per item. */
export interface ChildDefinition {
  readonly definition: StateMachineDefinition;
  /** `EXPRESS` children have no history quota and end at 5 minutes; `STANDARD` ones the reverse. */
  readonly type: 'STANDARD' | 'EXPRESS';
  /** The map's Label, which AWS names its children by. */
  readonly label: string;
}

/**
 * The definition split where AWS splits it: the parent, in which each item of a Distributed Map is handed
 * to the runner's {@link childExecution} Task, and each map's ItemProcessor, which the runner executes as a
 * child execution of its own for each item (its own history, payloads and `$$.Execution`), by map name.
 */
export function splitAtDistributedMap(definition: StateMachineDefinition): {
  parent: StateMachineDefinition;
  children: Record<string, ChildDefinition>;
} {
  const states: Json = { ...definition.States };
  const children: Record<string, ChildDefinition> = {};
  for (const [map, state] of Object.entries(states)) {
    const parsed = mapSchema.safeParse(state);
    const config = parsed.data?.ItemProcessor.ProcessorConfig;
    if (!parsed.success || config?.Mode !== 'DISTRIBUTED') continue;
    const { ProcessorConfig: _config, ...child } = parsed.data.ItemProcessor;
    const { Label: label, ...inline } = parsed.data;
    const runner = {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: childExecution(map),
      // A child runs as long as it runs (a Standard one for hours): aws-local-stepfunctions ends a Task with
      // no TimeoutSeconds at 60 s (the ASL spec's default). AWS's own default, 99,999,999 s, would overflow
      // Node's timers (at most 2^31 - 1 ms, which fire at once beyond it): 24 days, as good as unbounded.
      States: {
        [childExecution(map)]: {
          Type: 'Task',
          Resource: LOCAL_ARN('child-execution'),
          TimeoutSeconds: CHILD_TIMEOUT_SECONDS,
          End: true,
        },
      },
    };
    states[map] = { ...inline, ItemProcessor: runner };
    const type = config.ExecutionType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD';
    children[map] = {
      definition: definitionOf(child, `The ItemProcessor of ${map}`),
      type,
      label: typeof label === 'string' ? label : map,
    };
  }
  if (Object.keys(children).length === 0) {
    throw new Error(
      'The state machine has no Distributed Map: packages/testkit/src/workflow.ts runs its items as children.',
    );
  }
  return { parent: definitionOf({ ...definition, States: states }, 'The parent definition'), children };
}

/**
 * Each Task state's kind (Tenants, Plan, …), by state name, from the function that serves it: the Express
 * child's "Plan (on time)" is a Plan.
 */
function taskKinds(definition: StateMachineDefinition): Record<string, TaskState> {
  const kinds: Record<string, TaskState> = {};
  const walk = (states: unknown): void => {
    if (!isJson(states)) return;
    for (const [name, state] of Object.entries(states)) {
      if (!isJson(state)) continue;
      const fn =
        typeof state.Resource === 'string' ? /:function:local-(.+)$/.exec(state.Resource)?.[1] : undefined;
      const kind = fn === undefined ? undefined : KIND_OF_FUNCTION[fn];
      if (state.Type === 'Task' && kind) kinds[name] = kind;
      if (Array.isArray(state.Branches)) for (const b of state.Branches) if (isJson(b)) walk(b.States);
      if (isJson(state.ItemProcessor)) walk(state.ItemProcessor.States);
    }
  };
  walk(definition.States);
  return kinds;
}

/** Step Functions' context of an execution (`$$.Execution`). */
interface ExecutionContext {
  readonly [field: string]: JSONValue;
  readonly Id: string;
  readonly Name: string;
  readonly Input: JSONValue;
  readonly StartTime: string;
  readonly RedriveCount: number;
}

/** How one execution (the parent or a child) ended, and what it wrote against AWS's quotas. */
interface Settled {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly output?: JSONValue;
  /** The failure as Step Functions reports it: its error name and cause. */
  readonly failure?: { readonly name: string; readonly message: string };
  readonly history: number;
  readonly largestOutput: number;
}

/** What every execution of one run shares: the handlers, the account's concurrency, the counts. */
interface Shared {
  /** The Task states' local handlers, by state name, for an execution that `terminate` fails. */
  readonly handlers: (terminate: Terminate, execution: ExecutionRef) => Record<string, LocalHandler>;
  readonly retryOverrides: Record<string, number[]>;
  readonly tally?: { events: Record<string, number>; statesEntered: Record<string, number> };
}

type LocalHandler = (event: JSONValue) => Promise<JSONValue>;

/** One execution to run: its definition, `$$.Execution`, what kills it, its maps' children, its limit. */
interface ExecutionSpec {
  definition: StateMachineDefinition;
  context: ExecutionContext;
  kill: AbortSignal | undefined;
  /** The local handlers that run the items of the definition's Distributed Maps, by map (a parent's). */
  children?: Readonly<Record<string, LocalHandler>>;
  /** An Express child's time limit. */
  express?: { readonly timeoutMs: number } | undefined;
}

/** Fails an execution where it is, uncaught, with a quota's error. */
type Terminate = (error: StepFunctionsError) => void;

/**
 * Runs one execution of `definition` with aws-local-stepfunctions under AWS's quotas: its history and
 * every state's output are metered from its event log as it runs, and a passed quota fails the execution
 * the way AWS fails it, uncaught (the run is aborted where it is, and reported FAILED with the quota's error).
 */
async function execute(
  shared: Shared,
  { definition, context, kill, children = {}, express }: ExecutionSpec,
): Promise<Settled> {
  let terminal: StepFunctionsError | undefined;
  const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
  const execution: ExecutionRef = { name: context.Name, type: executionType(children, express) };
  const local = {
    ...shared.handlers((e) => terminate(e), execution),
    ...Object.fromEntries(Object.entries(children).map(([map, run]) => [childExecution(map), run])),
  };
  const run = machine.run(context.Input, {
    overrides: { taskResourceLocalHandlers: local, retryIntervalOverrides: shared.retryOverrides },
    context: { Execution: context },
  });
  function terminate(error: StepFunctionsError) {
    terminal ??= error;
    run.abort();
  }
  const onKill = () => run.abort();
  kill?.addEventListener('abort', onKill, { once: true });
  const timer = express && expressTimeLimit(context.Name, express.timeoutMs, terminate);
  const maps = Object.keys(children);
  const meter = new HistoryMeter(new Set(maps.map(childExecution)), new Set(maps), !express);
  const metered = meterLog(run.eventLogs, { meter, terminate, tally: shared.tally });
  const inputBytes = payloadBytes(context.Input);
  if (inputBytes > PAYLOAD_LIMIT_BYTES) terminate(dataLimitExceeded('execution input', inputBytes));
  try {
    return await settle({ result: run.result, metered, meter, terminal: () => terminal });
  } finally {
    clearTimeout(timer);
    kill?.removeEventListener('abort', onKill);
  }
}

/** An execution's type: the parent starts children; a child is Express when it has a time limit. */
const executionType = (
  children: Readonly<Record<string, LocalHandler>>,
  express: { readonly timeoutMs: number } | undefined,
): ExecutionRef['type'] => (Object.keys(children).length > 0 ? 'PARENT' : express ? 'EXPRESS' : 'STANDARD');

/** AWS ends an Express execution at its time limit, wherever it is: States.Timeout, which no Catch sees. */
function expressTimeLimit(name: string, timeoutMs: number, terminate: Terminate): NodeJS.Timeout {
  return setTimeout(
    () =>
      terminate(
        new StepFunctionsError(
          'States.Timeout',
          `The Express execution ${name} ran past its ${timeoutMs / 1000} s limit.`,
        ),
      ),
    timeoutMs,
  );
}

/** An execution under way: its result to come, the reading of its event log, its meter, its quota failure. */
interface Running {
  result: Promise<JSONValue>;
  metered: Promise<void>;
  meter: HistoryMeter;
  terminal: () => StepFunctionsError | undefined;
}

/**
 * How an execution settled, once its event log is read: a quota passed (`terminal`), even in the last
 * events, fails it all the same; else its own result, abort or failure.
 */
async function settle({ result, metered, meter, terminal }: Running): Promise<Settled> {
  const countsOf = () => ({ history: meter.events, largestOutput: meter.largestOutput });
  try {
    const output = await result;
    await metered;
    const failure = terminal();
    if (failure) return { status: 'FAILED', failure, ...countsOf() };
    return { status: 'SUCCEEDED', output, ...countsOf() };
  } catch (err) {
    await metered;
    const failure = terminal();
    if (failure) return { status: 'FAILED', failure, ...countsOf() };
    if (err instanceof ExecutionAbortedError) return { status: 'ABORTED', ...countsOf() };
    if (!(err instanceof ExecutionError)) throw err;
    return { status: 'FAILED', failure: handlerFailureOf(err), ...countsOf() };
  }
}

/** A field of an error, when it is an object (an error's `cause` can be anything). */
const fieldOf = (value: unknown, field: string): unknown => (isJson(value) ? value[field] : undefined);

/**
 * The failure a Task's handler raised, as Step Functions reports it: aws-local-stepfunctions wraps it
 * once or twice in its own errors, which name none of the product's errors.
 */
function handlerFailureOf(err: ExecutionError): { name: string; message: string } {
  const inner = err.cause;
  const original = fieldOf(inner, 'cause') ?? inner;
  const name = fieldOf(original, 'name');
  const message = fieldOf(original, 'message');
  return {
    name: typeof name === 'string' ? name : err.name,
    message: typeof message === 'string' ? message : err.message,
  };
}

/** What an execution's event log is read into: its meter, how a passed quota fails it, the run's tally. */
interface Metering {
  meter: HistoryMeter;
  terminate: Terminate;
  tally: Shared['tally'];
}

/** Reads an execution's event log as it is written, metering it; ends when the log closes. */
async function meterLog(
  log: AsyncIterable<LoggedEvent>,
  { meter, terminate, tally }: Metering,
): Promise<void> {
  for await (const event of log) {
    const failure = meter.count(event);
    if (failure) terminate(failure);
    if (!tally || meter.hides(event)) continue;
    tally.events[event.type] = (tally.events[event.type] ?? 0) + 1;
    if (event.type === 'StateEntered' && event.state)
      tally.statesEntered[event.state.name] = (tally.statesEntered[event.state.name] ?? 0) + 1;
  }
}

/**
 * Each Task's pause between retries: `retryMs` for each retrier, but for the one that retries Lambda's
 * throttling a pause drawn afresh at each retry between 0 and twice `throttledMs` (as FULL jitter draws it).
 * In AWS that retrier waits seconds to a minute, hundreds of times an invocation's length, so the
 * throttled invocations find the slots that others free; the local pause keeps the same proportion to a
 * local invocation, tens of milliseconds.
 */
function retryOverridesOf(
  definitions: readonly StateMachineDefinition[],
  retryMs: number,
  throttledMs: number,
) {
  const overrides: Record<string, number[]> = {};
  const walk = (states: unknown): void => {
    if (!isJson(states)) return;
    for (const [name, state] of Object.entries(states)) {
      if (!isJson(state)) continue;
      if (Array.isArray(state.Retry)) {
        const throttling = state.Retry.map(
          (r: unknown) =>
            isJson(r) &&
            Array.isArray(r.ErrorEquals) &&
            r.ErrorEquals.includes('Lambda.TooManyRequestsException'),
        );
        // aws-local-stepfunctions reads a state's overrides at each retry: a getter draws each pause anew.
        Object.defineProperty(overrides, name, {
          enumerable: true,
          get: () => throttling.map((t) => (t ? Math.round(Math.random() * 2 * throttledMs) : retryMs)),
        });
      }
      if (Array.isArray(state.Branches)) for (const b of state.Branches) if (isJson(b)) walk(b.States);
      if (isJson(state.ItemProcessor)) walk(state.ItemProcessor.States);
    }
  };
  for (const d of definitions) walk(d.States);
  return overrides;
}

/**
 * Runs one execution of the real state machine in-process with aws-local-stepfunctions, every Task
 * served by the same handler modules that run in Lambda, under AWS's quotas (packages/testkit/src/aws-limits.ts): the
 * Distributed Map's items run as child executions of their own, each with its own history and
 * `$$.Execution`; every invocation takes a slot of the account's Lambda concurrency and ends at its
 * function's timeout.
 */
export async function runExecution(
  collectors: Collector | Fleet,
  options: RunOptions = {},
): Promise<ExecutionOutcome> {
  const executionName = options.executionName ?? `local-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const fleet = 'collector' in collectors ? collectors : fleetOf(collectors);
  const redriveCount = options.redriveOf?.count ?? 0;
  const startTime = new Date(startMsOf(collectors, options)).toISOString();
  const { parent, children } = splitAtDistributedMap(options.definition ?? loadDefinition());
  const definitions = [parent, ...Object.values(children).map((c) => c.definition)];
  const tasks = taskInvoker(fleet, options, { startTime, redriveCount, definitions });
  const shared = sharedOf(tasks, options, definitions);
  const stopChildren = new AbortController();
  const childSignal = options.kill
    ? AbortSignal.any([options.kill, stopChildren.signal])
    : stopChildren.signal;
  const runner = childRunner(shared, {
    executionName,
    signal: childSignal,
    expressTimeoutMs: options.expressTimeoutMs,
  });
  const runners = Object.fromEntries(
    Object.entries(children).map(([map, child]) => [map, runner.run(child)]),
  );
  const context = {
    Id: `arn:aws:states:us-east-1:000000000000:execution:local:${executionName}`,
    Name: executionName,
    Input: jsonOf(options.redriveOf?.input ?? options.input ?? {}),
    StartTime: startTime,
    RedriveCount: redriveCount,
  };
  const definition = options.redriveOf ? { ...parent, StartAt: options.redriveOf.from } : parent;
  const settled = await execute(shared, { definition, context, kill: options.kill, children: runners });
  stopChildren.abort();
  const run: RunParts = { fleet, executionName, tasks, runner, shared };
  return outcomeOf(run, settled, countsOf(run, settled));
}

/** The execution's start time: the one asked for, or now by the collectors' own clock when they have one. */
const startMsOf = (collectors: Collector | Fleet, options: RunOptions): number =>
  options.startTime ?? ('collector' in collectors ? Date.now() : (collectors.now ?? Date.now)());

/** What the run's executions share: its handlers, the retry pauses of every definition, the event tally. */
function sharedOf(
  tasks: ReturnType<typeof taskInvoker>,
  options: RunOptions,
  definitions: readonly StateMachineDefinition[],
): Shared {
  return {
    handlers: tasks.handlers,
    retryOverrides: retryOverridesOf(
      definitions,
      options.retryIntervalMs ?? 1000,
      options.throttledRetryMs ?? 1000,
    ),
    ...(options.countEvents ? { tally: { events: {}, statesEntered: {} } } : {}),
  };
}

/** What one run is made of: its fleet and name, its Task handlers, its children's runner, what it shares. */
interface RunParts {
  fleet: Fleet;
  executionName: string;
  tasks: ReturnType<typeof taskInvoker>;
  runner: ReturnType<typeof childRunner>;
  shared: Shared;
}

/** The run's counts against AWS's quotas, parent and children, once the parent has settled. */
function countsOf(
  { tasks, runner, shared }: RunParts,
  settled: Settled,
): Omit<ExecutionOutcome, 'status' | 'executionName'> {
  return {
    invocations: tasks.invocations,
    timeouts: tasks.timeouts(),
    durationsMs: tasks.durationsMs,
    history: { parent: settled.history, children: runner.standard },
    express: { children: runner.express.count, longestMs: runner.express.longestMs },
    largestOutputBytes: Math.max(runner.largest(), settled.largestOutput),
    lambda: { peak: tasks.account.peak, throttles: tasks.account.throttles, limit: tasks.account.limit },
    ...(shared.tally ?? {}),
  };
}

/** How a run's children run: under its name, stopped by `signal`, an Express one within its time limit. */
interface ChildRunSettings {
  executionName: string;
  signal: AbortSignal;
  /** An Express child's time limit (default AWS's 5 minutes). */
  expressTimeoutMs?: number | undefined;
}

/**
 * Runs the items of the Distributed Maps as child executions: each with its own `$$.Execution`, a Standard
 * one under the history quota, an Express one under its time limit. A child that does not succeed fails
 * its map, as a Map Run with no tolerated failures fails.
 */
function childRunner(
  shared: Shared,
  { executionName, signal, expressTimeoutMs = EXPRESS_LIMIT_SECONDS * 1000 }: ChildRunSettings,
) {
  const standard: number[] = [];
  const express = { count: 0, longestMs: 0 };
  let largest = 0;
  let started = 0;
  const run =
    (child: ChildDefinition): LocalHandler =>
    async (item) => {
      started += 1;
      const name = `${executionName}-${child.label}-${started}-${randomUUID().slice(0, 8)}`;
      const slot = child.type === 'STANDARD' ? standard.push(0) - 1 : -1;
      if (child.type === 'EXPRESS') express.count += 1;
      const context = {
        Id: `arn:aws:states:us-east-1:000000000000:execution:local/${child.label}:${name}`,
        Name: name,
        Input: item,
        // The child's own start, by the wall clock, as AWS gives it: an Express child's fetch deadline counts
        // from it (functions/domain/time-box.ts). The run's simulated start comes in through ItemSelector.
        StartTime: new Date().toISOString(),
        RedriveCount: 0,
      };
      const began = Date.now();
      const limits = child.type === 'EXPRESS' ? { timeoutMs: expressTimeoutMs } : undefined;
      const settled = await execute(shared, {
        definition: child.definition,
        context,
        kill: signal,
        express: limits,
      });
      if (slot >= 0) standard[slot] = settled.history;
      else express.longestMs = Math.max(express.longestMs, Date.now() - began);
      largest = Math.max(largest, settled.largestOutput);
      if (settled.status === 'SUCCEEDED') return settled.output ?? null;
      throw new StepFunctionsError(
        'States.ExceedToleratedFailureThreshold',
        `The specified tolerated failure threshold was exceeded: child execution ${name} ${settled.status}${settled.failure ? ` with ${settled.failure.name}: ${settled.failure.message}` : ''}`,
      );
    };
  return { run, standard, express, largest: () => largest };
}

/** A tenant's result with its plan and commits: what a one-tenant run outputs. */
const isTenantOutput = (result: TenantResult): result is TenantResult & TenantOutput =>
  result.windows !== undefined && result.committed !== undefined;

/** The outcome of a run, from how its parent execution settled. */
async function outcomeOf(
  { fleet, executionName, tasks }: RunParts,
  settled: Settled,
  counts: Omit<ExecutionOutcome, 'status' | 'executionName'>,
): Promise<ExecutionOutcome> {
  const redrive = tasks.redrive();
  if (settled.status === 'SUCCEEDED') {
    const results = await tasks.gathered.results(fleet, executionName);
    const only = results.length === 1 ? results[0] : undefined;
    const output = only && isTenantOutput(only) ? only : undefined;
    return { status: 'SUCCEEDED', executionName, output, results, ...counts };
  }
  if (settled.status === 'ABORTED') return { status: 'ABORTED', executionName, redrive, ...counts };
  // Best effort: the run's tenant list may not be readable when the execution failed on S3 itself.
  const results = await tasks.gathered.results(fleet, executionName).catch(() => undefined);
  return {
    status: 'FAILED',
    executionName,
    redrive,
    ...(results ? { results } : {}),
    error: settled.failure?.name ?? 'Error',
    // The Report step's message is its failures document (JSON): read as the CLI reads an execution's Cause.
    cause: describeFailures(settled.failure?.message ?? ''),
    ...counts,
  };
}

/** A count per task state, all zero. */
const zeroByTask = () => ({ Tenants: 0, Plan: 0, FetchPages: 0, Commit: 0, Failed: 0, HandOn: 0, Report: 0 });

/** The real handlers of the Task states, each on the run's fleet. */
function realHandlers(fleet: Fleet) {
  // biome-ignore lint/suspicious/noExplicitAny: each handler takes the event type its state sends
  const real: Record<TaskState, (event: any, context: Context) => Promise<unknown>> = {
    Tenants: tenantsHandler(() => fleet),
    Plan: planHandler(() => fleet),
    FetchPages: fetchPageHandler(() => fleet),
    Commit: commitHandler(() => fleet),
    Failed: failedHandler(() => fleet),
    HandOn: handOnHandler(() => fleet),
    Report: reportHandler(() => fleet),
  };
  return real;
}

/**
 * The real handlers as Lambda runs them: each invocation ends at its function's timeout (failing
 * `Sandbox.Timedout`), and the invocations that ran past it are counted.
 */
function lambdaRunner(real: ReturnType<typeof realHandlers>, lambdaTimeoutMs: number | undefined) {
  let timeouts = 0;
  return {
    async invoke(state: TaskState, event: unknown): Promise<unknown> {
      const name = TASKS[state];
      const timeoutMs = lambdaTimeoutMs ?? LAMBDA_TIMEOUT_SECONDS[name] * 1000;
      // Lambda ends an invocation at its timeout. Here the handler's promise is only abandoned, not
      // frozen, so a test that lets a handler overrun must not rely on what it does afterwards.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timeouts += 1;
          reject(new SandboxTimedout(`Task timed out after ${timeoutMs / 1000} seconds (${name})`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([real[state](event, lambdaContext(name, timeoutMs)), timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
    timeouts: () => timeouts,
  };
}

/** What the Tenants and Hand on steps hand to the maps over tenants: the Hand on step's event, less what it reads of the children. */
const tenantsPlanSchema = handOnEventSchema.omit({ handedOn: true }).extend({
  onTime: handOnEventSchema.shape.tenants.optional(),
});

/**
 * Where a redrive of the run would start, kept as its Tasks run: at the Report step once it is entered, at
 * the map over on-time tenants once the Tenants step planned them, at the map over tenants once the Hand on
 * step handed them on. A redrive's own redrive starts where it did until then.
 */
function redriveTracker(redriveOf: Redrive | undefined, count: number) {
  let redrive: Redrive | undefined = redriveOf && { ...redriveOf, count };
  return {
    entered(state: TaskState, event: unknown): void {
      if (state !== 'Report') return;
      const report = reportEventSchema.shape.state.safeParse(isJson(event) ? event.state : undefined);
      if (report.success) redrive = { from: 'Report', input: report.data, count };
    },
    succeeded(state: TaskState, result: unknown): void {
      if (state === 'Tenants')
        redrive = { from: 'Any on time?', input: tenantsPlanSchema.parse(result), count };
      if (state === 'HandOn')
        redrive = { from: 'Collect tenants', input: tenantsPlanSchema.parse(result), count };
    },
    current: () => redrive,
  };
}

/** What every Task invocation of a run takes part in: the account's slots, the counts, the redrive point, the results. */
interface InvocationRun {
  readonly account: AccountConcurrency;
  readonly invocations: Record<TaskState, number>;
  readonly durationsMs: Record<TaskState, number>;
  readonly redrive: ReturnType<typeof redriveTracker>;
  readonly gathered: ReturnType<typeof gatherResults>;
  readonly lambda: ReturnType<typeof lambdaRunner>;
  /** The execution's start time, which the Tenants step is sent. */
  readonly startTime: string;
  readonly onInvocation: RunOptions['onInvocation'];
}

/** How a run starts: its start time, the redrives before it, its definitions (the parent's, then children). */
interface RunStart {
  startTime: string;
  redriveCount: number;
  definitions: readonly StateMachineDefinition[];
}

/**
 * The Task states' handlers, as Lambda would run them: each invocation takes a slot of the account's
 * concurrency (or is throttled), ends at its function's timeout, and has its input and result held to
 * the payload quota. Counts the invocations, and keeps where a redrive of the run would start.
 */
function taskInvoker(fleet: Fleet, options: RunOptions, { startTime, redriveCount, definitions }: RunStart) {
  const run: InvocationRun = {
    account: new AccountConcurrency(options.accountConcurrency ?? NEW_ACCOUNT_CONCURRENCY),
    invocations: zeroByTask(),
    durationsMs: zeroByTask(),
    redrive: redriveTracker(options.redriveOf, redriveCount + 1),
    gathered: gatherResults(),
    lambda: lambdaRunner(realHandlers(fleet), options.lambdaTimeoutMs),
    startTime,
    onInvocation: options.onInvocation,
  };
  const kinds: Record<string, TaskState> = Object.assign({}, ...definitions.map((d) => taskKinds(d)));
  return {
    handlers: (terminate: Terminate, execution: ExecutionRef) =>
      Object.fromEntries(
        Object.entries(kinds).map(([name, kind]) => [
          name,
          invocationOf(run, { state: kind, stateName: name }, { terminate, execution }),
        ]),
      ),
    invocations: run.invocations,
    durationsMs: run.durationsMs,
    account: run.account,
    gathered: run.gathered,
    timeouts: run.lambda.timeouts,
    redrive: run.redrive.current,
  };
}

/** A Task state of the definition: its kind and its name. */
interface TaskOf {
  state: TaskState;
  stateName: string;
}

/** The execution a handler serves, and how a passed quota fails it. */
interface HandlerOwner {
  terminate: Terminate;
  execution: ExecutionRef;
}

/** The local handler of one Task state of one execution: one Lambda invocation per call. */
function invocationOf(
  run: InvocationRun,
  { state, stateName }: TaskOf,
  { terminate, execution }: HandlerOwner,
): LocalHandler {
  return async (event) => {
    const release = run.account.acquire(TASKS[state]);
    run.invocations[state] += 1;
    run.redrive.entered(state, event);
    const startedMs = performance.now();
    let failed = true;
    try {
      // aws-local-stepfunctions 3.0.0 overwrites the context's Execution.StartTime with its own clock: the
      // Tenants step gets the execution's start time here, as $$.Execution.StartTime gives it in AWS.
      const sent =
        state === 'Tenants' ? { ...(isJson(event) ? event : {}), startTime: run.startTime } : event;
      held(`input of Task ${state}`, sent, terminate);
      const result = await run.lambda.invoke(state, sent);
      held(`result of Task ${state}`, result, terminate);
      run.redrive.succeeded(state, result);
      run.gathered.add(state, event, result);
      failed = false;
      return jsonOf(result);
    } finally {
      release();
      const endedMs = performance.now();
      run.durationsMs[state] += endedMs - startedMs;
      run.onInvocation?.({ state, stateName, execution, event, startedMs, endedMs, failed });
    }
  };
}

/** Fails the execution, uncaught, when `value` passes the payload quota (as `States.DataLimitExceeded` does). */
function held(what: string, value: unknown, terminate: Terminate): void {
  const bytes = payloadBytes(value);
  if (bytes <= PAYLOAD_LIMIT_BYTES) return;
  const error = dataLimitExceeded(what, bytes);
  terminate(error);
  throw error;
}

/** The tenant of a Commit step's event, which its commits are gathered under. */
const commitTenantSchema = commitTaskSchema.pick({ tenant: true });

/** The Plan step's result (functions/plan.ts), recognised by the fields the results read. */
function tenantPlanOf(result: unknown): TenantPlan {
  const isPlan = (value: unknown): value is TenantPlan =>
    isJson(value) && typeof value.runId === 'string' && Array.isArray(value.windows) && 'tenant' in value;
  if (isPlan(result)) return result;
  throw new Error('The Plan step returned no plan (runId, windows and tenant).');
}

/** The Commit step's result (functions/domain/publish.ts), recognised by the fields the results read. */
function commitResultOf(result: unknown): CommitResult {
  const isCommit = (value: unknown): value is CommitResult =>
    isJson(value) && typeof value.start === 'string' && typeof value.outcome === 'string';
  if (isCommit(result)) return result;
  throw new Error('The Commit step returned no commit result (start and outcome).');
}

const jsonSchema = z.json();

/**
 * A value as Step Functions passes it on: JSON text, parsed (an execution's input, a Lambda function's
 * result). Keys whose value is undefined are not in it.
 */
function jsonOf(value: unknown): JSONValue {
  return jsonSchema.parse(JSON.parse(JSON.stringify(value) ?? 'null'));
}

/** What a run gathered of one tenant: its plan, its failure when it failed, its commits. */
interface Gathered {
  plan: TenantPlan | undefined;
  failure: TenantFailure | undefined;
  committed: CommitResult[];
}

/** One tenant's result: its plan and commits, and its failure when it failed. */
async function tenantResult(
  fleet: Fleet,
  runId: string,
  { plan, failure, committed }: Gathered,
): Promise<TenantResult> {
  if (plan && !failure) return { ...plan, committed };
  const tenant =
    plan?.tenant ?? (failure?.index == null ? null : await tenantOf(fleet, runId, failure.index));
  // A failed tenant keeps the windows it committed before its failure: they are published.
  return {
    ...plan,
    tenant,
    committed,
    failure: {
      Error: failure?.error ?? 'Error',
      Cause: failure ? failureLine(failure) : '',
      window: failure?.window ?? null,
      entity: failure?.entity ?? null,
    },
  };
}

/**
 * Each tenant's plan, commits and failure, from the results of its Plan, Commit and Failed invocations,
 * in the order of the run's tenant list.
 */
function gatherResults() {
  const plans = new Map<string | null, TenantPlan>();
  const commits = new Map<string | null, CommitResult[]>();
  const failures = new Map<string | null, TenantFailure>();
  const idOf = (tenant: Tenant | null | undefined) => tenant?.id ?? null;
  return {
    add(state: TaskState, event: unknown, result: unknown) {
      if (state === 'Plan') {
        // A tenant an Express child handed on is planned again by its Standard child: the first plan has
        // every window the run found due, and the commits of both children count.
        const plan = tenantPlanOf(result);
        if (!plans.has(idOf(plan.tenant))) plans.set(idOf(plan.tenant), plan);
        if (!commits.has(idOf(plan.tenant))) commits.set(idOf(plan.tenant), []);
        failures.delete(idOf(plan.tenant));
      } else if (state === 'Commit') {
        const id = idOf(commitTenantSchema.parse(event).tenant);
        commits.set(id, [...(commits.get(id) ?? []), commitResultOf(result)]);
      } else if (state === 'Failed') {
        const failure = tenantFailureSchema.parse(result);
        failures.set(failure.tenant, failure);
      }
    },
    async results(fleet: Fleet, runId: string): Promise<TenantResult[]> {
      const ids = [...new Set([...plans.keys(), ...failures.keys()])];
      const tenants = await Promise.all(
        ids.map((id) =>
          tenantResult(fleet, runId, {
            plan: plans.get(id),
            failure: failures.get(id),
            committed: commits.get(id) ?? [],
          }),
        ),
      );
      // No list for the environment's one tenant: one result, nothing to order.
      const list = ids.some((id) => id !== null) ? await runTenants(fleet, runId) : [];
      const order = (r: TenantResult) => list.findIndex((t) => t.id === idOf(r.tenant));
      return tenants.sort((a, b) => order(a) - order(b));
    },
  };
}
