/**
 * A fleet: 40 listed tenants, each a day behind, collected by one execution of the real ASL, whose
 * Distributed Map the local runner runs as child executions (ten at a time: TENANT_CONCURRENCY=10, what a new
 * account's Lambda concurrency holds),
 * with the real handlers, a stand-in serving 40 Citrix customers at once over HTTP, and a real S3 server
 * (s3rver). Nothing is mocked here.
 */
import { type ExecutionOutcome, runExecution } from '@citrix-monitor/testkit/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromEnv } from '../../functions/adapters/lambda.ts';
import type { Tenant } from '../../functions/domain/schemas.ts';
import { NOW, newestDueHour } from '../fixtures/time.ts';
import { HOUR, iso, rowKey, startEnvironment, type TestEnvironment } from './harness.ts';

const TENANTS = 40;
const BEHIND = 24;
const ENTITIES = ['Sessions', 'Users'];
const IDS = Array.from({ length: TENANTS }, (_, i) => `tenant-${String(i).padStart(2, '0')}`);
const FAILING = 'tenant-17';
const secretEnv = (id: string) => `${id.toUpperCase().replace(/-/g, '_')}_SECRET`;
const stateKey = (id: string) => `collector-work/citrix_monitor/tenants/${id}/state.json`;

let e: TestEnvironment;
let run: (options?: Parameters<typeof runExecution>[1]) => Promise<ExecutionOutcome>;
const newestDue = newestDueHour();
const hours = Array.from({ length: BEHIND }, (_, i) => newestDue - (BEHIND - 1 - i) * HOUR);

beforeAll(async () => {
  e = await startEnvironment(
    {
      rowsPerHour: 6,
      serverPageSize: 50,
      tenants: IDS.map((id, i) => ({
        customerId: `${id}-cust`,
        clientId: `${id}-client`,
        clientSecret: `${id}-secret`,
        seed: i + 1,
      })),
    },
    Object.fromEntries(IDS.map((id) => [secretEnv(id), `${id}-secret`])),
  );
  const tenants: Tenant[] = IDS.map((id) => ({
    id,
    customerId: `${id}-cust`,
    clientId: `${id}-client`,
    clientSecretEnv: secretEnv(id),
    entities: ENTITIES,
  }));
  await e.store.put('collector-work/citrix_monitor/tenants.json', JSON.stringify({ tenants }));
  for (const id of IDS) {
    await e.store.put(stateKey(id), JSON.stringify({ last_hour_utc: iso(newestDue - BEHIND * HOUR) }));
  }
  const fleet = fleetFromEnv({
    env: { ...e.env, TENANT_CONCURRENCY: '10' },
    inAws: false,
    tuning: { backoffMs: 1, maxAttempts: 2 },
  });
  run = (options = {}) => runExecution(fleet, { retryIntervalMs: 1, startTime: NOW, ...options });
}, 60_000);

afterAll(() => e?.stop());

async function state(id: string): Promise<string | null> {
  const found = await e.store.get(stateKey(id));
  return found ? (JSON.parse(found.body.toString()) as { last_hour_utc: string }).last_hour_utc : null;
}

/** Each published row key of the tenant, per entity and hour (duplicates kept). */
async function published(id: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const { key, rows } of await e.published(`citrix_monitor/${id}/`)) {
    const [, , entity, year, month, day, hour] = key.split('/');
    const at = `${year?.slice(5)}-${month?.slice(6)}-${day?.slice(4)}T${hour?.slice(5)}:00:00Z`;
    const list = out[`${entity} ${at}`] ?? [];
    list.push(...rows.map((row) => rowKey(entity ?? '', row)));
    out[`${entity} ${at}`] = list;
  }
  for (const list of Object.values(out)) list.sort();
  return out;
}

/** Every row of the tenant's `hours` in its stand-in data, once, per entity and hour. */
function truth(id: string): Record<string, string[]> {
  const citrix = e.standin.tenant(`${id}-cust`);
  const out: Record<string, string[]> = {};
  for (const entity of ENTITIES) {
    for (const hour of hours) {
      const rows = citrix.rowsFor(entity, { fromMs: hour, toMs: hour + HOUR }).map((r) => rowKey(entity, r));
      if (rows.length) out[`${entity} ${iso(hour)}`] = rows.sort();
    }
  }
  return out;
}

describe('a fleet of 40 tenants, each a day behind, in one execution', () => {
  it('publishes every tenant its 24 hours exactly once, fails naming the one failing tenant, and a redrive collects that one alone', async () => {
    e.standin.tenant(`${FAILING}-cust`).failEntity('Sessions', 503);

    const failed = await run({ executionName: 'fleet-1' });

    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('TenantsFailed');
    expect(failed.cause).toContain('1 of 40 tenants failed; the others committed their hours.');
    expect(failed.cause).toContain(
      `tenant "${FAILING}": CitrixTransient: Hour ${iso(hours[0] ?? 0)}, entity Sessions`,
    );
    for (const id of IDS.filter((t) => t !== FAILING)) {
      expect(await published(id), id).toEqual(truth(id));
      expect(await state(id), id).toBe(iso(newestDue));
    }
    expect(await published(FAILING)).toEqual({});
    expect(await state(FAILING)).toBe(iso(newestDue - BEHIND * HOUR));
    expect(e.standin.stats.maxTenantsInFlight).toBeGreaterThan(1);
    for (const id of IDS) expect(e.standin.tenant(`${id}-cust`).stats.maxInFlight, id).toBe(1);

    e.standin.tenant(`${FAILING}-cust`).failEntity(null);
    const before = IDS.map((id) => e.standin.tenant(`${id}-cust`).stats.dataRequests);
    const redriven = await run({ executionName: 'fleet-1', redriveOf: failed.redrive });

    expect(redriven.status, redriven.cause).toBe('SUCCEEDED');
    expect(redriven.invocations.Plan).toBe(1);
    expect(redriven.results?.map((r) => r.tenant?.id)).toEqual([FAILING]);
    IDS.forEach((id, i) => {
      if (id !== FAILING) expect(e.standin.tenant(`${id}-cust`).stats.dataRequests, id).toBe(before[i]);
    });
    expect(await published(FAILING)).toEqual(truth(FAILING));
    expect(await state(FAILING)).toBe(iso(newestDue));
  }, 600_000);
});
