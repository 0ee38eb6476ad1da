/**
 * The local runner fails a run where AWS would (packages/testkit/src/aws-limits.ts): the history quota, the payload quota,
 * each child's own `$$.Execution`, and the account's Lambda concurrency. The quota tests run small
 * definitions of their own through the runner, since the collector's ASL is built never to reach a quota;
 * the others run the real ASL with the real handlers, the Citrix stand-in over HTTP and s3rver. Nothing
 * is mocked here.
 */
import { HISTORY_EVENTS_LIMIT, PAYLOAD_LIMIT_BYTES } from '@citrix-monitor/testkit/aws-limits';
import { type Invocation, loadDefinition, runExecution } from '@citrix-monitor/testkit/workflow';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromEnv } from '../../functions/adapters/lambda.ts';
import { NOW, newestDueHour } from '../fixtures/time.ts';
import { HOUR, iso, rowKey, startEnvironment, type TestEnvironment } from './harness.ts';

let e: TestEnvironment;
const IDS = ['alpha', 'beta'];
const secretEnv = (id: string) => `${id.toUpperCase()}_SECRET`;
const newestDue = newestDueHour();

beforeAll(async () => {
  e = await startEnvironment(
    {
      rowsPerHour: 6,
      tenants: IDS.map((id, i) => ({ customerId: id, clientId: id, clientSecret: `${id}-s`, seed: i + 1 })),
    },
    Object.fromEntries(IDS.map((id) => [secretEnv(id), `${id}-s`])),
  );
  const tenants = IDS.map((id) => ({
    id,
    customerId: id,
    clientId: id,
    clientSecretEnv: secretEnv(id),
    entities: ['Sessions', 'Users'],
  }));
  await e.store.put('collector-work/citrix_monitor/tenants.json', JSON.stringify({ tenants }));
}, 60_000);
afterAll(() => e?.stop());

/** Puts each tenant's state one hour before the newest due one: a run collects that hour. */
async function oneHourBehind(): Promise<void> {
  for (const id of IDS) {
    await e.store.put(
      `collector-work/citrix_monitor/tenants/${id}/state.json`,
      JSON.stringify({ last_hour_utc: iso(newestDue - HOUR) }),
    );
  }
}

/** A parent whose Distributed Map runs `child` for each item of the input's `items`. */
const withChild = (child: Record<string, unknown>): StateMachineDefinition =>
  JSON.parse(
    JSON.stringify({
      StartAt: 'Items',
      States: {
        Items: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, ...child },
          Label: 'Item',
          End: true,
        },
      },
    }),
  );

/** A loop of a Pass and a Choice, forever: 4 history events a turn. */
const SPIN = {
  StartAt: 'Spin',
  States: {
    Spin: { Type: 'Pass', Next: 'Again?' },
    'Again?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.spin', BooleanEquals: true, Next: 'Spin' }],
      Default: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
};

describe('the history quota', () => {
  it('fails a child execution at 25,000 events with States.Runtime, and its Map Run fails the parent', async () => {
    const outcome = await runExecution(fleetFromEnv({ env: e.env }), {
      definition: withChild(SPIN),
      input: { items: [{ spin: true }] },
    });

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.ExceedToleratedFailureThreshold');
    expect(outcome.cause).toContain(
      `States.Runtime: The execution reached the maximum number of history events (${HISTORY_EVENTS_LIMIT}).`,
    );
    expect(outcome.history.children[0]).toBe(HISTORY_EVENTS_LIMIT);
    expect(outcome.history.parent).toBeLessThan(20);
  }, 120_000);

  it('fails the parent itself the same way, though a Catch of States.ALL stands in the way', async () => {
    const parent = JSON.parse(
      JSON.stringify({
        StartAt: 'Loop',
        States: {
          Loop: {
            Type: 'Parallel',
            Branches: [SPIN],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
            Next: 'Caught',
          },
          Caught: { Type: 'Succeed' },
          // The runner runs every definition's Distributed Map as children: this one has an empty one.
          Never: withChild(SPIN).States.Items,
        },
      }),
    );

    const outcome = await runExecution(fleetFromEnv({ env: e.env }), {
      definition: parent,
      input: { spin: true },
      countEvents: true,
    });

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.Runtime');
    expect(outcome.history.parent).toBe(HISTORY_EVENTS_LIMIT);
    expect(outcome.statesEntered?.Caught).toBeUndefined();
  }, 120_000);
});

