import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ZodError, type z } from 'zod';
import { BadConfiguration, RETRIABLE_ERRORS } from '../domain/errors.ts';
import type { Telemetry } from '../domain/ports.ts';
import { describeIssues } from '../domain/schemas.ts';
import type { Fleet } from '../domain/tenants.ts';

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
    `The ${task} step received an event it cannot read (${detail}) and did nothing. Either the execution was started before a deploy that changed the events the steps exchange: start a new execution instead of redriving it (the next scheduled run collects every window not yet published). Or the state machine and the functions were deployed apart: deploy them together (npx serverless deploy).`,
  );
}

const retriable = (name: string) => RETRIABLE_ERRORS.some((r) => r === name);

/** Where a step logs, and its name (a failure's line says `<step> failed`). */
export interface StepLog {
  readonly log: Telemetry['log'];
  readonly step: string;
}

/**
 * Logs the failure of a step before the state machine sees it, so that an operator filtering the logs by
 * level finds it: at `warn` when the state machine retries it (a retry may cure it), at `error` when it
 * fails the step for good. Returns the error, for the handler to throw.
 */
export function loggedFailure(
  { log, step }: StepLog,
  err: unknown,
  fields: Record<string, unknown> = {},
): unknown {
  const error = err instanceof Error ? { error: err.name, cause: err.message } : { error: String(err) };
  const level = err instanceof Error && retriable(err.name) ? 'warn' : 'error';
  log(`${step} failed`, { ...fields, ...error }, level);
  return err;
}

/** A Task and the schema of its event. */
export interface TaskEvent<TSchema extends z.ZodType> {
  /** The Task's name, as an error about its event names it. */
  readonly step: string;
  readonly schema: TSchema;
}

/** What a Task's work is given besides its event: the collector's fleet and the Lambda context. */
export interface TaskScope {
  readonly fleet: Fleet;
  readonly context: Context;
}

/**
 * A Task's Lambda handler, to be built on a fleet (the Lambdas' from the environment, the local runner's and
 * the tests' their own) and middlewares (Powertools' in Lambda, none in tests): the middlewares, then the
 * Powertools parser with the Task's event schema, then `work` on the event ({@link eventOf}: one that does
 * not fit fails the step with BadConfiguration naming `step`).
 */
export function taskHandler<TSchema extends z.ZodType, R>(
  { step, schema }: TaskEvent<TSchema>,
  work: (event: z.output<TSchema>, scope: TaskScope) => Promise<R>,
) {
  return (fleet: () => Fleet, middlewares: middy.MiddlewareObj[] = []) =>
    middy<ParsedResult<unknown, z.output<TSchema>>, R, Error, Context>()
      .use(middlewares)
      .use(parser({ schema, safeParse: true }))
      .handler((parsed, context) => work(eventOf(parsed, step), { fleet: fleet(), context }));
}
