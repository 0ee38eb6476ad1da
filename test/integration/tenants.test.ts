/**
 * Many tenants in one deployment: the real ASL executed by aws-local-stepfunctions with the real
 * handlers, a stand-in serving three Citrix customers at once (each with its own credentials, data and
 * one-call limit) over HTTP, and a real S3 server (s3rver). Nothing is mocked here.
 */
import type { StandinTenant } from '@citrix-monitor/testkit/citrix-standin';
import { type Invocation, runExecution } from '@citrix-monitor/testkit/workflow';
import { afterEach, describe, expect, it } from 'vitest';
import { fleetFromEnv } from '../../functions/adapters/lambda.ts';
import { jsonLinesTelemetry } from '../../functions/adapters/telemetry.ts';
import type { Tenant } from '../../functions/domain/schemas.ts';
import { NOW, newestDueHour } from '../fixtures/time.ts';
import {
  ENTITIES,
  HOUR,
  invocationsEnded,
  iso,
  rowKey,
  startEnvironment,
  type TestEnvironment,
} from './harness.ts';

const IDS = ['alpha', 'beta', 'gamma'] as const;
type Id = (typeof IDS)[number];
const LIST_KEY = 'collector-work/citrix_monitor/tenants.json';
const stateKey = (id: Id) => `collector-work/citrix_monitor/tenants/${id}/state.json`;

let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

interface World {
  readonly e: TestEnvironment;
  readonly citrix: Record<Id, StandinTenant>;
  readonly newestDue: number;
  /** The collector's log lines (JSON), every tenant's. */
  readonly logged: Array<Record<string, unknown>>;
  run(options?: Parameters<typeof runExecution>[1]): ReturnType<typeof runExecution>;
  state(id: Id): Promise<string | null>;
  /** Each published row key of the tenant's hour, per entity (duplicates kept). */
  published(id: Id, hour: number): Promise<Record<string, string[]>>;
}

/**
 * Three tenants listed in the work bucket, each with its state one hour behind the newest due hour.
 * `settings`: settings of the environment the fleet reads once, over the world's.
 */
async function threeTenants(settings: Record<string, string> = {}): Promise<World> {
  const e = await startEnvironment(
    {
      rowsPerHour: 120,
      serverPageSize: 50,
      latencyMs: 5,
      tenants: IDS.map((id, i) => ({
        customerId: `${id}cust`,
        clientId: `${id}-client`,
        clientSecret: `${id}-secret`,
        seed: i + 1,
      })),
    },
    { ALPHA_SECRET: 'alpha-secret', BETA_SECRET: 'beta-secret', GAMMA_SECRET: 'gamma-secret' },
  );
  env = e;
  const tenants: Tenant[] = IDS.map((id) => ({
    id,
    customerId: `${id}cust`,
    clientId: `${id}-client`,
    clientSecretEnv: `${id.toUpperCase()}_SECRET`,
  }));
  await e.store.put(LIST_KEY, JSON.stringify({ tenants }));
  const newestDue = newestDueHour();
  for (const id of IDS) {
    await e.store.put(stateKey(id), JSON.stringify({ last_hour_utc: iso(newestDue - HOUR) }));
  }
  const logged: Array<Record<string, unknown>> = [];
  const telemetry = jsonLinesTelemetry((line) => logged.push(JSON.parse(line) as Record<string, unknown>));
  Object.assign(e.env, settings);
  const fleet = fleetFromEnv({
    env: e.env,
    telemetry,
    inAws: false,
    tuning: { backoffMs: 5, maxAttempts: 2 },
  });
  const citrix = Object.fromEntries(IDS.map((id) => [id, e.standin.tenant(`${id}cust`)])) as Record<
    Id,
    StandinTenant
  >;
  return {
    e,
    citrix,
    newestDue,
    logged,
    run: (options = {}) => runExecution(fleet, { retryIntervalMs: 5, startTime: NOW, ...options }),
    async state(id) {
      const found = await e.store.get(stateKey(id));
      return found ? (JSON.parse(found.body.toString()) as { last_hour_utc: string }).last_hour_utc : null;
    },
    async published(id, hour) {
      const d = iso(hour);
      const folder = (entity: string) =>
        `citrix_monitor/${id}/${entity}/year=${d.slice(0, 4)}/month=${d.slice(5, 7)}/day=${d.slice(8, 10)}/hour=${d.slice(11, 13)}/`;
      const objects = await e.published(`citrix_monitor/${id}/`);
      return Object.fromEntries(
        ENTITIES.map((entity) => [
          entity,
          objects
            .filter((o) => o.key.startsWith(folder(entity)))
            .flatMap((o) => o.rows.map((r) => rowKey(entity, r)))
            .sort(),
        ]),
      );
    },
  };
}

