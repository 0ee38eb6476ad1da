import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import {
  ExecutionAbortedError,
  ExecutionError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { fleetOf } from '../functions/adapters/lambda.ts';
import { commitHandler } from '../functions/commit.ts';
import type { Collector, Plan } from '../functions/domain/collector.ts';
import type { CommitResult } from '../functions/domain/publish.ts';
import type { Tenant } from '../functions/domain/schemas.ts';
import {
  type CollectedState,
  describeFailures,
  type Fleet,
  runTenants,
  type TenantFailure,
  type TenantsPlan,
  tenantOf,
} from '../functions/domain/tenants.ts';
import { failedHandler } from '../functions/failed.ts';
import { fetchPageHandler } from '../functions/fetch-page.ts';
import { planHandler, type TenantPlan } from '../functions/plan.ts';
import { reportHandler } from '../functions/report.ts';
import { tenantsHandler } from '../functions/tenants.ts';

const ASL_PATH = new URL('../statemachine/collector.asl.json', import.meta.url);

type JSONValue = Parameters<StateMachine['run']>[0];

/** Task state name → the serverless.yml function whose handler serves it. */
export const TASKS = {
  Tenants: 'tenants',
  Plan: 'plan',
  FetchPages: 'fetchPage',
  Commit: 'commit',
  Failed: 'failed',
  Report: 'report',
} as const;
type TaskState = keyof typeof TASKS;

/** One tenant's plan and what its commits did: what a one-tenant run outputs. */
export type TenantOutput = Plan & { committed: CommitResult[] };

/**
 * One tenant's outcome in an execution: its plan and commits, or the failure its child caught. In AWS
 * these are in each child execution's history (the map's output holds a constant per tenant); the local
 * run gathers them from the handlers' results, at any number of tenants.
 */
export type TenantResult = Partial<TenantOutput> & {
  readonly tenant: Tenant | null;
  readonly failure?: { readonly Error: string; readonly Cause: string };
};

/**
 * Where a redrive of a failed or killed execution starts, as AWS would: at the Report step that failed
 * (which then collects the failed tenants alone again), or, for an execution killed inside the map over
 * tenants, at that map (AWS re-runs only its unfinished iterations, from where each stopped; re-running
 * each from its Plan, as this does, repeats more work but writes the same keys).
 */
export interface Redrive {
  readonly from: 'Collect tenants' | 'Report';
  readonly input: TenantsPlan | CollectedState;
  /** The execution's redrive count during the redrive. */
  readonly count: number;
}

/**
 * The deployed ASL file, with each `{"Fn::GetAtt": [fn, "Arn"]}` (resolved by serverless-step-functions
 * at package time) replaced by a placeholder Lambda ARN: the Task states are then served in-process by
 * the real handlers, keyed by state name.
 */
export function loadDefinition(): StateMachineDefinition {
  const text = readFileSync(ASL_PATH, 'utf8');
  return JSON.parse(text, (_key, value: unknown) => {
    const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | null)?.['Fn::GetAtt'];
    return getAtt ? `arn:aws:lambda:us-east-1:000000000000:function:local-${getAtt[0]}` : value;
  }) as StateMachineDefinition;
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

/** One handler invocation, as `onInvocation` sees it once it has settled. */
export interface Invocation {
  readonly state: TaskState;
  /** The event the state machine sent the handler (a tenant's tasks carry its `tenant`). */
  readonly event: unknown;
  /** `performance.now()` at its start and end. */
  readonly startedMs: number;
  readonly endedMs: number;
  readonly failed: boolean;
}

export interface RunOptions {
  readonly input?: { hour?: string };
  /**
   * The execution's start time (`$$.Execution.StartTime`), which every plan is made at: a simulated time.
   * Default: now, or the collector's own clock when it has one.
   */
  readonly startTime?: number;
  readonly executionName?: string;
  /** Pause between ASL retries, in ms (the ASL's own intervals are seconds to minutes). */
  readonly retryIntervalMs?: number;
  /** The Lambda timeout that the fetch handler sees through `getRemainingTimeInMillis`. */
  readonly lambdaTimeoutMs?: number;
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

function lambdaContext(name: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName: `local-${name}`,
    awsRequestId: `local-${Date.now()}`,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as Context;
}

/**
 * Runs one execution of the real state machine in-process with aws-local-stepfunctions, every Task
 * served by the same handler modules that run in Lambda.
 */
export async function runExecution(
  collectors: Collector | Fleet,
  options: RunOptions = {},
): Promise<ExecutionOutcome> {
  const executionName = options.executionName ?? `local-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const fleet = 'collector' in collectors ? collectors : fleetOf(collectors);
  const invocations = { Tenants: 0, Plan: 0, FetchPages: 0, Commit: 0, Failed: 0, Report: 0 };
  const durationsMs = { Tenants: 0, Plan: 0, FetchPages: 0, Commit: 0, Failed: 0, Report: 0 };
  const gathered = gatherResults();
  let timeouts = 0;
  const redriveCount = options.redriveOf?.count ?? 0;
  const startTime = new Date(
    options.startTime ?? ('collector' in collectors ? Date.now() : (collectors.now ?? Date.now)()),
  ).toISOString();
  let redrive: Redrive | undefined = options.redriveOf && { ...options.redriveOf, count: redriveCount + 1 };
  const timeoutMs = options.lambdaTimeoutMs ?? 900_000;
  // biome-ignore lint/suspicious/noExplicitAny: each handler takes the event type its state sends
  const handlers: Record<TaskState, (event: any, context: Context) => Promise<unknown>> = {
    Tenants: tenantsHandler(() => fleet),
    Plan: planHandler(() => fleet),
    FetchPages: fetchPageHandler(() => fleet),
    Commit: commitHandler(() => fleet),
    Failed: failedHandler(() => fleet),
    Report: reportHandler(() => fleet),
  };
  const local = Object.fromEntries(
    Object.entries(handlers).map(([state, handler]) => [
      state,
      async (event: JSONValue) => {
        invocations[state as TaskState] += 1;
        const name = TASKS[state as TaskState];
        const next = redriveCount + 1;
        if (state === 'Report') {
          redrive = {
            from: 'Report',
            input: (event as unknown as { state: CollectedState }).state,
            count: next,
          };
        }
        // Lambda ends an invocation at its timeout. Here the handler's promise is only abandoned, not
        // frozen, so a test that lets a handler overrun must not rely on what it does afterwards.
        let timer: NodeJS.Timeout | undefined;
        const startedMs = performance.now();
        let failed = true;
        const timedOut = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timeouts += 1;
            reject(new SandboxTimedout(`Task timed out after ${timeoutMs / 1000} seconds (${name})`));
          }, timeoutMs);
        });
        try {
          // aws-local-stepfunctions 3.0.0 overwrites the context's Execution.StartTime with its own clock: the
          // Tenants step gets the execution's start time here, as $$.Execution.StartTime gives it in AWS.
          const sent = state === 'Tenants' ? { ...(event as object), startTime } : event;
          const result = await Promise.race([handler(sent, lambdaContext(name, timeoutMs)), timedOut]);
          if (state === 'Tenants')
            redrive = { from: 'Collect tenants', input: result as TenantsPlan, count: next };
          gathered.add(state as TaskState, event, result);
          failed = false;
          return result as JSONValue;
        } finally {
          clearTimeout(timer);
          const endedMs = performance.now();
          durationsMs[state as TaskState] += endedMs - startedMs;
          options.onInvocation?.({ state: state as TaskState, event, startedMs, endedMs, failed });
        }
      },
    ]),
  );
  const retryOverrides = Object.fromEntries(
    Object.keys(TASKS).map((s) => [s, options.retryIntervalMs ?? 1000]),
  );
  const definition = loadDefinition();
  const machine = new StateMachine(
    options.redriveOf ? { ...definition, StartAt: options.redriveOf.from } : definition,
    // The definition is validated where it is built (serverless package runs asl-validator, and the
    // packaging test checks the template); validating it again here costs ~0.3 s per execution.
    { validationOptions: { noValidate: true } },
  );
  const input = (options.redriveOf?.input ?? options.input ?? {}) as JSONValue;
  const run = machine.run(input, {
    overrides: { taskResourceLocalHandlers: local, retryIntervalOverrides: retryOverrides },
    context: {
      Execution: {
        Id: `arn:aws:states:us-east-1:000000000000:execution:local:${executionName}`,
        Name: executionName,
        Input: input,
        StartTime: startTime,
        RedriveCount: redriveCount,
      },
    },
  });
  options.kill?.addEventListener('abort', () => run.abort(), { once: true });
  // Read as the execution runs: the log closes when the execution ends, and the loop with it.
  const eventCounts = options.countEvents ? countEvents(run.eventLogs) : undefined;
  const counts = async () => ({
    timeouts,
    durationsMs,
    ...(eventCounts ? await eventCounts : {}),
  });
  try {
    await run.result;
    const results = await gathered.results(fleet, executionName);
    const only = results.length === 1 ? results[0] : undefined;
    const output = only?.hours && only.committed ? (only as TenantOutput) : undefined;
    return { status: 'SUCCEEDED', executionName, output, results, invocations, ...(await counts()) };
  } catch (err) {
    if (err instanceof ExecutionAbortedError)
      return { status: 'ABORTED', executionName, redrive, invocations, ...(await counts()) };
    if (!(err instanceof ExecutionError)) throw err;
    const inner = (err as { cause?: unknown }).cause as
      | { name?: string; message?: string; cause?: unknown }
      | undefined;
    const original = (inner?.cause ?? inner) as { name?: string; message?: string } | undefined;
    // Best effort: the run's tenant list may not be readable when the execution failed on S3 itself.
    const results = await gathered.results(fleet, executionName).catch(() => undefined);
    return {
      status: 'FAILED',
      executionName,
      redrive,
      ...(results ? { results } : {}),
      error: original?.name ?? err.name,
      // The Report step's message is its failures document (JSON): read as the CLI reads an execution's Cause.
      cause: describeFailures(original?.message ?? err.message),
      invocations,
      ...(await counts()),
    };
  }
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
        const plan = result as TenantPlan;
        plans.set(idOf(plan.tenant), plan);
        commits.set(idOf(plan.tenant), []);
        failures.delete(idOf(plan.tenant));
      } else if (state === 'Commit') {
        const id = idOf((event as { tenant?: Tenant | null }).tenant);
        commits.set(id, [...(commits.get(id) ?? []), result as CommitResult]);
      } else if (state === 'Failed') {
        const failure = result as TenantFailure;
        failures.set(failure.tenant, failure);
      }
    },
    async results(fleet: Fleet, runId: string): Promise<TenantResult[]> {
      const ids = [...new Set([...plans.keys(), ...failures.keys()])];
      const tenants = await Promise.all(
        ids.map(async (id) => {
          const plan = plans.get(id);
          const failure = failures.get(id);
          if (plan && !failure) return { ...plan, committed: commits.get(id) ?? [] };
          const tenant =
            plan?.tenant ?? (failure?.index == null ? null : await tenantOf(fleet, runId, failure.index));
          return { tenant, failure: { Error: failure?.error ?? 'Error', Cause: failure?.cause ?? '' } };
        }),
      );
      // No list for the environment's one tenant: one result, nothing to order.
      const list = ids.some((id) => id !== null) ? await runTenants(fleet, runId) : [];
      const order = (r: TenantResult) => list.findIndex((t) => t.id === idOf(r.tenant));
      return tenants.sort((a, b) => order(a) - order(b));
    },
  };
}

/** Counts an execution's event log by event type, and its `StateEntered` events by state name. */
async function countEvents(
  log: ReturnType<StateMachine['run']>['eventLogs'],
): Promise<{ events: Record<string, number>; statesEntered: Record<string, number> }> {
  const events: Record<string, number> = {};
  const statesEntered: Record<string, number> = {};
  for await (const event of log) {
    events[event.type] = (events[event.type] ?? 0) + 1;
    if (event.type === 'StateEntered') {
      statesEntered[event.state.name] = (statesEntered[event.state.name] ?? 0) + 1;
    }
  }
  return { events, statesEntered };
}
