import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errors from '../../functions/domain/errors.ts';
import { ERROR_CONTRACT, FATAL_ERRORS, RETRIABLE_ERRORS } from '../../functions/domain/errors.ts';
import {
  ASL_JSON_PATH,
  definition,
  HANDED_ON_ERRORS,
  INTERRUPTED_ERRORS,
  LAMBDA_SERVICE_ERRORS,
  LAMBDA_THROTTLED,
  longestWaitSeconds,
  RAISES,
  RETRIERS,
} from '../../statemachine/collector.asl.ts';

// The ASL file as it is deployed (serverless-step-functions substitutes only the function ARNs), checked
// against its source (statemachine/collector.asl.ts) and the error contract of functions/domain/errors.ts.

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}
interface State {
  Type: string;
  Retry?: Retrier[];
  Catch?: Array<{ ErrorEquals: string[] }>;
  TimeoutSeconds?: number;
  ItemProcessor?: { States: Record<string, State> };
  Branches?: Array<{ States: Record<string, State> }>;
}

const text = readFileSync(ASL_JSON_PATH, 'utf8');
const asl = JSON.parse(text) as { States: Record<string, State> };

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

/** The errors a Task retries: every name of a retrier that gives at least one retry. */
const retried = (state: State) =>
  (state.Retry ?? []).filter((r) => (r.MaxAttempts ?? 3) > 0).flatMap((r) => r.ErrorEquals);

/** The Express child's states carry this suffix; each of its Tasks is served by the function of its kind. */
const ON_TIME = ' (on time)';
const ALL_TASKS = tasks(asl.States);
/** The Tasks of the parent and of the Standard children, which retry by the contract. */
const TASKS = ALL_TASKS.filter(([name]) => !name.endsWith(ON_TIME));
/** The Tasks of the Express children, which hand the tenant on instead of retrying. */
const EXPRESS_TASKS = ALL_TASKS.filter(([name]) => name.endsWith(ON_TIME));
const raisesOf = (name: string): readonly string[] => RAISES[name as keyof typeof RAISES] ?? [];
const ERROR_CLASSES = (Object.values(errors) as unknown[]).filter(
  (value): value is new (message: string) => Error =>
    typeof value === 'function' && value.prototype instanceof errors.CollectorError,
);

describe('the state machine definition', () => {
  it('is what its source writes (run npm run asl after changing statemachine/collector.asl.ts)', () => {
    expect(JSON.stringify(asl)).toBe(JSON.stringify(definition));
  });

  it('finds the seven Task states of the workflow, each with the errors its handler raises', () => {
    expect(TASKS.map(([name]) => name).sort()).toEqual(Object.keys(RAISES).sort());
    expect(Object.keys(RAISES).sort()).toEqual([
      'Commit',
      'Failed',
      'FetchPages',
      'HandOn',
      'Plan',
      'Report',
      'Tenants',
    ]);
  });

  it("finds the Express child's four Tasks, each of a kind the Standard child has", () => {
    expect(EXPRESS_TASKS.map(([name]) => name.slice(0, -ON_TIME.length)).sort()).toEqual([
      'Commit',
      'Failed',
      'FetchPages',
      'Plan',
    ]);
  });
});

describe("the Express child's errors", () => {
  const express = asl.States['Collect on time']?.ItemProcessor?.States ?? {};
  const tenant = express['Tenant (on time)'] as State;

  it.each(EXPRESS_TASKS)(
    "retries Lambda's service errors alone in %s, for seconds: an Express child ends at 5 minutes",
    (_name, state) => {
      expect(state.Retry).toEqual([{ ErrorEquals: [...LAMBDA_SERVICE_ERRORS], ...RETRIERS.lambdaService }]);
      expect(longestWaitSeconds(RETRIERS.lambdaService)).toBeLessThanOrEqual(10);
    },
  );

  it('hands the tenant on to a Standard child for every error a retry may cure, the time box, and throttling', () => {
    const handedOn = tenant.Catch?.[0];
    expect(handedOn).toMatchObject({ Next: 'Hand on (on time)' });
    for (const error of [
      ...RETRIABLE_ERRORS,
      ...INTERRUPTED_ERRORS,
      ...LAMBDA_SERVICE_ERRORS,
      LAMBDA_THROTTLED,
      'States.Timeout',
      'TimeBoxClosed',
    ])
      expect(handedOn?.ErrorEquals, error).toContain(error);
    expect(handedOn?.ErrorEquals).toEqual([...HANDED_ON_ERRORS]);
  });

  it('records every other failure, fatal ones and bugs, for the Report step, as a Standard child does', () => {
    for (const error of FATAL_ERRORS) expect(HANDED_ON_ERRORS as readonly string[]).not.toContain(error);
    expect(tenant.Catch?.[1]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'Failed (on time)' });
  });
});

