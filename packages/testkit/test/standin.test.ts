/**
 * The Citrix Monitor stand-in over real HTTP: what a client sees (status, headers, rows, nextLinks) checked
 * against the stand-in's ground truth and against orders and comparisons this file computes on its own.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { type Standin, type StandinOptions, startStandin } from '@citrix-monitor/testkit/citrix-standin';
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR, instant } from '../../../test/fixtures/time.ts';

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

const hourQuery = (from: number, to = from + HOUR, field = 'ModifiedDate'): string =>
  `$filter=${encodeURIComponent(`${field} ge ${instant(from)} and ${field} lt ${instant(to)}`)}`;

type Row = Record<string, unknown>;

interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: {
    value: Row[];
    '@odata.nextLink'?: string;
    '@odata.count'?: number;
    error?: { code: string; message: string };
  };
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

const url = (s: Standin, entity: string, query = ''): string =>
  `${s.url}/monitorodata/${entity}${query ? `?${query}` : ''}`;
const filterQuery = (filter: string): string => `$filter=${encodeURIComponent(filter)}`;
const keysOf = (rows: Row[], key = 'SessionKey'): unknown[] => rows.map((r) => r[key]);
/** What an incompatible-types error says of its two operands' types. */
const operands = (left: string, right: string): string => `'Edm.${left}' and 'Edm.${right}'`;