/** The id of the tenant a Task event names (Plan events carry its index in the run's list). */
function tenantIdOf(event: unknown): string | null {
  const { tenant } = event as { tenant?: number | { id: string } | null };
  if (typeof tenant === 'number') return IDS[tenant] ?? null;
  return tenant?.id ?? null;
}

/** Every row of the tenant's hour in its own stand-in data, once. */
function truth(citrix: StandinTenant, hour: number): Record<string, string[]> {
  return Object.fromEntries(
    ENTITIES.map((entity) => [
      entity,
      citrix
        .rowsFor(entity, { fromMs: hour, toMs: hour + HOUR })
        .map((r) => rowKey(entity, r))
        .sort(),
    ]),
  );
}

describe('three tenants, one of them failing', () => {
  it('publishes the two others once, fails naming the third, keeps its state, and a redrive collects it alone', async () => {
    const w = await threeTenants();
    const hour = w.newestDue;
    w.citrix.beta.failEntity('Sessions', 503);

    const failed = await w.run({ executionName: 'hourly-1' });

    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('TenantsFailed');
    expect(failed.cause).toContain('1 of 3 tenants failed; the others committed their hours.');
    expect(failed.cause).toContain(`tenant "beta": CitrixTransient: Hour ${iso(hour)}, entity Sessions`);
    expect(failed.cause).not.toMatch(/tenant "(alpha|gamma)"/);
    // Its failure record holds where it failed as fields, from the failing Task's own input.
    expect(failed.results?.find((r) => r.tenant?.id === 'beta')?.failure).toMatchObject({
      Error: 'CitrixTransient',
      window: { start: iso(hour), end: iso(hour + HOUR) },
      entity: 'Sessions',
    });
    for (const id of ['alpha', 'gamma'] as const) {
      expect(await w.published(id, hour), id).toEqual(truth(w.citrix[id], hour));
      expect(await w.state(id), id).toBe(iso(hour));
    }
    expect(await w.published('beta', hour)).toEqual(Object.fromEntries(ENTITIES.map((e) => [e, []])));
    expect(await w.state('beta')).toBe(iso(hour - HOUR));
    // Side by side, each strictly one call at a time.
    expect(w.e.standin.stats.maxTenantsInFlight).toBeGreaterThan(1);
    for (const id of IDS) expect(w.citrix[id].stats.maxInFlight, id).toBe(1);

    w.citrix.beta.failEntity(null);
    const before = { alpha: w.citrix.alpha.stats.dataRequests, gamma: w.citrix.gamma.stats.dataRequests };
    const redriven = await w.run({ executionName: 'hourly-1', redriveOf: failed.redrive });

    expect(redriven.status, redriven.cause).toBe('SUCCEEDED');
    expect(redriven.invocations.Plan).toBe(1);
    expect(w.citrix.alpha.stats.dataRequests).toBe(before.alpha);
    expect(w.citrix.gamma.stats.dataRequests).toBe(before.gamma);
    for (const id of IDS) {
      expect(await w.published(id, hour), id).toEqual(truth(w.citrix[id], hour));
      expect(await w.state(id), id).toBe(iso(hour));
    }
    expect(redriven.results?.map((r) => r.tenant?.id)).toEqual(['beta']);
  });

  it('publishes the hour of a tenant with a wrong secret once in the next scheduled run after the secret is fixed', async () => {
    const w = await threeTenants();
    const hour = w.newestDue;
    w.e.env.GAMMA_SECRET = 'not-gammas-secret';

    const failed = await w.run();
    expect(failed.error).toBe('TenantsFailed');
    expect(failed.cause).toContain(`tenant "gamma": CitrixAuthFailed: Hour ${iso(hour)}, entity Machines:`);
    expect(failed.cause).not.toContain('not-gammas-secret');
    expect(await w.state('gamma')).toBe(iso(hour - HOUR));
    w.e.env.GAMMA_SECRET = 'gamma-secret';

    const next = await w.run();

    expect(next.status, next.cause).toBe('SUCCEEDED');
    for (const id of IDS) {
      expect(await w.published(id, hour), id).toEqual(truth(w.citrix[id], hour));
      expect(await w.state(id), id).toBe(iso(hour));
    }
    const committed = (next.results ?? []).map((r) => [
      r.tenant?.id,
      (r as { committed?: Array<{ start: string }> }).committed?.map((c) => c.start),
    ]);
    expect(committed.sort()).toEqual([
      ['alpha', []],
      ['beta', []],
      ['gamma', [iso(hour)]],
    ]);
    // Every line of a tenant's work says whose it is.
    const staged = w.logged.filter((line) => line.message === 'pages staged');
    expect(new Set(staged.map((line) => line.tenant))).toEqual(new Set(IDS));
    const metrics = w.logged.filter((line) => line.message === 'metric' && line.metric === 'Rows');
    expect(metrics.length).toBeGreaterThan(0);
    for (const line of metrics) expect(IDS).toContain(line.tenant);
  });

  it('publishes every tenant once when the execution is killed part-way and redriven', async () => {
    const w = await threeTenants();
    const hour = w.newestDue;
    const kill = new AbortController();
    const inFlight = invocationsEnded();
    let commits = 0;

    const killed = await w.run({
      executionName: 'hourly-killed',
      kill: kill.signal,
      onInvocation: ({ state }) => {
        inFlight.onInvocation();
        if (state === 'Commit' && ++commits === 1) kill.abort();
      },
    });
    expect(killed.status).toBe('ABORTED');
    // The tenants are on time: killed in the map over their Express children, which the redrive runs again.
    expect(killed.redrive?.from).toBe('Any on time?');
    // What the killed run had in flight ends before the redrive (a killed Lambda's work would be gone).
    await inFlight.all(killed);

    const redriven = await w.run({ executionName: 'hourly-killed', redriveOf: killed.redrive });

    expect(redriven.status, redriven.cause).toBe('SUCCEEDED');
    for (const id of IDS) {
      expect(await w.published(id, hour), id).toEqual(truth(w.citrix[id], hour));
      expect(await w.state(id), id).toBe(iso(hour));
    }
  });

  it('fails the run before any tenant starts when the tenant list is broken, naming it', async () => {
    const w = await threeTenants();
    await w.e.store.put(LIST_KEY, '{"tenants": [{"id": "alpha"');

    const outcome = await w.run();

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('BadConfiguration');
    expect(outcome.cause).toContain(`The tenant list s3://collector-test/${LIST_KEY} is not valid JSON`);
    expect(outcome.invocations.Plan).toBe(0);
  });
});

