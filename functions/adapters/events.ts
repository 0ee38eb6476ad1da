import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import { ZodError } from 'zod';
import { BadConfiguration } from '../domain/errors.ts';
import { describeIssues } from '../domain/schemas.ts';

/**
 * The event the Powertools parser middleware read (`safeParse: true`), or {@link BadConfiguration}
 * naming the Task and each field that does not fit: a state machine and functions deployed apart, or
 * an execution input written by hand. A retry would fail the same way, so the error is fatal.
 */
export function eventOf<T>(result: ParsedResult<unknown, T>, task: string): T {
  if (result.success) return result.data;
  const cause = (result.error as { cause?: unknown }).cause;
  const detail =
    cause instanceof ZodError || Array.isArray(cause) ? describeIssues(cause) : result.error.message;
  throw new BadConfiguration(
    `The ${task} step received an event it cannot read (${detail}). Deploy the state machine and the functions together (npx serverless deploy).`,
  );
}