/** SQL Server's uniqueidentifier order, from .NET's byte layout (first three groups little-endian). */
function compareSqlGuid(a: unknown, b: unknown): number {
  const bytes = (g: unknown): number[] => {
    const hex = String(g).replaceAll('-', '');
    const b = Array.from({ length: 16 }, (_, k) => Number.parseInt(hex.slice(2 * k, 2 * k + 2), 16));
    return [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15].map((k) => b[k] ?? 0);
  };
  const [x, y] = [bytes(a), bytes(b)];
  for (const k of [10, 11, 12, 13, 14, 15, 8, 9, 6, 7, 4, 5, 0, 1, 2, 3]) {
    const d = (x[k] ?? 0) - (y[k] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** 100 ns ticks of a .NET-formatted UTC instant, exactly. */
function ticks(text: unknown): bigint {
  const m = /^(.*?)(?:\.(\d{1,7}))?Z$/.exec(String(text));
  if (!m?.[1]) throw new Error(`not an instant: ${String(text)}`);
  return BigInt(Date.parse(`${m[1]}Z`)) * 10_000n + BigInt((m[2] ?? '').padEnd(7, '0'));
}

const compare = (a: unknown, b: unknown): number => (a === b ? 0 : (a as number) < (b as number) ? -1 : 1);
const OPS: Record<string, (c: number) => boolean> = {
  eq: (c) => c === 0,
  ne: (c) => c !== 0,
  gt: (c) => c > 0,
  ge: (c) => c >= 0,
  lt: (c) => c < 0,
  le: (c) => c <= 0,
};

/** Every row of the data span (4 hours), in key order. */
const ALL = (s: Standin, entity: string): Row[] =>
  s.rowsFor(entity, { fromMs: H10 - 2 * HOUR, toMs: H10 + 2 * HOUR });

/** Pages an hour the way that survives churn: by key inside a fixed window, passing back the key as written. */
async function pageByKey(s: Standin, tok: string, from: number, top: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (let last: unknown; ; ) {
    const window = `ModifiedDate ge ${instant(from)} and ModifiedDate lt ${instant(from + HOUR)}`;
    const filter = last === undefined ? window : `${window} and SessionKey gt ${String(last)}`;
    const page = await getPage(
      s,
      tok,
      url(s, 'Sessions', `${filterQuery(filter)}&$orderby=SessionKey%20asc&$top=${top}`),
    );
    expect(page.status).toBe(200);
    expect(page.body['@odata.nextLink']).toBeUndefined();
    rows.push(...page.body.value);
    if (page.body.value.length < top) return rows;
    last = page.body.value.at(-1)?.SessionKey;
  }
}

async function error400(s: Standin, entity: string, query: string): Promise<string> {
  const page = await getPage(s, await token(s), url(s, entity, query));
  expect(page.status).toBe(400);
  expect(page.body.error?.code).toBe('');
  return page.body.error?.message ?? '';
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
    let clock = H10;
    const s = await start({ tokenTtlSeconds: 1, tokenClock: () => clock });
    const tok = await token(s);
    clock += 999;
    expect((await getPage(s, tok, `${s.url}/monitorodata/Users`)).status).toBe(200);
    clock += 1;
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
  it('puts one row exactly on the hour and one on the last tick before the next', async () => {
    const s = await start();
    const page = await getPage(
      s,
      await token(s),
      url(s, 'Sessions', `${hourQuery(H10)}&$orderby=ModifiedDate%20asc`),
    );
    const stamps = page.body.value.map((r) => r.ModifiedDate);
    expect(stamps[0]).toBe('2026-11-24T10:00:00Z');
    expect(stamps.at(-1)).toBe('2026-11-24T10:59:59.9999999Z');
    const digits = new Set(stamps.map((t) => /\.(\d+)Z$/.exec(String(t))?.[1]?.length ?? 0));
    expect(digits.size).toBeGreaterThanOrEqual(3);
  });

  it('keeps keys unique across hours and is deterministic per seed', async () => {
    const s = await start();
    const t = await start();
    expect(new Set(keysOf(ALL(s, 'Sessions'))).size).toBe(160);
    expect(t.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR })).toEqual(
      s.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR }),
    );
    const ids = keysOf(ALL(s, 'Users'), 'Id');
    expect(new Set(ids).size).toBe(ids.length);
  });

  // Quickly: within the test's timeout (no elapsed time is asserted, which a loaded machine would fail).
  it('counts a million-row hour and serves a page of it', async () => {
    const s = await start({ rowsPerHour: 1_000_000 });
    expect(s.countFor('Machines', { fromMs: H10, toMs: H10 + HOUR })).toBe(1_000_000);
    expect(s.countFor('Machines', { fromMs: H10 + HOUR / 2, toMs: H10 + HOUR })).toBeGreaterThan(490_000);
    const page = await getPage(s, await token(s), url(s, 'Machines', hourQuery(H10 + HOUR / 2)));
    expect(page.body.value).toHaveLength(1000);
    expect(s.stats.pages).toMatchObject([{ entity: 'Machines', skipped: 0, rows: 1000 }]);
  });

  it('serves a MachineFailureLogs entity with integer keys', async () => {
    const s = await start();
    const page = await getPage(s, await token(s), url(s, 'MachineFailureLogs', hourQuery(H10)));
    expect(page.body.value).toHaveLength(40);
    expect(Object.keys(page.body.value[0] ?? {})).toEqual(
      expect.arrayContaining(['Id', 'FailureStartDate', 'FailureEndDate', 'CreatedDate', 'ModifiedDate']),
    );
  });
});

