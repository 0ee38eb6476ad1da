/**
 * What AWS enforces on a run and aws-local-stepfunctions does not, as the local runner (packages/testkit/src/workflow.ts)
 * enforces it, in every test and in `npm start` / `npm run collect`:
 * - 25,000 history events per execution, the parent and each Distributed Map child on its own, counted as
 *   Step Functions writes them: at the limit the execution fails `States.Runtime` ("The execution reached
 *   the maximum number of history events (25000)."), which no Catch catches;
 * - 256 KiB for a state's input and output and a Task's result: `States.DataLimitExceeded`, which no Catch
 *   catches either (`States.ALL` does not match it);
 * - each Lambda function's timeout (serverless.yml), after which Lambda reports `Sandbox.Timedout`;
 * - the account's Lambda concurrency, shared by every invocation of the run: one over it fails
 *   `Lambda.TooManyRequestsException`, as Lambda throttles it.
 * - an Express child's 5 minutes (packages/testkit/src/workflow.ts, `expressTimeoutMs`): past them it fails
 *   `States.Timeout`, uncaught, and its Map Run fails the parent; an Express child has no history quota.
 * Each child execution gets its own `$$.Execution` (id, name, start time, redrive count), as in AWS.
 */

import { PER_ENTRY, PER_EXECUTION, PER_ITERATION } from './history.ts';

/** Step Functions' quota of history events per Standard execution. */
export const HISTORY_EVENTS_LIMIT = 25_000;
/** Step Functions' quota for a state's input or output, and a Task's result, in bytes (UTF-8). */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;
/**
 * The Lambda concurrency the runner allows by default. AWS's "Lambda quotas" says new accounts have a
 * reduced concurrency quota (1,000 by default otherwise) and gives no figure; 10 is the figure new accounts
 * report in the console, the lowest seen, so the tests run there.
 */
export const NEW_ACCOUNT_CONCURRENCY = 10;

/** Each function's Lambda timeout in seconds, as serverless.yml sets it (test/package/timeouts.test.ts ties them). */
export const LAMBDA_TIMEOUT_SECONDS = {
  tenants: 60,
  plan: 60,
  fetchPage: 900,
  commit: 900,
  failed: 30,
  report: 30,
  handOn: 30,
} as const;

/** A failure Step Functions raises itself, under its own name, which a Catch of this project never names. */
export class StepFunctionsError extends Error {
  override readonly name: string;
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** What Lambda answers an invocation over the account's concurrency: Step Functions names it so. */
export const throttled = (fn: string, limit: number) =>
  new StepFunctionsError(
    'Lambda.TooManyRequestsException',
    `Rate Exceeded. (Service: Lambda, Status Code: 429; the account's ${limit} concurrent executions are in use, invoking ${fn})`,
  );

/** The failure of an execution whose history reached the quota, as Step Functions words it. */
export const historyFull = () =>
  new StepFunctionsError(
    'States.Runtime',
    `The execution reached the maximum number of history events (${HISTORY_EVENTS_LIMIT}).`,
  );

/** The failure of a state whose data passed the payload quota. */
export const dataLimitExceeded = (what: string, bytes: number) =>
  new StepFunctionsError(
    'States.DataLimitExceeded',
    `The ${what} has a size of ${bytes} bytes, which exceeds the maximum of ${PAYLOAD_LIMIT_BYTES} bytes.`,
  );

/** The size of a value as Step Functions measures a payload: its JSON text in UTF-8. */
export const payloadBytes = (value: unknown): number =>
  Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');

/** The account's Lambda concurrency: every invocation of a run, parent and children, takes one slot. */
export class AccountConcurrency {
  private inFlight = 0;
  /** The most invocations that ran at once. */
  peak = 0;
  /** Invocations refused for want of a slot. */
  throttles = 0;

  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  /** Takes a slot for an invocation of `fn`, or throws what Lambda answers when there is none. */
  acquire(fn: string): () => void {
    if (this.inFlight >= this.limit) {
      this.throttles += 1;
      throw throttled(fn, this.limit);
    }
    this.inFlight += 1;
    this.peak = Math.max(this.peak, this.inFlight);
    let released = false;
    return () => {
      if (!released) this.inFlight -= 1;
      released = true;
    };
  }
}

/** The parts of aws-local-stepfunctions' event log that the meter reads. */
export interface LoggedEvent {
  readonly type: string;
  readonly state?: { readonly name: string; readonly type: string; readonly output?: unknown };
  readonly parentState?: { readonly name: string };
}

/**
 * One execution's history, counted from its local event log as Step Functions writes it: a state's events
 * when it is entered (a Task 5, a Map or Parallel 4, any other 2), 3 per retry of a Task, 2 per inline Map
 * iteration, 2 for the execution. A Distributed Map's children write their events in their own
 * histories, and the map its 4 in the parent's.
 */
export class HistoryMeter {
  events = PER_EXECUTION;
  /** The largest state output seen, in bytes. */
  largestOutput = 0;

  /**
   * `hidden`: the runner's own states, which write nothing; `distributed`: the Distributed Maps, whose
   * iterations are child executions and write nothing here.
   */
  private readonly hidden: ReadonlySet<string>;
  private readonly distributed: ReadonlySet<string>;
  /** False for an Express execution, whose history AWS does not keep: no 25,000-event quota. */
  private readonly keepsHistory: boolean;
  constructor(
    hidden: ReadonlySet<string> = new Set(),
    distributed: ReadonlySet<string> = new Set(),
    keepsHistory = true,
  ) {
    this.hidden = hidden;
    this.distributed = distributed;
    this.keepsHistory = keepsHistory;
  }

  /** Whether `event` is none of this execution's history: the runner's own, or of a child execution. */
  hides(event: LoggedEvent): boolean {
    if (event.parentState && this.distributed.has(event.parentState.name)) return true;
    return event.state !== undefined && this.hidden.has(event.state.name);
  }

  /** The quota this execution passed: nothing is counted after it, as AWS writes nothing after it. */
  private failed: StepFunctionsError | undefined;

  /** Counts one event; returns the failure it brings about, if it passes a quota. */
  count(event: LoggedEvent): StepFunctionsError | undefined {
    if (this.failed || this.hides(event)) return undefined;
    this.failed = this.measure(event);
    return this.failed;
  }

  private measure(event: LoggedEvent): StepFunctionsError | undefined {
    if (event.type === 'StateEntered') this.events += PER_ENTRY[event.state?.type ?? ''] ?? 2;
    if (event.type === 'StateRetried') this.events += 3;
    if (event.type === 'MapIterationStarted' || event.type === 'MapIterationSucceeded')
      this.events += PER_ITERATION / 2;
    if (event.type === 'StateExited' && event.state) {
      const bytes = payloadBytes(event.state.output);
      this.largestOutput = Math.max(this.largestOutput, bytes);
      if (bytes > PAYLOAD_LIMIT_BYTES) return dataLimitExceeded(`output of state ${event.state.name}`, bytes);
    }
    // The failure is the quota's last event: the execution fails once the others fill the rest.
    return this.keepsHistory && this.events >= HISTORY_EVENTS_LIMIT ? historyFull() : undefined;
  }
}
