/**
 * The Citrix Monitor stand-in serving several tenants over real HTTP: each tenant's credentials, rows,
 * one-call-at-a-time limit and faults are its own, as a client of each tenant sees them.
 */
import {
  type Standin,
  type StandinOptions,
  type StandinTenant,
  startStandin,
} from '@citrix-monitor/testkit/citrix-standin';
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR } from '../../../test/fixtures/time.ts';

const H10 = Date.UTC(2026, 10, 24, 10);
const A = { customerId: 'alphacust', clientId: 'alpha-client', clientSecret: 'alpha-secret' };
const B = { customerId: 'betacust', clientId: 'beta-client', clientSecret: 'beta-secret' };
const running: Standin[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function start(opts: StandinOptions = {}): Promise<Standin> {
  const s = await startStandin({
    dataFromMs: H10 - 2 * HOUR,
    dataToMs: H10 + 2 * HOUR,
    tenants: [A, B],
    ...opts,
  });
  running.push(s);
  return s;
}

/** Asks for a token at `/cctrustoauth2/{customer}/tokens/clients` with a client's credentials. */
function tokenRequest(
  s: Standin,
  customer: string,
  client: { clientId: string; clientSecret: string },
): Promise<Response> {
  return fetch(`${s.url}/cctrustoauth2/${customer}/tokens/clients`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=${client.clientId}&client_secret=${client.clientSecret}`,
  });
}

async function token(s: Standin, t: StandinTenant): Promise<string> {
  const res = await tokenRequest(s, t.customerId, t);
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

interface Answer {
  status: number;
  body: { value?: Record<string, unknown>[]; error?: { code: string; message: string } };
}

/** One hour of Sessions, as the tenant `customer` with the token `tok`. */
async function sessions(s: Standin, customer: string, tok: string): Promise<Answer> {
  const filter = encodeURIComponent(
    `ModifiedDate ge ${new Date(H10).toISOString()} and ModifiedDate lt ${new Date(H10 + HOUR).toISOString()}`,
  );
  const res = await fetch(`${s.url}/monitorodata/Sessions?$filter=${filter}`, {
    headers: { Authorization: `CWSAuth bearer=${tok}`, 'Citrix-CustomerId': customer },
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : {} };
}

describe('tenants', () => {
  it('makes the first tenant the default one and finds each by customer id', async () => {
    const s = await start();
    expect(s.tenants.map((t) => t.customerId)).toEqual([A.customerId, B.customerId]);
    expect(s).toMatchObject(A);
    expect(s.tenant(B.customerId)).toMatchObject(B);
    expect(s.tenant(B.customerId).collectorEnv()).toEqual({
      API_BASE: s.url,
      CITRIX_CUSTOMER_ID: B.customerId,
      CITRIX_CLIENT_ID: B.clientId,
      CITRIX_CLIENT_SECRET: B.clientSecret,
    });
    expect(() => s.tenant('nobody')).toThrow(/nobody/);
  });

  it('refuses two tenants with the same customer id', async () => {
    await expect(start({ tenants: [A, { ...B, customerId: A.customerId }] })).rejects.toThrow(/given twice/);
  });
});

describe('tokens', () => {
  it('issues each tenant a token for its own credentials, on its path and on root', async () => {
    const s = await start();
    expect((await tokenRequest(s, A.customerId, A)).status).toBe(200);
    expect((await tokenRequest(s, B.customerId, B)).status).toBe(200);
    expect((await tokenRequest(s, 'root', B)).status).toBe(200);
  });

  it("refuses one tenant's client a token for another tenant, as it refuses a wrong secret", async () => {
    const s = await start();
    const wrongSecret = await tokenRequest(s, B.customerId, { ...B, clientSecret: 'wrong' });
    const otherClient = await tokenRequest(s, B.customerId, A);
    const unknownCustomer = await tokenRequest(s, 'nobodycust', A);
    const expected = await wrongSecret.json();
    expect(expected).toMatchObject({ error: 'invalid_client' });
    for (const res of [otherClient, unknownCustomer]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(expected);
    }
  });

  it("answers 401 to a tenant's token on another tenant's Citrix-CustomerId", async () => {
    const s = await start();
    const [a, b] = s.tenants as [StandinTenant, StandinTenant];
    const tokA = await token(s, a);
    const cross = await sessions(s, B.customerId, tokA);
    expect(cross.status).toBe(401);
    expect(cross.body.error?.code).toBe('Unauthorized');
    expect((await sessions(s, A.customerId, tokA)).status).toBe(200);
    expect((await sessions(s, B.customerId, await token(s, b))).status).toBe(200);
    expect(b.stats.unauthorized).toBe(1);
    expect(a.stats.unauthorized).toBe(0);
  });

  it("serves a token from root to the client's own tenant only", async () => {
    const s = await start();
    const res = await tokenRequest(s, 'root', B);
    const tok = ((await res.json()) as { access_token: string }).access_token;
    expect((await sessions(s, B.customerId, tok)).status).toBe(200);
    expect((await sessions(s, A.customerId, tok)).status).toBe(401);
  });
});

describe('data', () => {
  it("serves each tenant its own rows, which are that tenant's ground truth", async () => {
    const s = await start();
    const [a, b] = s.tenants as [StandinTenant, StandinTenant];
    const rowsA = (await sessions(s, A.customerId, await token(s, a))).body.value;
    const rowsB = (await sessions(s, B.customerId, await token(s, b))).body.value;
    expect(rowsA).toEqual(a.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR }));
    expect(rowsB).toEqual(b.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR }));
    const keysA = new Set(rowsA?.map((r) => r.SessionKey));
    expect(rowsB?.some((r) => keysA.has(r.SessionKey))).toBe(false);
  });

  it('serves the same rows to tenants given the same seed', async () => {
    const s = await start({
      tenants: [
        { ...A, seed: 7 },
        { ...B, seed: 7 },
      ],
    });
    const [a, b] = s.tenants as [StandinTenant, StandinTenant];
    const rowsA = (await sessions(s, A.customerId, await token(s, a))).body.value;
    expect(rowsA).toHaveLength(40);
    expect((await sessions(s, B.customerId, await token(s, b))).body.value).toEqual(rowsA);
  });
});

describe('one call per tenant at a time', () => {
  it('accepts one call of each tenant at once', async () => {
    const s = await start({ latencyMs: 300 });
    const [a, b] = s.tenants as [StandinTenant, StandinTenant];
    const [tokA, tokB] = await Promise.all([token(s, a), token(s, b)]);
    const answers = await Promise.all([sessions(s, A.customerId, tokA), sessions(s, B.customerId, tokB)]);
    expect(answers.map((x) => x.status)).toEqual([200, 200]);
    expect(s.stats.maxTenantsInFlight).toBe(2);
    expect(a.stats).toMatchObject({ throttled: 0, maxInFlight: 1 });
    expect(b.stats).toMatchObject({ throttled: 0, maxInFlight: 1 });
  });

  it("throttles a tenant's second call at once with 429, and only that tenant's", async () => {
    const s = await start({ latencyMs: 300 });
    const [a, b] = s.tenants as [StandinTenant, StandinTenant];
    const [tokA, tokB] = await Promise.all([token(s, a), token(s, b)]);
    const [a1, a2, b1] = await Promise.all([
      sessions(s, A.customerId, tokA),
      sessions(s, A.customerId, tokA),
      sessions(s, B.customerId, tokB),
    ]);
    expect([a1.status, a2.status].sort()).toEqual([200, 429]);
    expect(b1.status).toBe(200);
    expect(a.stats).toMatchObject({ throttled: 1, maxInFlight: 1 });
    expect(b.stats.throttled).toBe(0);
  });
});

describe('faults', () => {
  it('hits only the tenant a fault was injected for', async () => {
    const s = await start();
    const [a, b] = s.tenants as [StandinTenant, StandinTenant];
    const [tokA, tokB] = await Promise.all([token(s, a), token(s, b)]);
    b.injectFault({ kind: '500' });
    expect((await sessions(s, A.customerId, tokA)).status).toBe(200);
    expect((await sessions(s, B.customerId, tokB)).status).toBe(500);
    expect(a.stats.faultsInjected).toEqual({});
    expect(b.stats.faultsInjected).toEqual({ '500': 1 });
  });

  it("takes one tenant's Citrix down with failEntity and leaves the others up", async () => {
    const s = await start();
    const [a, b] = s.tenants as [StandinTenant, StandinTenant];
    const [tokA, tokB] = await Promise.all([token(s, a), token(s, b)]);
    b.failEntity('Sessions');
    expect((await sessions(s, B.customerId, tokB)).status).toBe(503);
    expect((await sessions(s, A.customerId, tokA)).status).toBe(200);
    b.failEntity(null);
    expect((await sessions(s, B.customerId, tokB)).status).toBe(200);
  });
});
