import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import {
  ExecutionAbortedError,
  ExecutionError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { commitHandler } from '../functions/commit.ts';
import type { Collector, Plan } from '../functions/domain/collector.ts';
import type { CommitResult } from '../functions/domain/publish.ts';
import { fetchPageHandler } from '../functions/fetch-page.ts';
import { planHandler } from '../functions/plan.ts';

const ASL_PATH = new URL('../statemachine/collector.asl.json', import.meta.url);

/** Task state name → the serverless.yml function whose handler serves it. */
type JSONValue = Parameters<StateMachine['run']>[0];

const TASKS = { Plan: 'plan', FetchPages: 'fetchPage', Commit: 'commit' } as const;

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
  /** The Plan step's result, kept for a redrive. */
  readonly plan?: Plan;
  readonly output?: Plan & { committed: CommitResult[] };
  /** On failure: the error name (from functions/domain/errors.ts) and its message. */
  readonly error?: string;
  readonly cause?: string;
  /** Handler invocations by task state, counted here because the local event log can drop Map events. */
  readonly invocations: Record<keyof typeof TASKS, number>;
  /** Invocations that ran past their Lambda timeout (failed as `Sandbox.Timedout`, as Lambda fails them). */
  readonly timeouts: number;
}

export interface RunOptions {
  readonly input?: { hour?: string };
  readonly executionName?: string;
  /** Pause between ASL retries, in ms (the ASL's own intervals are seconds to minutes). */
  readonly retryIntervalMs?: number;
  /** The Lambda timeout that the fetch handler sees through `getRemainingTimeInMillis`. */
  readonly lambdaTimeoutMs?: number;
  /**
   * Redrive of a failed execution: the same execution name and the same plan, run again from the Hours
   * map (aws-local-stepfunctions has no redrive). AWS re-runs only the failed Map iterations, from
   * their failed continuation; re-running every iteration from its first page, as this does, repeats
   * more work but writes the same staging keys, so the outcome at the feed is the same.
   */
  readonly redriveOf?: Plan;
  /** Kills the execution where it is, as a crashed or killed process would leave it. */
  readonly kill?: AbortSignal;
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
  collector: Collector,
  options: RunOptions = {},
): Promise<ExecutionOutcome> {
  const executionName = options.executionName ?? `local-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const invocations = { Plan: 0, FetchPages: 0, Commit: 0 };
  let timeouts = 0;
  let plan: Plan | undefined = options.redriveOf;
  const timeoutMs = options.lambdaTimeoutMs ?? 900_000;
  // biome-ignore lint/suspicious/noExplicitAny: each handler takes the event type its state sends
  const handlers: Record<keyof typeof TASKS, (event: any, context: Context) => Promise<unknown>> = {
    Plan: planHandler(() => collector),
    FetchPages: fetchPageHandler(() => collector),
    Commit: commitHandler(() => collector),
  };
  const local = Object.fromEntries(
    Object.entries(handlers).map(([state, handler]) => [
      state,
      async (event: JSONValue) => {
        invocations[state as keyof typeof TASKS] += 1;
        const name = TASKS[state as keyof typeof TASKS];
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
          const result = await Promise.race([handler(event, lambdaContext(name, timeoutMs)), timedOut]);
          if (state === 'Plan') plan = result as Plan;
          return result as JSONValue;
        } finally {
          clearTimeout(timer);
        }
      },
    ]),
  );
  const retryOverrides = Object.fromEntries(
    Object.keys(TASKS).map((s) => [s, options.retryIntervalMs ?? 1000]),
  );
  const definition = loadDefinition();
  const { Plan: _planned, ...afterPlan } = definition.States;
  const machine = new StateMachine(
    options.redriveOf ? { ...definition, StartAt: 'Hours', States: afterPlan } : definition,
    // The definition is validated where it is built (serverless package runs asl-validator, and the
    // packaging test checks the template); validating it again here costs ~0.3 s per execution.
    { validationOptions: { noValidate: true } },
  );
  const input = (options.redriveOf ?? options.input ?? {}) as JSONValue;
  const run = machine.run(input, {
    overrides: { taskResourceLocalHandlers: local, retryIntervalOverrides: retryOverrides },
    context: {
      Execution: {
        Id: `arn:aws:states:us-east-1:000000000000:execution:local:${executionName}`,
        Name: executionName,
        Input: input,
        StartTime: new Date().toISOString(),
      },
    },
  });
  options.kill?.addEventListener('abort', () => run.abort(), { once: true });
  try {
    const output = (await run.result) as unknown as ExecutionOutcome['output'];
    return { status: 'SUCCEEDED', executionName, plan, output, invocations, timeouts };
  } catch (err) {
    if (err instanceof ExecutionAbortedError)
      return { status: 'ABORTED', executionName, plan, invocations, timeouts };
    if (!(err instanceof ExecutionError)) throw err;
    const inner = (err as { cause?: unknown }).cause as
      | { name?: string; message?: string; cause?: unknown }
      | undefined;
    const original = (inner?.cause ?? inner) as { name?: string; message?: string } | undefined;
    return {
      status: 'FAILED',
      executionName,
      plan,
      error: original?.name ?? err.name,
      cause: original?.message ?? err.message,
      invocations,
      timeouts,
    };
  }
}