describe('three tenants, each collected by the kind of child its lateness calls for', () => {
  /** The tenant's Plan invocations by the kind of child execution that made them. */
  const plansBy = (invocations: Invocation[], id: Id) =>
    invocations.filter((i) => i.state === 'Plan' && tenantIdOf(i.event) === id).map((i) => i.execution.type);

  it('collects one on time in an Express child, one a day behind in a Standard child, names the failing one, and a redrive collects it alone', async () => {
    const w = await threeTenants();
    const hour = w.newestDue;
    // beta is a day behind; alpha and gamma are an hour behind, on time; gamma's Sessions fail.
    await w.e.store.put(stateKey('beta'), JSON.stringify({ last_hour_utc: iso(hour - 24 * HOUR) }));
    w.citrix.gamma.failEntity('Sessions', 503);
    const invocations: Invocation[] = [];

    const started = Date.now();
    const failed = await w.run({ executionName: 'mixed', onInvocation: (i) => void invocations.push(i) });
    // An Express child's deadline counts from its own start by the wall clock ($$.Execution.StartTime in
    // the child, as AWS gives it), not from the run's start, which the plans are made at.
    const starts = invocations
      .filter((i) => i.stateName === 'Plan (on time)')
      .map((i) => Date.parse((i.event as { childStart: string }).childStart));
    expect(starts).toHaveLength(2);
    for (const s of starts) expect(s).toBeGreaterThanOrEqual(started - 1000);
    for (const s of starts) expect(s).toBeLessThanOrEqual(Date.now());

    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('TenantsFailed');
    expect(failed.cause).toContain('1 of 3 tenants failed');
    expect(failed.cause).toContain(`tenant "gamma": CitrixTransient: Hour ${iso(hour)}, entity Sessions`);
    expect(plansBy(invocations, 'alpha')).toEqual(['EXPRESS']);
    expect(plansBy(invocations, 'beta')).toEqual(['STANDARD']);
    // gamma's Express child handed it on (a retry may cure a 503); its Standard child retried, then failed.
    expect(plansBy(invocations, 'gamma')).toEqual(['EXPRESS', 'STANDARD']);
    expect(failed.express.children).toBe(2);
    expect(failed.history.children).toHaveLength(2);
    expect(await w.published('alpha', hour)).toEqual(truth(w.citrix.alpha, hour));
    for (let h = hour - 23 * HOUR; h <= hour; h += HOUR)
      expect(await w.published('beta', h), iso(h)).toEqual(truth(w.citrix.beta, h));
    expect(await w.state('beta')).toBe(iso(hour));
    expect(await w.state('gamma')).toBe(iso(hour - HOUR));

    w.citrix.gamma.failEntity(null);
    invocations.length = 0;
    const redriven = await w.run({
      executionName: 'mixed',
      redriveOf: failed.redrive,
      onInvocation: (i) => void invocations.push(i),
    });

    expect(redriven.status, redriven.cause).toBe('SUCCEEDED');
    expect(redriven.results?.map((r) => r.tenant?.id)).toEqual(['gamma']);
    expect(plansBy(invocations, 'gamma')).toEqual(['STANDARD']);
    for (const id of ['alpha', 'gamma'] as const) {
      expect(await w.published(id, hour), id).toEqual(truth(w.citrix[id], hour));
      expect(await w.state(id), id).toBe(iso(hour));
    }
  });

  it('hands a tenant whose time box closes mid-window on to a Standard child of the same run, which publishes the window once', async () => {
    // A one-second time box, and alpha's pages slow enough that its window cannot be fetched in it.
    const w = await threeTenants({ EXPRESS_FETCH_SECONDS: '1' });
    const hour = w.newestDue;
    w.citrix.alpha.setLatency(400);
    const invocations: Invocation[] = [];

    const outcome = await w.run({
      onInvocation: (i) => void invocations.push(i),
      // The runner holds the Express children to a limit shortened like the box: none reaches it.
      expressTimeoutMs: 10_000,
    });

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    const handOn = invocations.find((i) => i.state === 'HandOn')?.event as {
      handedOn: Array<{ h?: number | null }>;
    };
    // alpha (index 0) alone was handed on, by its Commit: the time box had closed on its window.
    expect(handOn.handedOn.filter((o) => o.h !== undefined)).toEqual([{ h: 0 }]);
    const cut = invocations.filter((i) => i.stateName === 'Commit (on time)' && i.failed);
    expect(cut.map((i) => tenantIdOf(i.event))).toEqual(['alpha']);
    expect(await w.e.store.list('collector-work/citrix_monitor/staging/')).toEqual(
      expect.arrayContaining([expect.stringMatching(/resume\.json$/)]),
    );
    expect(plansBy(invocations, 'alpha')).toEqual(['EXPRESS', 'STANDARD']);
    expect(outcome.express.longestMs).toBeLessThan(10_000);
    // The Standard child carried on from what the Express child kept: no page of alpha's window was asked
    // for twice but the one in flight when the box closed (each entity's pages, and its last short page).
    const pages = (entity: string) =>
      Math.floor(w.citrix.alpha.rowsFor(entity, { fromMs: hour, toMs: hour + HOUR }).length / 50) + 1;
    const requested = w.citrix.alpha.stats.requestsByEntity;
    const extra = ENTITIES.reduce((n, entity) => n + (requested[entity] ?? 0) - pages(entity), 0);
    expect(extra).toBeGreaterThanOrEqual(0);
    expect(extra).toBeLessThanOrEqual(1);
    for (const id of IDS) {
      expect(await w.published(id, hour), id).toEqual(truth(w.citrix[id], hour));
      expect(await w.state(id), id).toBe(iso(hour));
    }
  });

  it('fails the run, as AWS does, when an Express child outlasts its time limit; the next run publishes every window once', async () => {
    const w = await threeTenants();
    const hour = w.newestDue;
    w.citrix.alpha.setLatency(400);

    const inFlight = invocationsEnded();
    const cut = await w.run({ expressTimeoutMs: 300, onInvocation: () => inFlight.onInvocation() });

    expect(cut.status).toBe('FAILED');
    expect(cut.error).toBe('States.ExceedToleratedFailureThreshold');
    expect(cut.cause).toContain('States.Timeout');
    // The failed Map Run stopped the other children; what they had in flight ends before the next run (in
    // AWS their Lambdas run to the end too; s3rver, unlike S3, could serve a state file half written).
    await inFlight.all(cut);
    w.citrix.alpha.setLatency(0);
    const next = await w.run({ executionName: 'next' });

    expect(next.status, next.cause).toBe('SUCCEEDED');
    for (const id of IDS) {
      expect(await w.published(id, hour), id).toEqual(truth(w.citrix[id], hour));
      expect(await w.state(id), id).toBe(iso(hour));
    }
  });
});
