/**
 * Typed failures. Each class's `name` is part of the contract with the state machine: the ASL
 * `Retry`/`Catch` blocks of the state machine (statemachine/collector.asl.ts, which writes
 * collector.asl.json) match on these names, so they are few, stable, and documented in docs/design.md beside
 * the ASL.
 *
 * | name                 | meaning                                                       | ASL        |
 * |----------------------|---------------------------------------------------------------|------------|
 * | CitrixThrottled      | 429 persisted past the in-invocation retries                  | retried    |
 * | CitrixTransient      | 5xx, reset, timeout, truncated or non-JSON (e.g. HTML) body   | retried    |
 * | CitrixAuthFailed     | token refused, or 401 after a fresh token, or 403             | retried 2x |
 * | StorageTransient     | S3 / Secrets Manager / network error past the SDK's retries   | retried    |
 * | BadConfiguration     | a setting is missing or invalid                               | fatal      |
 * | CitrixBadQuery       | 400/404: the entity or its filter is not accepted             | fatal      |
 * | ForeignNextLink      | a nextLink points away from the configured API origin         | fatal      |
 * | StateCorrupt         | the state file or a commit record cannot be read              | fatal      |
 * | StateContended       | a compare-and-swap of the state kept losing to another writer | retried    |
 * | TenantsFailed        | tenants of the list failed (the others committed)             | fatal      |
 * | RedeployedSinceStart | the execution's definition is not the deployed functions' one | fatal      |
 * | TimeBoxClosed        | an Express child's fetch deadline passed mid-window           | handed on  |
 */
export abstract class CollectorError extends Error {
  abstract override readonly name: string;
}

/** A class of the contract: its `name` is what the state machine's Retry and Catch match. */
const contractError = <N extends string>(name: N) =>
  class extends CollectorError {
    override readonly name: N = name;
  };

/** 429 persisted past the in-invocation retries. */
export class CitrixThrottled extends contractError('CitrixThrottled') {}
/** 5xx, reset, timeout, truncated or non-JSON (e.g. HTML) body. */
export class CitrixTransient extends contractError('CitrixTransient') {}
/** Token refused, or 401 after a fresh token, or 403. */
export class CitrixAuthFailed extends contractError('CitrixAuthFailed') {}
/**
 * An S3 or network error that outlasted the AWS SDK's own retries (503 SlowDown, 500 InternalError, a reset,
 * a timeout, a refused connection): the message names the bucket and the endpoint.
 */
export class StorageTransient extends contractError('StorageTransient') {}
/** A setting is missing or invalid (an S3 bucket, region or credentials too), or a Task event does not fit its schema. */
export class BadConfiguration extends contractError('BadConfiguration') {}
/** 400/404: the entity, its filter or its key is not accepted. */
export class CitrixBadQuery extends contractError('CitrixBadQuery') {}
/** A nextLink points away from the configured API origin. */
export class ForeignNextLink extends contractError('ForeignNextLink') {}
/** The state file or a commit record cannot be read. */
export class StateCorrupt extends contractError('StateCorrupt') {}
/**
 * A compare-and-swap of the state file or of a window's commit record kept losing to another writer: the
 * file is readable, only busy, so a retry (after the other writer is done) cures it.
 */
export class StateContended extends contractError('StateContended') {}
/** Tenants of the tenant list failed; the others committed their hours. Raised once every tenant is done. */
export class TenantsFailed extends contractError('TenantsFailed') {}

/**
 * The execution runs a state machine definition other than the one these functions were deployed with: it
 * was started by an earlier deployment, and is being redriven (or ran on) with today's functions.
 */
export class RedeployedSinceStart extends contractError('RedeployedSinceStart') {}

/**
 * An Express child's fetch deadline passed with its window unfinished: what was fetched is staged and
 * recorded for the run (resume.ts), and the child hands the tenant on to a Standard child of the same run,
 * which carries on from there. Raised only in an Express child.
 */
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

/**
 * How the state machine treats each error: the one source of the contract. A Task state retries each
 * `retriable` error its handler can raise with a retrier of its own (statemachine/collector.asl.ts) and
 * never a `fatal` one; an Express child hands its tenant on for a `handed-on` one (and for every retriable
 * one); no Task retries `States.ALL`, so an error outside this list (a bug) is never
 * retried. Every error class above is listed here: test/unit/error-contract.test.ts checks it.
 */
export const ERROR_CONTRACT = {
  CitrixThrottled: 'retriable',
  CitrixTransient: 'retriable',
  CitrixAuthFailed: 'retriable',
  StorageTransient: 'retriable',
  StateContended: 'retriable',
  BadConfiguration: 'fatal',
  CitrixBadQuery: 'fatal',
  ForeignNextLink: 'fatal',
  StateCorrupt: 'fatal',
  TenantsFailed: 'fatal',
  RedeployedSinceStart: 'fatal',
  TimeBoxClosed: 'handed-on',
} as const satisfies Record<string, 'fatal' | 'retriable' | 'handed-on'>;

export type ErrorName = keyof typeof ERROR_CONTRACT;

const isErrorName = (name: string): name is ErrorName => Object.hasOwn(ERROR_CONTRACT, name);

const named = (kind: 'fatal' | 'retriable' | 'handed-on') =>
  Object.keys(ERROR_CONTRACT)
    .filter(isErrorName)
    .filter((name) => ERROR_CONTRACT[name] === kind);

/** Error names that a retry may cure. */
export const RETRIABLE_ERRORS: readonly ErrorName[] = named('retriable');
/** Error names that fail the execution at once: a retry would fail the same way. */
export const FATAL_ERRORS: readonly ErrorName[] = named('fatal');
/** Error names an Express child raises to hand its tenant on to a Standard child; a Standard one never does. */
export const HANDED_ON: readonly ErrorName[] = named('handed-on');
