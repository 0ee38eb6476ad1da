/**
 * Typed failures. Each class's `name` is part of the contract with the state machine: the ASL
 * `Retry`/`Catch` blocks of the state machine (statemachine/collector.asl.ts, which writes
 * collector.asl.json) match on these names, so they are few and stable. What each means and how the state
 * machine treats it is {@link ERROR_CONTRACT}, the one list of them; docs/design.md's error table is
 * generated from it and the ASL's RAISES and RETRIERS (`npm run asl`, statemachine/error-tables.ts).
 */
export abstract class CollectorError extends Error {
  abstract override readonly name: string;
  /** The start of the window the error was raised in (as its Task has it), when the raiser knows it. */
  readonly window: string | undefined;
  /** The entity the error was raised fetching, when the raiser knows it. */
  readonly entity: string | undefined;

  constructor(message: string, options: ErrorOptions & { window?: string; entity?: string } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.window = options.window;
    this.entity = options.entity;
  }
}

/** A class of the contract: its `name`, one of {@link ERROR_CONTRACT}, is what the state machine's Retry and Catch match. */
const contractError = <N extends ErrorName>(name: N) =>
  class extends CollectorError {
    override readonly name: N = name;
  };

// The classes of the contract: what each means is its entry in ERROR_CONTRACT.
export class CitrixThrottled extends contractError('CitrixThrottled') {}
export class CitrixTransient extends contractError('CitrixTransient') {}
export class CitrixAuthFailed extends contractError('CitrixAuthFailed') {}
export class StorageTransient extends contractError('StorageTransient') {}
export class StateContended extends contractError('StateContended') {}
export class BadConfiguration extends contractError('BadConfiguration') {}
export class CitrixBadQuery extends contractError('CitrixBadQuery') {}
export class ForeignNextLink extends contractError('ForeignNextLink') {}
export class StateCorrupt extends contractError('StateCorrupt') {}
export class TenantsFailed extends contractError('TenantsFailed') {}
export class RedeployedSinceStart extends contractError('RedeployedSinceStart') {}
export class TimeBoxClosed extends contractError('TimeBoxClosed') {}

/**
 * The failure of the environment's one tenant, raised again after the map over tenants under its own
 * name (CitrixTransient, BadConfiguration, …), so that a deployment without a tenant list fails as it
 * always did.
 */
export class RaisedAgain extends Error {
  override readonly name: string;
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** How the state machine treats an error: retries it, fails at once, or (an Express child) hands the tenant on. */
export type Treatment = 'fatal' | 'retriable' | 'handed-on';

/**
 * How the state machine treats each error, and what it means (Markdown, as docs/design.md's error table
 * shows it): the one source of the contract. A Task state retries each `retriable` error its handler can
 * raise with a retrier of its own (statemachine/collector.asl.ts) and never a `fatal` one; an Express child
 * hands its tenant on for a `handed-on` one (and for every retriable one); no Task retries `States.ALL`, so
 * an error outside this list (a bug) is never retried. Every error class above is listed here:
 * test/unit/error-contract.test.ts checks it.
 */
export const ERROR_CONTRACT = {
  CitrixThrottled: {
    treatment: 'retriable',
    meaning: '429 persisted after the retries inside the Lambda',
  },
  CitrixTransient: {
    treatment: 'retriable',
    meaning:
      '5xx, reset, timeout, a connection that cannot be made, truncated or non-JSON body (an HTML gateway page)',
  },
  CitrixAuthFailed: {
    treatment: 'retriable',
    meaning: 'client refused by the token endpoint, 401 with a fresh token, or 403',
  },
  StorageTransient: {
    treatment: 'retriable',
    meaning:
      "an S3, Secrets Manager or network error that outlasted the AWS SDK's own retries (503 SlowDown, 500 InternalError, a reset, a timeout, a refused connection); the message names the bucket and the endpoint",
  },
  StateContended: {
    treatment: 'retriable',
    meaning:
      'the compare-and-swap of the state file or of a commit record kept losing to another writer: the file is readable, only busy',
  },
  BadConfiguration: {
    treatment: 'fatal',
    meaning:
      "a setting is missing or invalid (`API_BASE` with a path, or whose token endpoint answers 404), S3's too (a bucket that does not exist, access denied, missing credentials, no `AWS_REGION`), the client secret is still the stack's placeholder, or a Task event does not fit its schema; the message names it and what to set",
  },
  CitrixBadQuery: {
    treatment: 'fatal',
    meaning: '400/404: the entity, its time field or its key is not accepted',
  },
  ForeignNextLink: {
    treatment: 'fatal',
    meaning: 'a nextLink points away from `API_BASE`; the token was not sent',
  },
  StateCorrupt: {
    treatment: 'fatal',
    meaning:
      'the state file, a commit record or a record of the run (its tenant list, a failure record) cannot be read',
  },
  TenantsFailed: {
    treatment: 'fatal',
    meaning:
      'tenants of the tenant list failed (raised by Report once every tenant is done; the others committed)',
  },
  RedeployedSinceStart: {
    treatment: 'fatal',
    meaning:
      "the execution runs a state machine definition other than the one deployed with today's functions: a redrive (or an execution in flight) across a redeploy that changed the definition; start a new execution",
  },
  TimeBoxClosed: {
    treatment: 'handed-on',
    meaning:
      "an Express child's fetch deadline (`EXPRESS_FETCH_SECONDS`) passed mid-window; what was fetched is staged and kept (resume.ts). Raised only in an Express child",
  },
} as const satisfies Record<string, { treatment: Treatment; meaning: string }>;

export type ErrorName = keyof typeof ERROR_CONTRACT;

const isErrorName = (name: string): name is ErrorName => Object.hasOwn(ERROR_CONTRACT, name);

/** Every error name of the contract, in its order. */
export const ERROR_NAMES: readonly ErrorName[] = Object.keys(ERROR_CONTRACT).filter(isErrorName);

const named = (kind: Treatment) => ERROR_NAMES.filter((name) => ERROR_CONTRACT[name].treatment === kind);

/** Error names that a retry may cure. */
export const RETRIABLE_ERRORS: readonly ErrorName[] = named('retriable');
/** Error names that fail the execution at once: a retry would fail the same way. */
export const FATAL_ERRORS: readonly ErrorName[] = named('fatal');
/** Error names an Express child raises to hand its tenant on to a Standard child; a Standard one never does. */
export const HANDED_ON: readonly ErrorName[] = named('handed-on');
