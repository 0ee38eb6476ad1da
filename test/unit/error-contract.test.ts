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
  Branches?: Array<{ States: Record<string, State> }>;
}

const asl = JSON.parse(
  readFileSync(new URL('../../statemachine/collector.asl.json', import.meta.url), 'utf8'),
) as {
  States: Record<string, State>;
};

/** Every Task state, at any depth of Map iterators and Parallel branches. */
function tasks(states: Record<string, State>): Array<[string, State]> {
  return Object.entries(states).flatMap(([name, state]) => [
    ...(state.Type === 'Task' ? [[name, state] as [string, State]] : []),
    ...(state.ItemProcessor ? tasks(state.ItemProcessor.States) : []),
    ...(state.Branches ?? []).flatMap((branch) => tasks(branch.States)),
  ]);
}

/** The retrier Step Functions applies to an error: the first whose ErrorEquals names it, or States.ALL. */
const retrierFor = (state: State, error: string) =>
  state.Retry?.find((r) => r.ErrorEquals.includes(error) || r.ErrorEquals.includes('States.ALL'));

const ALL_TASKS = tasks(asl.States);
/**
 * Report raises again what the tenants' steps already retried (TenantsFailed, or the one tenant's own
 * error): it retries Lambda's errors alone. Every other Task follows the contract.
 */
const REPORT = ALL_TASKS.find(([name]) => name === 'Report')?.[1];
const TASKS = ALL_TASKS.filter(([name]) => name !== 'Report');
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

  it('finds the six Task states of the workflow', () => {
    expect(ALL_TASKS.map(([name]) => name).sort()).toEqual([
      'Commit',
      'Failed',
      'FetchPages',
      'Plan',
      'Report',
      'Tenants',
    ]);
  });

  it('retries no error of ours in Report, which raises failures that had their retries', () => {
    for (const error of Object.keys(ERROR_CONTRACT))
      expect(REPORT && retrierFor(REPORT, error), error).toMatchObject({ MaxAttempts: 0 });
    expect(REPORT && retrierFor(REPORT, 'Lambda.ServiceException')?.MaxAttempts).toBeGreaterThan(0);
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