describe('offset paging', () => {
  it('links the next page absolutely with $skip=N, and the pages are the ground truth in key order', async () => {
    const s = await start({ rowsPerHour: 2500 });
    const pages = await getAll(s, await token(s), url(s, 'Sessions', hourQuery(H10)));
    expect(pages.map((p) => p.body.value.length)).toEqual([1000, 1000, 500]);
    expect(pages.flatMap((p) => p.body.value)).toEqual(
      s.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR }),
    );
    const links = pages.map((p) => p.body['@odata.nextLink']);
    expect(links[0]).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/monitorodata\/Sessions\?\$filter=[^&]+&\$skip=1000$/,
    );
    expect(links[1]).toMatch(/&\$skip=2000$/);
    expect(links[2]).toBeUndefined();
    expect(s.stats.maxInFlight).toBe(1);
    expect(s.stats.throttled).toBe(0);
  });

  it('escapes the repeated query as .NET does', async () => {
    const s = await start({ rowsPerHour: 50, serverPageSize: 20 });
    const page = await getPage(s, await token(s), url(s, 'Users', `${hourQuery(H10)}&$count=true`));
    expect(page.body['@odata.nextLink']).toContain(
      '?$filter=ModifiedDate%20ge%202026-11-24T10%3A00%3A00Z%20and%20ModifiedDate%20lt%202026-11-24T11%3A00%3A00Z&$count=true&$skip=20',
    );
  });

  it('caps the whole result with $top and carries the decreased $top in the nextLink', async () => {
    const s = await start({ rowsPerHour: 2500 });
    const pages = await getAll(s, await token(s), url(s, 'Sessions', `${hourQuery(H10)}&$top=2300`));
    expect(pages.map((p) => p.body.value.length)).toEqual([1000, 1000, 300]);
    expect(pages[0]?.body['@odata.nextLink']).toMatch(/&\$top=1300&\$skip=1000$/);
    expect(pages[1]?.body['@odata.nextLink']).toMatch(/&\$top=300&\$skip=2000$/);
    expect(pages.flatMap((p) => p.body.value)).toEqual(
      s.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR }).slice(0, 2300),
    );
  });

  it('answers a $top no larger than the page size in one page without a nextLink', async () => {
    const s = await start({ rowsPerHour: 2500 });
    const page = await getPage(s, await token(s), url(s, 'Sessions', `${hourQuery(H10)}&$top=1000`));
    expect(page.body.value).toHaveLength(1000);
    expect(page.body['@odata.nextLink']).toBeUndefined();
  });

  it("honours a client's own $skip and adds the page size to it", async () => {
    const s = await start({ rowsPerHour: 2500 });
    const tok = await token(s);
    const truth = s.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR });
    const middle = await getPage(s, tok, url(s, 'Sessions', `$skip=500&${hourQuery(H10)}`));
    expect(middle.body.value).toEqual(truth.slice(500, 1500));
    expect(middle.body['@odata.nextLink']).toMatch(/\?\$filter=[^&]+&\$skip=1500$/);
    const tail = await getPage(s, tok, url(s, 'Sessions', `${hourQuery(H10)}&$skip=2400`));
    expect(tail.body.value).toEqual(truth.slice(2400));
    expect(tail.body['@odata.nextLink']).toBeUndefined();
  });

  it('writes both relative forms with the relative style, and they resolve', async () => {
    const s = await start({ nextLinkStyle: 'relative' });
    const pages = await getAll(s, await token(s), url(s, 'Users', hourQuery(H10)), {
      Prefer: 'odata.maxpagesize=10',
    });
    const links = pages.map((p) => p.body['@odata.nextLink']).filter((l) => l !== undefined);
    expect(links.some((l) => l.startsWith('Users?'))).toBe(true);
    expect(links.some((l) => l.startsWith('/monitorodata/Users?'))).toBe(true);
    expect(links.some((l) => l.startsWith('http'))).toBe(false);
    expect(pages.flatMap((p) => p.body.value)).toEqual(s.rowsFor('Users', { fromMs: H10, toMs: H10 + HOUR }));
  });

  it('mixes absolute and both relative forms with the alternate style', async () => {
    const s = await start({ nextLinkStyle: 'alternate' });
    const pages = await getAll(s, await token(s), url(s, 'Users', hourQuery(H10)), {
      Prefer: 'odata.maxpagesize=5',
    });
    const links = pages.map((p) => p.body['@odata.nextLink'] ?? '').slice(0, -1);
    expect(
      new Set(links.map((l) => (l.startsWith('http') ? 'abs' : l.startsWith('/') ? 'root' : 'entity'))),
    ).toEqual(new Set(['abs', 'root', 'entity']));
    expect(pages.flatMap((p) => p.body.value)).toEqual(s.rowsFor('Users', { fromMs: H10, toMs: H10 + HOUR }));
  });

  it('lets Prefer odata.maxpagesize lower the page size but never raise it', async () => {
    const s = await start({ rowsPerHour: 2500, serverPageSize: 700 });
    const tok = await token(s);
    const small = await getPage(s, tok, url(s, 'Sessions', hourQuery(H10)), {
      Prefer: 'odata.maxpagesize=300',
    });
    expect(small.body.value).toHaveLength(300);
    expect(small.headers.get('preference-applied')).toBe('odata.maxpagesize=300');
    expect(small.body['@odata.nextLink']).toMatch(/&\$skip=300$/);
    const big = await getPage(s, tok, url(s, 'Sessions', hourQuery(H10)), {
      Prefer: 'odata.maxpagesize=5000',
    });
    expect(big.body.value).toHaveLength(700);
    expect(big.headers.get('preference-applied')).toBe('odata.maxpagesize=700');
    expect(big.body['@odata.nextLink']).toMatch(/&\$skip=700$/);
  });

  it('adds the whole count with $count=true, whatever the page', async () => {
    const s = await start();
    const tok = await token(s);
    const first = await getPage(s, tok, url(s, 'Machines', `${hourQuery(H10)}&$count=true`));
    expect(first.body['@odata.count']).toBe(40);
    const later = await getPage(s, tok, url(s, 'Machines', `${hourQuery(H10)}&$count=true&$skip=30&$top=5`));
    expect(later.body['@odata.count']).toBe(40);
    expect(later.body.value).toHaveLength(5);
  });

  it('refuses a $skiptoken: this server pages by offset', async () => {
    const s = await start();
    expect(await error400(s, 'Users', '$skiptoken=abc')).toContain('SkipToken');
  });
});