describe('the error contract', () => {
  it('lists every error class of errors.ts, so none goes unretried or unnoticed', () => {
    const names = ERROR_CLASSES.map((ErrorClass) => new ErrorClass('x').name);

    expect(names.length).toBeGreaterThan(0);
    expect(names.sort()).toEqual(Object.keys(ERROR_CONTRACT).sort());
  });

  it('has each retriable error raised by some Task, with one retry policy of its own', () => {
    const raised = new Set(Object.values(RAISES).flat());

    for (const error of RETRIABLE_ERRORS) {
      expect(raised.has(error), error).toBe(true);
      expect(RETRIERS[error as keyof typeof RETRIERS].MaxAttempts, error).toBeGreaterThan(0);
    }
  });

  it('has only FetchPages, which calls Citrix, raise a Citrix error', () => {
    const citrix = Object.entries(RAISES)
      .filter(([, raises]) => raises.some((e) => e.startsWith('Citrix') || e === 'ForeignNextLink'))
      .map(([name]) => name);

    expect(citrix).toEqual(['FetchPages']);
  });

  it.each(TASKS)('retries the four Lambda service errors in %s', (_name, state) => {
    for (const error of LAMBDA_SERVICE_ERRORS)
      expect(retrierFor(state, error), error).toMatchObject({
        ErrorEquals: [...LAMBDA_SERVICE_ERRORS],
        ...RETRIERS.lambdaService,
      });
  });

  it.each(TASKS)('retries Lambda throttling in %s by its own policy, for minutes', (_name, state) => {
    expect(retrierFor(state, LAMBDA_THROTTLED)).toEqual({
      ErrorEquals: [LAMBDA_THROTTLED],
      ...RETRIERS.lambdaThrottled,
    });
    expect(longestWaitSeconds(RETRIERS.lambdaThrottled), 'as its comment says').toBe(482);
  });

  it.each(TASKS.filter(([name]) => name !== 'Report'))(
    'retries in %s an invocation cut short (a timeout), which its step is written to survive',
    (_name, state) => {
      const errors = [...INTERRUPTED_ERRORS, ...(state.TimeoutSeconds ? ['States.Timeout'] : [])];

      for (const error of errors)
        expect(retrierFor(state, error), error).toEqual({ ErrorEquals: errors, ...RETRIERS.interrupted });
      if (!state.TimeoutSeconds) expect(retried(state)).not.toContain('States.Timeout');
    },
  );

  it.each(TASKS)('retries neither States.ALL nor a bug (TypeError) in %s', (_name, state) => {
    const all = [...(state.Retry ?? [])].flatMap((r) => r.ErrorEquals);

    expect(all).not.toContain('States.ALL');
    expect(retrierFor(state, 'TypeError')).toBeUndefined();
  });

  it.each(TASKS)('retries no fatal error in %s', (_name, state) => {
    for (const error of FATAL_ERRORS) expect(retrierFor(state, error), error).toBeUndefined();
  });

  it.each(TASKS.filter(([name]) => name !== 'Report'))(
    'retries in %s exactly the retriable errors its handler raises, each by its own policy',
    (name, state) => {
      const ours = retried(state).filter((e) => e in ERROR_CONTRACT);
      const expected = raisesOf(name).filter((e) => RETRIABLE_ERRORS.includes(e as errors.ErrorName));

      expect(ours.sort()).toEqual([...expected].sort());
      for (const error of expected)
        expect(retrierFor(state, error), error).toEqual({
          ErrorEquals: [error],
          ...RETRIERS[error as keyof typeof RETRIERS],
        });
    },
  );

  it('retries no error of ours in Report, which raises again failures that had their retries', () => {
    const report = TASKS.find(([name]) => name === 'Report')?.[1];

    expect(report && retried(report)).toEqual([...LAMBDA_SERVICE_ERRORS, LAMBDA_THROTTLED]);
  });

  it.each(TASKS)(
    "names in %s no error that is neither ours, an interruption, nor Step Functions' or Lambda's",
    (_name, state) => {
      const named = [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((r) => r.ErrorEquals);
      const foreign = named.filter(
        (e) =>
          !(e in ERROR_CONTRACT) &&
          !(INTERRUPTED_ERRORS as readonly string[]).includes(e) &&
          !/^(States|Lambda)\./.test(e),
      );

      expect(foreign).toEqual([]);
    },
  );
});
