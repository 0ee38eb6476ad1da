import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import { ZodError } from 'zod';
import { BadConfiguration, RETRIABLE_ERRORS } from '../domain/errors.ts';
import type { Telemetry } from '../domain/ports.ts';
import { describeIssues } from '../domain/schemas.ts';

/**
 * The event the Powertools parser middleware read (`safeParse: true`), or {@link BadConfiguration}
 * naming the Task and each field that does not fit: a state machine and functions deployed apart, or
 * an execution input written by hand. A retry would fail the same way, so the error is fatal.
 */
export function eventOf<T>(result: ParsedResult<unknown, T>, task: string): T {
  if (result.success) return result.data;
  const cause = result.error.cause;
  const detail =
    cause instanceof ZodError || Array.isArray(cause) ? describeIssues(cause) : result.error.message;
  throw new BadConfiguration(
    `The ${task} step received an event it cannot read (${detail}). Deploy the state machine and the functions together (npx serverless deploy).`,
  );
}

const retriable = (name: string) => RETRIABLE_ERRORS.some((r) => r === name);

/**
 * Logs the failure of a step before the state machine sees it, so that an operator filtering the logs by
 * level finds it: at `warn` when the state machine retries it (a retry may cure it), at `error` when it
 * fails the step for good. Returns the error, for the handler to throw.
 */
export function loggedFailure(
  log: Telemetry['log'],
  step: string,
  err: unknown,
  fields: Record<string, unknown> = {},
): unknown {
  const error = err instanceof Error ? { error: err.name, cause: err.message } : { error: String(err) };
  const level = err instanceof Error && retriable(err.name) ? 'warn' : 'error';
  log(`${step} failed`, { ...fields, ...error }, level);
  return err;
}