describe('filters', () => {
  it('puts a row stamped on the hour in the window starting there, not in the previous one', async () => {
    const s = await start();
    const tok = await token(s);
    const order = '&$orderby=ModifiedDate%20asc';
    const before = await getPage(s, tok, url(s, 'Sessions', `${hourQuery(H10 - HOUR)}${order}`));
    const after = await getPage(s, tok, url(s, 'Sessions', `${hourQuery(H10)}${order}`));
    expect(before.body.value.at(-1)?.ModifiedDate).toBe('2026-11-24T09:59:59.9999999Z');
    expect(after.body.value[0]?.ModifiedDate).toBe('2026-11-24T10:00:00Z');
    expect(before.body.value).toHaveLength(40);
  });

  it('compares instants with 100 ns precision, and reads offsets', async () => {
    const s = await start();
    const tok = await token(s);
    const within = filterQuery(
      'ModifiedDate ge 2026-11-24T09:00:00Z and ModifiedDate le 2026-11-24T09:59:59.9999998Z',
    );
    expect((await getPage(s, tok, url(s, 'Sessions', within))).body.value).toHaveLength(39);
    const exact = filterQuery('ModifiedDate eq 2026-11-24T09:59:59.9999999Z');
    expect((await getPage(s, tok, url(s, 'Sessions', exact))).body.value).toHaveLength(1);
    const offset = filterQuery(
      'ModifiedDate ge 2026-11-24T11:00:00+01:00 and ModifiedDate lt 2026-11-24T12:00+01:00',
    );
    expect((await getPage(s, tok, url(s, 'Sessions', offset))).body.value).toEqual(
      s.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR }),
    );
  });

  it('filters on CreatedDate like the ground truth', async () => {
    const s = await start();
    const page = await getPage(
      s,
      await token(s),
      url(s, 'Sessions', hourQuery(H10, H10 + HOUR, 'CreatedDate')),
    );
    expect(page.body.value).toEqual(
      s.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR, field: 'CreatedDate' }),
    );
  });

  it.each([
    [
      '(ConnectionState eq 3 or ConnectionState eq 1) and not (UserId gt 2500)',
      (r: Row) => (r.ConnectionState === 3 || r.ConnectionState === 1) && !((r.UserId as number) > 2500),
    ],
    // and binds tighter than or
    [
      'ConnectionState eq 3 or ConnectionState eq 1 and UserId gt 2500',
      (r: Row) => r.ConnectionState === 3 || (r.ConnectionState === 1 && (r.UserId as number) > 2500),
    ],
    [
      'not (ConnectionState eq 5) and (EndDate eq null or SessionType eq 1)',
      (r: Row) => r.ConnectionState !== 5 && (r.EndDate === null || r.SessionType === 1),
    ],
    ['EndDate ne null', (r: Row) => r.EndDate !== null],
  ])('evaluates %s', async (filter, expected) => {
    const s = await start();
    const page = await getPage(s, await token(s), url(s, 'Sessions', filterQuery(filter)));
    const want = ALL(s, 'Sessions').filter(expected);
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(160);
    expect(page.body.value).toEqual(want);
  });

  describe.each(Object.keys(OPS))('operator %s', (op) => {
    const cmp = OPS[op] ?? (() => false);
    it.each([
      [
        'DateTimeOffset',
        'Sessions',
        'ModifiedDate',
        (v: unknown) => String(v),
        (a: unknown, b: unknown) => compare(ticks(a), ticks(b)),
      ],
      ['Guid', 'Sessions', 'SessionKey', (v: unknown) => String(v), compareSqlGuid],
      ['integer', 'Users', 'Id', (v: unknown) => String(v), compare],
      ['string', 'Users', 'UserName', (v: unknown) => `'${String(v)}'`, compare],
    ])('compares a %s', async (_, entity, prop, literal, order) => {
      const s = await start();
      const rows = ALL(s, entity);
      // A value from the middle of the data, with 7 fraction digits where the property is a time.
      const pivot = rows
        .map((r) => r[prop])
        .find((v, k) => k >= 70 && !/\.\d{1,6}Z$|:\d\dZ$/.test(String(v)));
      const page = await getPage(
        s,
        await token(s),
        url(s, entity, filterQuery(`${prop} ${op} ${literal(pivot)}`)),
      );
      expect(page.status).toBe(200);
      expect(page.body.value).toEqual(rows.filter((r) => cmp(order(r[prop], pivot))));
    });
  });

  it('reads doubled quotes in strings and compares booleans', async () => {
    const s = await start();
    const tok = await token(s);
    const quoted = await getPage(
      s,
      tok,
      url(s, 'Users', filterQuery("FullName ne 'O''Brien' and Domain eq 'CORP'")),
    );
    expect(quoted.body.value).toHaveLength(160);
    const maintenance = await getPage(s, tok, url(s, 'Machines', filterQuery('IsInMaintenanceMode eq true')));
    expect(maintenance.body.value).toEqual(ALL(s, 'Machines').filter((r) => r.IsInMaintenanceMode === true));
  });

  // Each filter is sent on Sessions, which has a property of each type (CurrentConnectionId: Edm.Int64).
  it.each([
    ['an unknown property', 'Nope eq 1', "Could not find a property named 'Nope' on type"],
    ['a missing operand', 'ModifiedDate ge', 'Syntax error'],
    ['an unclosed parenthesis', '(UserId eq 1', "')' expected"],
    ['an unknown operator', 'UserId gte 1', "'gte' is not an operator"],
    ['a quoted date', "ModifiedDate ge '2026-11-24T10:00:00Z'", operands('DateTimeOffset', 'String')],
    ['a quoted Guid', "SessionKey eq '4569fdfd-54c4-44c8-81a9-40688a2771d6'", operands('Guid', 'String')],
    ['a number against a Guid', 'SessionKey gt 5', operands('Guid', 'Int32')],
    ['a string against an integer', "CurrentConnectionId eq '7'", operands('Int64', 'String')],
    ['an invalid date', 'ModifiedDate ge 2026-02-30T10:00:00Z', "Unrecognized 'Edm.DateTimeOffset' literal"],
    ['8 fraction digits', 'ModifiedDate ge 2026-11-24T10:00:00.12345678Z', "Unrecognized 'Edm.DateTime"],
    ['an ordering of null', 'EndDate gt null', 'only eq and ne'],
    ['a non-boolean filter', 'UserId', 'single boolean value'],
  ])('answers 400 with an OData error for %s', async (_, filter, named) => {
    const s = await start();
    const message = await error400(s, 'Sessions', filterQuery(filter));
    expect(message).toMatch(/^The query specified in the URI is not valid\. /);
    expect(message).toContain(named);
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
    expect((await fetch(url(s, 'Nope'), { headers: headersFor(s, tok) })).status).toBe(404);
    expect((await fetch(`${s.url}/elsewhere`)).status).toBe(404);
  });
});

