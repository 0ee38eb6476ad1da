import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { commitHandler } from '../functions/commit.ts';
import type { Collector, CommitResult, Plan } from '../functions/commons/collector.ts';
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
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly executionName: string;
  readonly output?: Plan & { committed: CommitResult[] };
  /** On failure: the error name (from functions/commons/errors.ts) and its message. */
  readonly error?: string;
  readonly cause?: string;
  /** Handler invocations by task state, counted here because the local event log can drop Map events. */
  readonly invocations: Record<keyof typeof TASKS, number>;
}

export interface RunOptions {
  readonly input?: { hour?: string };
  readonly executionName?: string;
  /** Pause between ASL retries, in ms (the ASL's own intervals are seconds to minutes). */
  readonly retryIntervalMs?: number;
  /** The Lambda timeout that the fetch handler sees through `getRemainingTimeInMillis`. */
  readonly lambdaTimeoutMs?: number;
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
        return (await handler(
          event,
          lambdaContext(TASKS[state as keyof typeof TASKS], timeoutMs),
        )) as JSONValue;
      },
    ]),
  );
  const retryOverrides = Object.fromEntries(
    Object.keys(TASKS).map((s) => [s, options.retryIntervalMs ?? 1000]),
  );
  const machine = new StateMachine(loadDefinition(), { validationOptions: { checkArn: true } });
  const input = options.input ?? {};
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
  try {
    const output = (await run.result) as unknown as ExecutionOutcome['output'];
    return { status: 'SUCCEEDED', executionName, output, invocations };
  } catch (err) {
    if (!(err instanceof ExecutionError)) throw err;
    const inner = (err as { cause?: unknown }).cause as
      | { name?: string; message?: string; cause?: unknown }
      | undefined;
    const original = (inner?.cause ?? inner) as { name?: string; message?: string } | undefined;
    return {
      status: 'FAILED',
      executionName,
      error: original?.name ?? err.name,
      cause: original?.message ?? err.message,
      invocations,
    };
  }
}