describe('the payload quota', () => {
  it('fails a state whose output passes 256 KiB with States.DataLimitExceeded, which a Catch of States.ALL does not catch', async () => {
    const half = 'x'.repeat(PAYLOAD_LIMIT_BYTES / 2);
    const child = {
      StartAt: 'Twice',
      States: {
        Twice: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } },
            { StartAt: 'B', States: { B: { Type: 'Pass', End: true } } },
          ],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Succeed' },
      },
    };

    const outcome = await runExecution(fleetFromEnv({ env: e.env }), {
      definition: withChild(child),
      input: { items: [{ text: half }] },
      countEvents: true,
    });

    expect(outcome.status).toBe('FAILED');
    expect(outcome.cause).toMatch(
      /States\.DataLimitExceeded: The output of state Twice has a size of \d+ bytes, which exceeds the maximum of 262144 bytes\./,
    );
    expect(outcome.statesEntered?.Caught).toBeUndefined();
  });
});

describe("each child's context", () => {
  it('gives a child its own $$.Execution: a child state reading the run id there gets the child, not the run', async () => {
    await oneHourBehind();
    const definition = loadDefinition();
    // The Express children's Plan here (both tenants are on time); a Standard child's own $$.Execution is
    // held to the template in test/package/template.test.ts.
    const plan = JSON.stringify(definition).replaceAll(
      '"Parameters":{"input.$":"$.input","runId.$":"$.runId"',
      () => '"Parameters":{"input.$":"$.input","runId.$":"$$.Execution.Name"',
    );
    expect(plan).toContain('$$.Execution.Name"');
    const plans: Invocation[] = [];

    const outcome = await runExecution(fleetFromEnv({ env: e.env }), {
      definition: JSON.parse(plan),
      startTime: NOW,
      executionName: 'own-context',
      onInvocation: (i) => void (i.state === 'Plan' && plans.push(i)),
    });

    // The children look for the run's tenant list under their own name, where there is none.
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('TenantsFailed');
    expect(outcome.cause).toContain('2 of 2 tenants failed');
    expect(plans.map((p) => (p.event as { runId: string }).runId)).toEqual([
      expect.stringMatching(/^own-context-OnTime-\d-/),
      expect.stringMatching(/^own-context-OnTime-\d-/),
    ]);
  });
});

describe("the account's Lambda concurrency", () => {
  it('throttles an invocation over the limit, and the throttling retries ride it out: every row once', async () => {
    await oneHourBehind();
    const fleet = fleetFromEnv({ env: { ...e.env, TENANT_CONCURRENCY: '2' } });

    const outcome = await runExecution(fleet, {
      startTime: NOW,
      retryIntervalMs: 1,
      throttledRetryMs: 200,
      accountConcurrency: 1,
    });

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    expect(outcome.lambda).toMatchObject({ limit: 1, peak: 1 });
    expect(outcome.lambda.throttles).toBeGreaterThan(0);
    for (const id of IDS) {
      const published = (await e.published(`citrix_monitor/${id}/Sessions/`)).flatMap((o) => o.rows);
      const truth = e.standin.tenant(id).rowsFor('Sessions', { fromMs: newestDue, toMs: newestDue + HOUR });
      expect(published.map((r) => rowKey('Sessions', r)).sort(), id).toEqual(
        truth.map((r) => rowKey('Sessions', r)).sort(),
      );
    }
  });

  it('fails a step still throttled after its retries with Lambda.TooManyRequestsException', async () => {
    const outcome = await runExecution(fleetFromEnv({ env: e.env }), {
      startTime: NOW,
      throttledRetryMs: 1,
      accountConcurrency: 0,
    });

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Lambda.TooManyRequestsException');
    expect(outcome.invocations.Tenants).toBe(0);
  });
});
