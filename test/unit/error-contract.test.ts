import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errors from '../../functions/domain/errors.ts';
import { ERROR_CONTRACT, FATAL_ERRORS, RETRIABLE_ERRORS } from '../../functions/domain/errors.ts';

// The ASL file as it is deployed (serverless-step-functions substitutes only the function ARNs), checked
// against the error contract of functions/domain/errors.ts.

interface Retrier {
  ErrorEquals: string[];
  MaxAttempts?: number;
}
interface State {
  Type: string;
  Retry?: Retrier[];
  Catch?: Array<{ ErrorEquals: string[] }>;
  ItemProcessor?: { States: Record<string, State> };
}

const asl = JSON.parse(
  readFileSync(new URL('../../statemachine/collector.asl.json', import.meta.url), 'utf8'),
) as {
  States: Record<string, State>;
};

/** Every Task state, at any depth of Map iterators. */
function tasks(states: Record<string, State>): Array<[string, State]> {
  return Object.entries(states).flatMap(([name, state]) => [
    ...(state.Type === 'Task' ? [[name, state] as [string, State]] : []),
    ...(state.ItemProcessor ? tasks(state.ItemProcessor.States) : []),
  ]);
}

/** The retrier Step Functions applies to an error: the first whose ErrorEquals names it, or States.ALL. */
const retrierFor = (state: State, error: string) =>
  state.Retry?.find((r) => r.ErrorEquals.includes(error) || r.ErrorEquals.includes('States.ALL'));

const TASKS = tasks(asl.States);
const ERROR_CLASSES = (Object.values(errors) as unknown[]).filter(
  (value): value is new (message: string) => Error =>
    typeof value === 'function' && value.prototype instanceof errors.CollectorError,
);

describe('the error contract', () => {
  it('lists every error class of errors.ts, so none falls into States.ALL unnoticed', () => {
    const names = ERROR_CLASSES.map((ErrorClass) => new ErrorClass('x').name);

    expect(names.length).toBeGreaterThan(0);
    expect(names.sort()).toEqual(Object.keys(ERROR_CONTRACT).sort());
  });

  it('finds the three Task states of the workflow', () => {
    expect(TASKS.map(([name]) => name).sort()).toEqual(['Commit', 'FetchPages', 'Plan']);
  });

  it.each(TASKS)('gives no retry to any fatal error in %s', (_name, state) => {
    for (const error of FATAL_ERRORS)
      expect(retrierFor(state, error), error).toMatchObject({ MaxAttempts: 0 });
  });

  it.each(TASKS)('gives each retriable error a retrier of its own in %s', (_name, state) => {
    for (const error of RETRIABLE_ERRORS) {
      expect(retrierFor(state, error), error).toMatchObject({ ErrorEquals: [error] });
      expect(retrierFor(state, error)?.MaxAttempts ?? 3, error).toBeGreaterThan(0);
    }
  });

  it.each(TASKS)(
    "names in %s no error that is neither ours nor Step Functions' or Lambda's",
    (_name, state) => {
      const named = [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((r) => r.ErrorEquals);
      const foreign = named.filter((e) => !(e in ERROR_CONTRACT) && !/^(States|Lambda|Sandbox)\./.test(e));

      expect(foreign).toEqual([]);
    },
  );
});