describe('order', () => {
  it("serves Guid keys in SQL Server's uniqueidentifier order, which is not their text order", async () => {
    const s = await start();
    const page = await getPage(s, await token(s), url(s, 'Sessions', hourQuery(H10)));
    const keys = keysOf(page.body.value).map(String);
    expect(keys).toEqual([...keys].sort(compareSqlGuid));
    expect(keys).not.toEqual([...keys].sort());
  });

  it('serves integer keys numerically', async () => {
    const s = await start();
    const page = await getPage(s, await token(s), url(s, 'Users'));
    const ids = keysOf(page.body.value, 'Id') as number[];
    expect(ids).toHaveLength(160);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('orders by the key descending', async () => {
    const s = await start();
    const page = await getPage(
      s,
      await token(s),
      url(s, 'Sessions', `${hourQuery(H10)}&$orderby=SessionKey%20desc`),
    );
    expect(page.body.value).toEqual(s.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR }).reverse());
  });

  it('orders by a non-key property and breaks ties by the key', async () => {
    const s = await start();
    const page = await getPage(s, await token(s), url(s, 'Sessions', '$orderby=ConnectionState%20desc'));
    const want = [...ALL(s, 'Sessions')].sort(
      (a, b) => compare(b.ConnectionState, a.ConnectionState) || compareSqlGuid(a.SessionKey, b.SessionKey),
    );
    expect(page.body.value).toEqual(want);
  });

  it('orders by ModifiedDate descending across hours, and pages that order by offset', async () => {
    const s = await start();
    const pages = await getAll(s, await token(s), url(s, 'Sessions', '$orderby=ModifiedDate%20desc'), {
      Prefer: 'odata.maxpagesize=50',
    });
    const stamps = pages.flatMap((p) => p.body.value.map((r) => ticks(r.ModifiedDate)));
    expect(stamps).toHaveLength(160);
    expect(stamps).toEqual([...stamps].sort((a, b) => compare(b, a)));
  });

  it('answers 400 to an $orderby on an unknown property', async () => {
    const s = await start();
    expect(await error400(s, 'Sessions', '$orderby=Nope')).toContain(
      "Could not find a property named 'Nope'",
    );
  });
});

