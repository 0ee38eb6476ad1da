import { request } from 'node:http';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type Standin, type StandinOptions, startStandin } from '../../local/citrix-standin/index.ts';

const HOUR = 3_600_000;
const H10 = Date.UTC(2026, 10, 24, 10);
const running: Standin[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function start(opts: StandinOptions = {}): Promise<Standin> {
  const s = await startStandin({ dataFromMs: H10 - 2 * HOUR, dataToMs: H10 + 2 * HOUR, ...opts });
  running.push(s);
  return s;
}

async function tokenFor(s: Standin, tenant = s.customerId, secret = s.clientSecret): Promise<Response> {
  return fetch(`${s.url}/cctrustoauth2/${tenant}/tokens/clients`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=${s.clientId}&client_secret=${secret}`,
  });
}

async function token(s: Standin): Promise<string> {
  const body = (await (await tokenFor(s)).json()) as { access_token: string };
  return body.access_token;
}

function headersFor(s: Standin, tok: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `CWSAuth bearer=${tok}`, 'Citrix-CustomerId': s.customerId, ...extra };
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000', '');
const hourQuery = (from: number, to = from + HOUR, field = 'ModifiedDate'): string =>
  `$filter=${encodeURIComponent(`${field} ge ${iso(from)} and ${field} lt ${iso(to)}`)}`;

interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: { value: Record<string, unknown>[]; '@odata.nextLink'?: string; '@odata.count'?: number };
}

async function getPage(
  s: Standin,
  tok: string,
  url: string,
  extra: Record<string, string> = {},
): Promise<Page> {
  const res = await fetch(url, { headers: headersFor(s, tok, extra) });
  return { url, status: res.status, headers: res.headers, body: (await res.json()) as Page['body'] };
}

async function getAll(
  s: Standin,
  tok: string,
  first: string,
  extra: Record<string, string> = {},
): Promise<Page[]> {
  const pages: Page[] = [];
  for (let url: string | undefined = first; url; ) {
    const page = await getPage(s, tok, url, extra);
    expect(page.status).toBe(200);
    pages.push(page);
    const link = page.body['@odata.nextLink'];
    url = link === undefined ? undefined : new URL(link, url).href;
  }
  return pages;
}

function raw(
  s: Standin,
  path: string,
  headers: Record<string, string>,
): Promise<{ headers: Record<string, unknown>; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${s.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, bytes: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('token endpoint', () => {
  it('issues a bearer token whose expires_in is a string', async () => {
    const s = await start({ tokenTtlSeconds: 1234 });
    const body = (await (await tokenFor(s)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: '1234' });
    expect(typeof body.access_token).toBe('string');
  });

  it('accepts root in place of the customer id', async () => {
    const s = await start();
    expect((await tokenFor(s, 'root')).status).toBe(200);
  });

  it('rejects wrong credentials with 401', async () => {
    const s = await start();
    const res = await tokenFor(s, s.customerId, 'wrong');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });
});

describe('authorization', () => {
  it('answers 401 without a token', async () => {
    const s = await start();
    const res = await fetch(`${s.url}/monitorodata/Sessions`, {
      headers: { 'Citrix-CustomerId': s.customerId },
    });
    expect(res.status).toBe(401);
    expect(s.stats.unauthorized).toBe(1);
  });

  it('answers 401 once the token has expired', async () => {
    const s = await start({ tokenTtlSeconds: 1 });
    const tok = await token(s);
    expect((await getPage(s, tok, `${s.url}/monitorodata/Users`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await getPage(s, tok, `${s.url}/monitorodata/Users`)).status).toBe(401);
  });

  it('answers 401 for every token after expireAllTokens', async () => {
    const s = await start();
    const tok = await token(s);
    s.expireAllTokens();
    expect((await getPage(s, tok, `${s.url}/monitorodata/Users`)).status).toBe(401);
  });

  it('answers 403 for another customer id', async () => {
    const s = await start();
    const res = await fetch(`${s.url}/monitorodata/Users`, {
      headers: { ...headersFor(s, await token(s)), 'Citrix-CustomerId': 'other' },
    });
    expect(res.status).toBe(403);
  });
});

describe('generated data', () => {
  it('puts row 0 exactly on the hour and one row on the last tick before the next', async () => {
    const s = await start();
    const stamps = s.rowsFor('Sessions', H10, H10 + HOUR).map((r) => r.ModifiedDate);
    expect(stamps[0]).toBe('2026-11-24T10:00:00Z');
    expect(stamps.at(-1)).toBe('2026-11-24T10:59:59.9999999Z');
    const digits = new Set(stamps.map((t) => /\.(\d+)Z$/.exec(String(t))?.[1]?.length ?? 0));
    expect(digits.size).toBeGreaterThanOrEqual(3);
  });

  it('keeps keys unique across hours and is deterministic per seed', async () => {
    const s = await start();
    const t = await start();
    const rows = s.rowsFor('Sessions', H10 - 2 * HOUR, H10 + 2 * HOUR);
    expect(new Set(rows.map((r) => r.SessionKey)).size).toBe(160);
    expect(t.rowsFor('Sessions', H10, H10 + HOUR)).toEqual(s.rowsFor('Sessions', H10, H10 + HOUR));
    const ids = s.rowsFor('Users', H10 - 2 * HOUR, H10 + 2 * HOUR).map((r) => r.Id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('counts a million-row hour and serves a page of it quickly', async () => {
    const s = await start({ rowsPerHour: 1_000_000 });
    expect(s.countFor('Machines', H10, H10 + HOUR)).toBe(1_000_000);
    expect(s.countFor('Machines', H10 + HOUR / 2, H10 + HOUR)).toBeGreaterThan(490_000);
    const began = performance.now();
    const page = await getPage(
      s,
      await token(s),
      `${s.url}/monitorodata/Machines?${hourQuery(H10 + HOUR / 2)}`,
    );
    expect(page.body.value).toHaveLength(1000);
    expect(performance.now() - began).toBeLessThan(1000);
  });
});

describe('paging', () => {
  it('serves 2500 rows in 3 pages equal to the ground truth, following relative links', async () => {
    const s = await start({ rowsPerHour: 2500 });
    const pages = await getAll(s, await token(s), `${s.url}/monitorodata/Sessions?${hourQuery(H10)}`);
    expect(pages.map((p) => p.body.value.length)).toEqual([1000, 1000, 500]);
    expect(pages.flatMap((p) => p.body.value)).toEqual(s.rowsFor('Sessions', H10, H10 + HOUR));
    expect(pages[0]?.body['@odata.nextLink']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/monitorodata\/Sessions\?/);
    expect(pages[1]?.body['@odata.nextLink']).toMatch(/^Sessions\?\$filter=/);
    expect(s.stats.maxInFlight).toBe(1);
    expect(s.stats.throttled).toBe(0);
  });

  it('varies both relative link forms', async () => {
    const s = await start({ nextLinkStyle: 'relative' });
    const pages = await getAll(s, await token(s), `${s.url}/monitorodata/Users?${hourQuery(H10)}`, {
      Prefer: 'odata.maxpagesize=10',
    });
    const links = pages.map((p) => p.body['@odata.nextLink']).filter((l) => l !== undefined);
    expect(links.some((l) => l.startsWith('Users?'))).toBe(true);
    expect(links.some((l) => l.startsWith('/monitorodata/Users?'))).toBe(true);
    expect(pages.flatMap((p) => p.body.value)).toEqual(s.rowsFor('Users', H10, H10 + HOUR));
  });

  it('caps the whole result with $top, not the page size', async () => {
    const s = await start({ rowsPerHour: 2500 });
    const pages = await getAll(
      s,
      await token(s),
      `${s.url}/monitorodata/Sessions?${hourQuery(H10)}&$top=1500`,
    );
    expect(pages.map((p) => p.body.value.length)).toEqual([1000, 500]);
  });

  it('honours Prefer odata.maxpagesize, capped by the server page size', async () => {
    const s = await start({ rowsPerHour: 2500 });
    const tok = await token(s);
    const url = `${s.url}/monitorodata/Sessions?${hourQuery(H10)}`;
    const small = await getPage(s, tok, url, { Prefer: 'odata.maxpagesize=300' });
    expect(small.body.value).toHaveLength(300);
    expect(small.headers.get('preference-applied')).toBe('odata.maxpagesize=300');
    const big = await getPage(s, tok, url, { Prefer: 'odata.maxpagesize=5000' });
    expect(big.body.value).toHaveLength(1000);
  });

  it('adds @odata.count with $count=true', async () => {
    const s = await start();
    const page = await getPage(
      s,
      await token(s),
      `${s.url}/monitorodata/Machines?${hourQuery(H10)}&$count=true`,
    );
    expect(page.body['@odata.count']).toBe(40);
  });
});

describe('filters', () => {
  it('puts a row stamped on the hour in the window starting there, not in the previous one', async () => {
    const s = await start();
    const tok = await token(s);
    const before = await getPage(s, tok, `${s.url}/monitorodata/Sessions?${hourQuery(H10 - HOUR)}`);
    const after = await getPage(s, tok, `${s.url}/monitorodata/Sessions?${hourQuery(H10)}`);
    expect(before.body.value.at(-1)?.ModifiedDate).toBe('2026-11-24T09:59:59.9999999Z');
    expect(after.body.value[0]?.ModifiedDate).toBe('2026-11-24T10:00:00Z');
    expect(before.body.value).toHaveLength(40);
  });

  it('compares instants with sub-millisecond precision', async () => {
    const s = await start();
    const f = encodeURIComponent(
      'ModifiedDate ge 2026-11-24T09:00:00Z and ModifiedDate le 2026-11-24T09:59:59.9999998Z',
    );
    const page = await getPage(s, await token(s), `${s.url}/monitorodata/Sessions?$filter=${f}`);
    expect(page.body.value).toHaveLength(39);
  });

  it('filters on CreatedDate like the ground truth', async () => {
    const s = await start();
    const page = await getPage(
      s,
      await token(s),
      `${s.url}/monitorodata/Sessions?${hourQuery(H10, H10 + HOUR, 'CreatedDate')}`,
    );
    expect(page.body.value).toEqual(s.rowsFor('Sessions', H10, H10 + HOUR, 'CreatedDate'));
  });

  it.each([
    ['a non-time field', 'UserId eq 6', 'UserId'],
    ['a quoted literal', "ModifiedDate ge '2026-11-24T10:00:00Z'", 'quoted'],
    ['an or', 'ModifiedDate ge 2026-11-24T10:00:00Z or ModifiedDate lt 2026-11-24T09:00:00Z', "'or'"],
  ])('answers 400 naming the problem for %s', async (_, filter, named) => {
    const s = await start();
    const res = await fetch(`${s.url}/monitorodata/Sessions?$filter=${encodeURIComponent(filter)}`, {
      headers: headersFor(s, await token(s)),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(named);
  });

  it('answers 400 to a raw space in the query string', async () => {
    const s = await start();
    const head = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(s.url).port), '127.0.0.1', () => {
        socket.write(
          'GET /monitorodata/Sessions?$filter=ModifiedDate ge 2026-11-24T10:00:00Z HTTP/1.1\r\nHost: x\r\n\r\n',
        );
      });
      let text = '';
      socket.on('data', (b) => {
        text += b;
      });
      socket.on('close', () => resolve(text));
    });
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers 404 to an unknown entity or path', async () => {
    const s = await start();
    const tok = await token(s);
    expect((await fetch(`${s.url}/monitorodata/Nope`, { headers: headersFor(s, tok) })).status).toBe(404);
    expect((await fetch(`${s.url}/elsewhere`)).status).toBe(404);
  });
});

describe('transport', () => {
  it('gzips the body only when asked', async () => {
    const s = await start();
    const h = headersFor(s, await token(s));
    const zipped = await raw(s, '/monitorodata/Users', { ...h, 'Accept-Encoding': 'gzip, deflate' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(zipped.bytes).toString()).value).toHaveLength(160);
    const plain = await raw(s, '/monitorodata/Users', h);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(plain.bytes.toString()).value).toHaveLength(160);
  });

  it('throttles a concurrent request with 429 and never accepts two at once', async () => {
    const s = await start({ latencyMs: 200 });
    const tok = await token(s);
    const statuses = await Promise.all(
      [1, 2].map(async () => (await getPage(s, tok, `${s.url}/monitorodata/Users`)).status),
    );
    expect(statuses.sort()).toEqual([200, 429]);
    expect(s.stats).toMatchObject({ throttled: 1, maxInFlight: 1 });
  });
});

describe('faults', () => {
  async function faulted(
    opts: Parameters<Standin['injectFault']>[0],
  ): Promise<{ s: Standin; res: Promise<Response> }> {
    const s = await start();
    const tok = await token(s);
    s.injectFault(opts);
    return {
      s,
      res: fetch(`${s.url}/monitorodata/Sessions?${hourQuery(H10)}`, { headers: headersFor(s, tok) }),
    };
  }

  it('injects a 429 with the given Retry-After, once', async () => {
    const { s, res } = await faulted({ kind: '429', retryAfterSeconds: 7 });
    expect((await res).status).toBe(429);
    expect((await res).headers.get('retry-after')).toBe('7');
    expect((await getPage(s, await token(s), `${s.url}/monitorodata/Sessions`)).status).toBe(200);
    expect(s.stats.faultsInjected).toEqual({ 429: 1 });
  });

  it.each([
    ['503-html', 503, 'text/html'],
    ['html-200', 200, 'text/html'],
    ['500', 500, 'application/json'],
  ] as const)('injects %s', async (kind, status, type) => {
    const { res } = await faulted({ kind });
    expect((await res).status).toBe(status);
    expect((await res).headers.get('content-type')).toContain(type);
  });

  it('injects a truncated JSON body', async () => {
    const { res } = await faulted({ kind: 'truncated' });
    expect((await res).status).toBe(200);
    await expect((await res).json()).rejects.toThrow();
  });

  it('injects a connection reset', async () => {
    const { s, res } = await faulted({ kind: 'reset' });
    await expect(res).rejects.toThrow();
    expect((await getPage(s, await token(s), `${s.url}/monitorodata/Sessions`)).status).toBe(200);
  });

  it('injects a nextLink to a foreign host', async () => {
    const { res } = await faulted({ kind: 'foreign-nextlink', foreignUrl: 'https://evil.example' });
    const body = (await (await res).json()) as Page['body'];
    expect(body['@odata.nextLink']).toMatch(/^https:\/\/evil\.example\/monitorodata\/Sessions\?\$filter=/);
    expect(body.value).toHaveLength(40);
  });

  it('only hits the entity it names', async () => {
    const { s, res } = await faulted({ kind: '500', entity: 'Users' });
    expect((await res).status).toBe(200);
    expect((await getPage(s, await token(s), `${s.url}/monitorodata/Users`)).status).toBe(500);
  });

  it('fails an entity until cleared', async () => {
    const s = await start();
    const tok = await token(s);
    s.failEntity('Users');
    const failed = await fetch(`${s.url}/monitorodata/Users`, { headers: headersFor(s, tok) });
    expect(failed.status).toBe(503);
    expect(failed.headers.get('content-type')).toContain('text/html');
    s.failEntity(null);
    expect((await getPage(s, tok, `${s.url}/monitorodata/Users`)).status).toBe(200);
  });
});
