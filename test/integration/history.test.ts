/**
 * The states entered that packages/testkit/src/history.ts counts events from, checked against a run of the real ASL
 * (aws-local-stepfunctions, the real handlers, the stand-in over HTTP, s3rver): three tenants, two hours
 * behind, two entities each. Nothing is mocked here.
 */
import { parentEntries, tenantEntries } from '@citrix-monitor/testkit/history';
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { afterAll, expect, it } from 'vitest';
import { fleetFromEnv } from '../../functions/adapters/lambda.ts';
import { NOW, newestDueHour } from '../fixtures/time.ts';
import { HOUR, iso, startEnvironment, type TestEnvironment } from './harness.ts';

let e: TestEnvironment | undefined;
afterAll(() => e?.stop());

it('enters the states the history model counts: the parent once, each tenant its hours and entity-hours', async () => {
  const ids = ['alpha', 'beta', 'gamma'];
  e = await startEnvironment(
    {
      rowsPerHour: 6,
      tenants: ids.map((id, i) => ({
        customerId: id,
        clientId: id,
        clientSecret: `${id}-secret`,
        seed: i + 1,
      })),
    },
    Object.fromEntries(ids.map((id) => [`${id.toUpperCase()}_SECRET`, `${id}-secret`])),
  );
  const tenants = ids.map((id) => ({
    id,
    customerId: id,
    clientId: id,
    clientSecretEnv: `${id.toUpperCase()}_SECRET`,
    entities: ['Sessions', 'Users'],
  }));
  await e.store.put('collector-work/citrix_monitor/tenants.json', JSON.stringify({ tenants }));
  const newestDue = newestDueHour();
  for (const id of ids) {
    await e.store.put(
      `collector-work/citrix_monitor/tenants/${id}/state.json`,
      JSON.stringify({ last_hour_utc: iso(newestDue - 2 * HOUR) }),
    );
  }

  const outcome = await runExecution(fleetFromEnv({ env: e.env }), { countEvents: true, startTime: NOW });

  expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
  const perTenant = tenantEntries(2, 2);
  const expected = {
    // Two hours behind: every tenant in a Standard child, none on time.
    ...parentEntries(false),
    ...Object.fromEntries(Object.entries(perTenant).map(([state, n]) => [state, n * ids.length])),
  };
  expect(outcome.statesEntered).toEqual(expected);
});