describe('churn', () => {
  const churning = { churn: { entities: ['Sessions'], rowsPerPage: 5, seed: 7 }, rowsPerHour: 1000 };

  it('makes an offset pager lose rows that never changed', async () => {
    const s = await start(churning);
    const pages = await getAll(s, await token(s), url(s, 'Sessions', hourQuery(H10)), {
      Prefer: 'odata.maxpagesize=100',
    });
    const delivered = new Set(pages.flatMap((p) => keysOf(p.body.value)));
    const unchanged = keysOf(s.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR }));
    const lost = unchanged.filter((k) => !delivered.has(k));
    expect(s.changes('Sessions').length).toBeGreaterThan(0);
    expect(unchanged.length).toBe(1000 - s.changes('Sessions').length);
    expect(lost.length).toBeGreaterThan(0);
    expect(delivered.size).toBeLessThan(1000);
  });

  it('leaves a key pager in a fixed window every row exactly once', async () => {
    const s = await start(churning);
    const rows = await pageByKey(s, await token(s), H10, 100);
    const keys = keysOf(rows);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(1000);
    expect(s.changes('Sessions')).toHaveLength(50);
    const unchanged = keysOf(s.rowsFor('Sessions', { fromMs: H10, toMs: H10 + HOUR }));
    expect(unchanged).toHaveLength(950);
    expect(unchanged.filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('reports each change and moves the row from its hour to the hour of now', async () => {
    const changedAt = H10 + 9 * HOUR + 1_234;
    const s = await start({ churn: { entities: ['Sessions'], rowsPerPage: 1 }, now: () => changedAt });
    const tok = await token(s);
    const page = await getPage(s, tok, url(s, 'Sessions', hourQuery(H10)));
    const [change, ...others] = s.changes();
    expect(others).toEqual([]);
    if (!change) throw new Error('no change');
    expect(change.entity).toBe('Sessions');
    expect(page.body.value).toContainEqual(change.before);
    expect(change.before.SessionKey).toBe(change.key);
    expect(change.after).toMatchObject({ SessionKey: change.key, ConnectionState: 3 });
    expect(change.after.EndDate).toBe(change.after.ModifiedDate);
    const changedMs = Number(ticks(change.after.ModifiedDate) / 10_000n);
    expect(changedMs).toBe(changedAt);

    s.churn(false);
    const again = await getPage(s, tok, url(s, 'Sessions', hourQuery(H10)));
    expect(keysOf(again.body.value)).not.toContain(change.key);
    expect(again.body.value).toHaveLength(39);
    const nowHour = Math.floor(changedMs / HOUR) * HOUR;
    const current = await getPage(s, tok, url(s, 'Sessions', hourQuery(nowHour)));
    expect(current.body.value).toEqual([change.after]);
    expect(s.rowsFor('Sessions', { fromMs: nowHour, toMs: nowHour + HOUR })).toEqual([change.after]);
    expect(s.countFor('Sessions', { fromMs: H10, toMs: H10 + HOUR })).toBe(39);
    s.resetStats();
    expect(s.changes('Sessions')).toHaveLength(1);
    expect(s.changes('Machines')).toEqual([]);
  });

  it.each([
    ['Sessions', '', 1],
    ['Sessions', '', 2],
    ['Sessions', '$orderby=SessionKey desc', 1],
    ['Sessions', '$orderby=ModifiedDate asc', 2],
    ['Sessions', '$orderby=ModifiedDate desc', 2],
    ['Users', '', 2],
    ['Users', '$orderby=Id desc', 1],
  ])(
    'skips exactly the current rows of %s (%s, %i h) once rows have changed',
    async (entity, order, hours) => {
      const s = await start({ rowsPerHour: 300, now: () => H10 + 9 * HOUR });
      const key = entity === 'Sessions' ? 'SessionKey' : 'Id';
      const from = H10 - (hours - 1) * HOUR;
      const truth = (): Row[] => {
        const rows = s.rowsFor(entity, { fromMs: from, toMs: H10 + HOUR });
        const byKey = (a: Row, b: Row): number =>
          entity === 'Sessions' ? compareSqlGuid(a[key], b[key]) : compare(a[key], b[key]);
        if (order.includes('ModifiedDate')) {
          const dir = order.endsWith('desc') ? -1 : 1;
          return rows.sort(
            (a, b) => dir * compare(ticks(a.ModifiedDate), ticks(b.ModifiedDate)) || byKey(a, b),
          );
        }
        return order.endsWith('desc') ? rows.reverse() : rows;
      };
      const before = truth();
      const changed = [0, 1, 2, 50, 51, 149, 150, 151, 297, 299].map((k) =>
        Math.floor((k * hours * 300) / 300),
      );
      for (const k of changed) s.change(entity, before[k]?.[key] as string | number);
      const expected = truth();
      expect(expected).toHaveLength(hours * 300 - 10);
      const tok = await token(s);
      const window = `ModifiedDate ge ${instant(from)} and ModifiedDate lt ${instant(H10 + HOUR)}`;
      for (const skip of [0, 1, 3, 47, 48, 49, 140, 141, 142, 143, 287, 288, 289, 290, 440, 589, 590, 700]) {
        const query = `${filterQuery(window)}&${order.replace(' ', '%20')}&$skip=${skip}&$top=7`;
        const page = await getPage(s, tok, url(s, entity, query));
        expect(page.body.value, `$skip=${skip}`).toEqual(expected.slice(skip, skip + 7));
      }
    },
  );

  it('changes a row again later, moving it to the new now', async () => {
    const s = await start({ now: () => H10 + 5 * HOUR });
    const key = s.rowsFor('Machines', { fromMs: H10, toMs: H10 + HOUR })[3]?.Id as string;
    const first = s.change('Machines', key);
    const second = s.change('Machines', key);
    expect(second.before).toEqual(first.after);
    expect(first.after.CurrentRegistrationState).not.toBe(first.before.CurrentRegistrationState);
    expect(ticks(second.after.ModifiedDate)).toBeGreaterThan(ticks(first.after.ModifiedDate));
    expect(keysOf(s.rowsFor('Machines', { fromMs: H10 + 5 * HOUR, toMs: H10 + 6 * HOUR }), 'Id')).toEqual([
      key,
    ]);
    expect(() => s.change('Machines', '00000000-0000-0000-0000-000000000000')).toThrow();
  });

  it('only churns after pages of the listed entities, and stops when switched off', async () => {
    const s = await start({ churn: { entities: ['Sessions'], rowsPerPage: 2 } });
    const tok = await token(s);
    await getPage(s, tok, url(s, 'Users', hourQuery(H10)));
    expect(s.changes()).toEqual([]);
    s.churn(false);
    await getPage(s, tok, url(s, 'Sessions', hourQuery(H10)));
    expect(s.changes()).toEqual([]);
    s.churn(true);
    await getPage(s, tok, url(s, 'Sessions', hourQuery(H10)));
    expect(s.changes('Sessions')).toHaveLength(2);
  });
});

describe('query time', () => {
  it('grows with the rows a page skips, and the page log shows it', async () => {
    const s = await start({ rowsPerHour: 1000, msPerSkippedRow: 0.2 });
    const tok = await token(s);
    const prefer = { Prefer: 'odata.maxpagesize=100' };
    await getPage(s, tok, url(s, 'Sessions', hourQuery(H10)), prefer);
    await getPage(s, tok, url(s, 'Sessions', `${hourQuery(H10)}&$skip=900`), prefer);
    const [first, deep, ...rest] = s.stats.pages;
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ entity: 'Sessions', skip: 0, rows: 100 });
    expect(deep).toMatchObject({ entity: 'Sessions', skip: 900, rows: 100 });
    // Only the deep page pays for the rows it skips: 900 rows at 0.2 ms.
    expect(first).toMatchObject({ skipped: 0, queryMs: 0 });
    expect(deep).toMatchObject({ skipped: 900, queryMs: 180 });
    s.resetStats();
    expect(s.stats.pages).toEqual([]);
  });

  it('times a query out past queryTimeoutMs with a 500 OData error, still one call at a time', async () => {
    const s = await start({ rowsPerHour: 1000, msPerSkippedRow: 1, queryTimeoutMs: 200 });
    const tok = await token(s);
    const slow = getPage(s, tok, url(s, 'Sessions', `${hourQuery(H10)}&$skip=500`));
    // The slow query is in the stand-in's hands once it counted the request (it then holds the tenant's call).
    while (s.stats.dataRequests < 1) await new Promise((r) => setTimeout(r, 5));
    const concurrent = await getPage(s, tok, url(s, 'Sessions', hourQuery(H10)));
    const timedOut = await slow;
    expect(concurrent.status).toBe(429);
    expect(timedOut.status).toBe(500);
    expect(timedOut.body.error?.message).toContain('Execution Timeout Expired');
    // 500 skipped rows at 1 ms would take 500 ms: the stand-in gave up at queryTimeoutMs instead.
    expect(s.stats.timeouts).toEqual([{ entity: 'Sessions', skip: 500, queryMs: 500 }]);
    expect(s.stats.pages).toEqual([]);
    expect(s.stats.maxInFlight).toBe(1);
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
