/**
 * The CLI's expected failures. Each carries the exit code a script can rely on, from the one contract
 * (exit-codes.ts; `citrix-monitor --help`); main prints the message, never a stack trace.
 */
import { BadConfiguration } from '../functions/domain/errors.ts';
import { type ExitCode, exitCodeOfError } from './exit-codes.ts';

abstract class CliError extends Error {
  abstract override readonly name: string;
  abstract readonly exitCode: ExitCode;
}

/** A CLI error class: its name, whose exit code the contract gives. */
const failure = <N extends string>(name: N) =>
  class extends CliError {
    override readonly name: N = name;
    readonly exitCode = exitCodeOfError(name);
  };

/** Bad arguments: the message says which and what was expected. Exit 2. */
export class UsageError extends failure('UsageError') {}

/** `--tenant` names no tenant of the tenant list (or there is no list): a configuration problem. Exit 2. */
export class UnknownTenant extends failure('UnknownTenant') {}

/** No state machine `citrix-monitor-collector-<stage>` in the region: a configuration problem. Exit 2. */
export class StateMachineNotFound extends failure('StateMachineNotFound') {}

/** The AWS SDK's names for credentials that are missing, unknown or expired (by name, not by message). */
const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
]);

/** An AWS API call failed (permissions, throttling, network). Exit 3. */
export class AwsCallFailed extends failure('AwsCallFailed') {
  constructor(what: string, cause: unknown) {
    const name = cause instanceof Error ? cause.name : 'Error';
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`${what} failed: ${name}: ${message}.`, { cause });
  }
}

/**
 * Why the AWS call `what` failed, in the contract's terms: AWS credentials that are missing, expired or
 * refused are a setting to fix, not an outage, so they are a BadConfiguration (exit 2), as the S3 store
 * (functions/adapters/s3-store.ts) says of them whichever call meets them first; any other failure is
 * {@link AwsCallFailed} (exit 3).
 */
export function awsCallFailure(what: string, cause: unknown): Error {
  if (!(cause instanceof Error && CREDENTIAL_ERRORS.has(cause.name))) return new AwsCallFailed(what, cause);
  return new BadConfiguration(
    `${what} failed: the AWS credentials are missing, expired or refused (${cause.name}: ${cause.message}). Check the AWS credentials (AWS_PROFILE, or aws sso login).`,
    { cause },
  );
}

/** Whether an error is one of the CLI's own expected failures. */
export function isCliError(err: unknown): err is CliError {
  return err instanceof CliError;
}

/**
 * Runs one AWS call, turning any failure into {@link AwsCallFailed} naming the call. Errors of the
 * collector's own vocabulary (a state file that cannot be read) pass through unchanged.
 */
export async function aws<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof Error && (err.name === 'StateCorrupt' || err.name === 'BadConfiguration')) throw err;
    throw awsCallFailure(what, err);
  }
}
