import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CitrixClient, type CitrixClientOptions } from '../../functions/adapters/citrix-client.ts';
import { jsonLinesTelemetry } from '../../functions/adapters/telemetry.ts';
import {
  BadConfiguration,
  CitrixAuthFailed,
  CitrixBadQuery,
  CitrixThrottled,
  CitrixTransient,
  ForeignNextLink,
} from '../../functions/domain/errors.ts';
import { OutOfTime } from '../../functions/domain/ports.ts';

// Each test starts its own small HTTP server on 127.0.0.1 that stands in for Citrix Cloud: it issues
// tokens, answers data requests as the test says, and records every request it receives. Its query
// and form decoding is written here by hand, so it shares no code with the client under test.

const CUSTOMER = 'cust1';
const TOKEN = 'tok-q8Zr'; // tokens are `${TOKEN}-1`, `${TOKEN}-2`, … in the order they are issued
const HOUR = Date.parse('2026-11-24T10:00:00Z');
const SESSION = {
  SessionKey: '4569fdfd-54c4-44c8-81a9-40688a2771d6',
  StartDate: '2024-07-31T11:22:37.473Z',
  EndDate: null,
  ConnectionState: 5,
  ModifiedDate: '2024-08-06T07:08:50.72Z',
};

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
type Reply = (request: Seen, res: ServerResponse, nth: number) => void;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; odata.metadata=minimal', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

const page = (rows: unknown[], nextLink?: string) => ({
  '@odata.context': 'https://api.cloud.com/monitorodata/$metadata#Sessions',
  value: rows,
  ...(nextLink ? { '@odata.nextLink': nextLink } : {}),
});

const okPage: Reply = (_request, res) => send(res, 200, page([SESSION]));

/** Issues the n-th token (1-based). */
const issueToken =
  (expiresIn: unknown): Reply =>
  (_request, res, nth) =>
    send(res, 200, { token_type: 'bearer', access_token: `${TOKEN}-${nth}`, expires_in: expiresIn });

/**
 * Starts a stand-in; `reply` answers the n-th data request (1-based), `token` the n-th request to the
 * token endpoint, by default with a token.
 */
async function citrixStandIn(
  reply: Reply = okPage,
  expiresIn: unknown = '3600',
  token = issueToken(expiresIn),
) {
  const tokens: Seen[] = [];
  const data: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const seen = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
      };
      if (seen.path === `/cctrustoauth2/${CUSTOMER}/tokens/clients`) {
        tokens.push(seen);
        token(seen, res, tokens.length);
        return;
      }
      data.push(seen);
      reply(seen, res, data.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, tokens, data };
}

function clientOf(apiBase: string, options: Partial<CitrixClientOptions> = {}) {
  return new CitrixClient({
    apiBase,
    customerId: CUSTOMER,
    clientId: 'client-1',
    clientSecret: async () => 'the-secret',
    pageSize: 250,
    backoffMs: 1,
    maxAttempts: 3,
    ...options,
  });
}

const firstPage = (client: CitrixClient) =>
  client.firstPageUrl({
    entity: 'Sessions',
    timeField: 'ModifiedDate',
    fromMs: HOUR,
    toMs: HOUR + 3_600_000,
  });

/** Decodes `a=b&c=d` by hand (`+` as a space when it is a form). */
function decode(text: string, form = false): Record<string, string> {
  const parts = text.split('&').map((pair) => {
    const [name = '', value = ''] = pair
      .split('=', 2)
      .map((s) => decodeURIComponent(form ? s.replaceAll('+', ' ') : s));
    return [name, value];
  });
  return Object.fromEntries(parts);
}
const queryOf = (path: string) => decode(path.slice(path.indexOf('?') + 1));

/** The error `work` fails with; the test fails if it succeeds. Checks no message carries a credential. */
async function failure(work: Promise<unknown>): Promise<Error> {
  const outcome = await work.then(
    () => new Error('the request succeeded'),
    (error: unknown) => error as Error,
  );
  expect(outcome.message).not.toContain(TOKEN);
  expect(outcome.message).not.toContain('the-secret');
  return outcome;
}

describe('CitrixClient.firstPageUrl', () => {
  it('percent-encodes the whole query: no raw space, no plus', () => {
    const url = firstPage(clientOf('https://api.cloud.com'));

    expect(url.startsWith('https://api.cloud.com/monitorodata/Sessions?')).toBe(true);
    expect(url).not.toMatch(/[ +]/);
  });

  it('asks the server for the half-open hour with unquoted literals and no $top', async () => {
    const citrix = await citrixStandIn();
    const client = clientOf(citrix.base);

    await client.fetchPage(firstPage(client), 'Sessions 10:00');

    const query = queryOf(citrix.data[0]?.path ?? '');
    expect(query.$filter).toBe(
      'ModifiedDate ge 2026-11-24T10:00:00Z and ModifiedDate lt 2026-11-24T11:00:00Z',
    );
    expect(Object.keys(query)).not.toContain('$top');
  });
});

describe('CitrixClient.keyPageUrl', () => {
  const request = { entity: 'Sessions', timeField: 'ModifiedDate', keyField: 'SessionKey', top: 100 };
  const window = { fromMs: HOUR, toMs: HOUR + 3_600_000 };

  it('asks for the first rows of the hour in key order, with $top capping this one request', () => {
    const url = clientOf('https://api.cloud.com').keyPageUrl({ ...request, ...window, after: null });

    expect(queryOf(url)).toEqual({
      $filter: 'ModifiedDate ge 2026-11-24T10:00:00Z and ModifiedDate lt 2026-11-24T11:00:00Z',
      $orderby: 'SessionKey asc',
      $top: '100',
    });
    expect(url).not.toMatch(/[ +]/);
  });

  it('continues after the last key, a Guid sent back unquoted exactly as the server wrote it', () => {
    const after = '4569FDFD-54c4-44c8-81a9-40688a2771d6';
    const url = clientOf('https://api.cloud.com').keyPageUrl({ ...request, ...window, after });

    expect(queryOf(url).$filter).toBe(
      `ModifiedDate ge 2026-11-24T10:00:00Z and ModifiedDate lt 2026-11-24T11:00:00Z and SessionKey gt ${after}`,
    );
  });

  it('sends an integer key unquoted and any other string key quoted, with its quotes doubled', () => {
    const client = clientOf('https://api.cloud.com');
    const byId = client.keyPageUrl({ ...request, ...window, keyField: 'Id', after: 887132 });
    const byName = client.keyPageUrl({ ...request, ...window, keyField: 'Name', after: "O'Brien" });

    expect(queryOf(byId).$filter).toMatch(/ and Id gt 887132$/);
    expect(queryOf(byName).$filter).toMatch(/ and Name gt 'O''Brien'$/);
  });
});

describe('CitrixClient.fetchPage within a deadline', () => {
  it('waits for a Retry-After only as long as the time left, then hands the page back as OutOfTime', async () => {
    const citrix = await citrixStandIn((_request, res) =>
      send(res, 429, { message: 'Too many requests' }, { 'retry-after': '30' }),
    );
    const waits: number[] = [];
    const client = clientOf(citrix.base, { sleep: async (ms) => void waits.push(ms) });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00', Date.now() + 2_000));

    expect(error).toBeInstanceOf(OutOfTime);
    expect(citrix.data).toHaveLength(1);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeLessThanOrEqual(2_000);
  });

  it('gives up a request that is still under way at the deadline, as OutOfTime rather than a failure', async () => {
    const citrix = await citrixStandIn(() => {}); // never answers
    const client = clientOf(citrix.base, { requestTimeoutMs: 60_000 });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00', Date.now() + 300));

    expect(error).toBeInstanceOf(OutOfTime);
    expect(citrix.data).toHaveLength(1);
  });

  it('sends no request once the deadline has passed', async () => {
    const citrix = await citrixStandIn();
    const client = clientOf(citrix.base);

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00', Date.now() - 1));

    expect(error).toBeInstanceOf(OutOfTime);
    expect(citrix.data).toEqual([]);
  });
});

describe('CitrixClient.fetchPage', () => {
  it('asks for the page size with a Prefer header', async () => {
    const citrix = await citrixStandIn();
    const client = clientOf(citrix.base, { pageSize: 250 });

    await client.fetchPage(firstPage(client), 'Sessions 10:00');

    expect(citrix.data[0]?.headers.prefer).toBe('odata.maxpagesize=250');
  });

  it('sends the token as CWSAuth and the customer id on a data request', async () => {
    const citrix = await citrixStandIn();
    const client = clientOf(citrix.base);

    await client.fetchPage(firstPage(client), 'Sessions 10:00');

    expect(citrix.data[0]?.headers.authorization).toBe(`CWSAuth bearer=${TOKEN}-1`);
    expect(citrix.data[0]?.headers['citrix-customerid']).toBe(CUSTOMER);
  });

  it('asks for a token with form-encoded client credentials', async () => {
    const citrix = await citrixStandIn();
    const client = clientOf(citrix.base);

    await client.fetchPage(firstPage(client), 'Sessions 10:00');

    const request = citrix.tokens[0];
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(decode(request?.body ?? '', true)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'client-1',
      client_secret: 'the-secret',
    });
  });

  it.each([['3600'], [3600]])('accepts a token whose expires_in is %j', async (expiresIn) => {
    const citrix = await citrixStandIn(okPage, expiresIn);
    const client = clientOf(citrix.base);

    const result = await client.fetchPage(firstPage(client), 'Sessions 10:00');

    expect(result.rows).toEqual([SESSION]);
  });

  it('returns the rows unchanged, with no next page when there is no nextLink', async () => {
    const citrix = await citrixStandIn();
    const client = clientOf(citrix.base);

    const result = await client.fetchPage(firstPage(client), 'Sessions 10:00');

    expect(result).toMatchObject({ rows: [SESSION], nextLink: null });
  });

  it('uses one token for every page while it is valid', async () => {
    const citrix = await citrixStandIn((_request, res, nth) =>
      send(res, 200, page([SESSION], nth === 1 ? 'Sessions?$skiptoken=2' : undefined)),
    );
    const client = clientOf(citrix.base);

    const first = await client.fetchPage(firstPage(client), 'Sessions 10:00');
    await client.fetchPage(first.nextLink ?? '', 'Sessions 10:00');

    expect(citrix.tokens).toHaveLength(1);
    expect(citrix.data.map((request) => request.headers.authorization)).toEqual([
      `CWSAuth bearer=${TOKEN}-1`,
      `CWSAuth bearer=${TOKEN}-1`,
    ]);
  });

  it('gets a new token after a 401 and fetches the page with it', async () => {
    const citrix = await citrixStandIn((request, res) =>
      request.headers.authorization === `CWSAuth bearer=${TOKEN}-1`
        ? send(res, 401, { error: 'token expired' })
        : send(res, 200, page([SESSION])),
    );
    const client = clientOf(citrix.base);

    const result = await client.fetchPage(firstPage(client), 'Sessions 10:00');

    expect(result.rows).toEqual([SESSION]);
    expect(citrix.data.at(-1)?.headers.authorization).toBe(`CWSAuth bearer=${TOKEN}-2`);
  });

  it('renews the token only once: a second 401 is CitrixAuthFailed', async () => {
    const citrix = await citrixStandIn((_request, res) => send(res, 401, { error: 'unauthorized' }));
    const client = clientOf(citrix.base, { maxAttempts: 5 });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixAuthFailed);
    expect(citrix.tokens).toHaveLength(2);
    expect(citrix.data).toHaveLength(2);
  });

  it('decodes a gzip-compressed page', async () => {
    // Node's fetch asks for gzip on its own as well, so the request header is not what this test checks.
    const citrix = await citrixStandIn((_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify(page([SESSION, SESSION]))));
    });
    const client = clientOf(citrix.base);

    const result = await client.fetchPage(firstPage(client), 'Sessions 10:00');

    expect(result.rows).toEqual([SESSION, SESSION]);
  });

  it.each([['Sessions?$skiptoken=2'], ['/monitorodata/Sessions?$skiptoken=2']])(
    'follows the relative nextLink %s from the page that returned it',
    async (link) => {
      const citrix = await citrixStandIn((_request, res, nth) =>
        send(res, 200, nth === 1 ? page([SESSION], link) : page([{ ...SESSION, UserId: 7 }])),
      );
      const client = clientOf(citrix.base);
      const first = await client.fetchPage(firstPage(client), 'Sessions 10:00');

      const second = await client.fetchPage(first.nextLink ?? '', 'Sessions 10:00');

      expect(citrix.data[1]?.path).toBe('/monitorodata/Sessions?$skiptoken=2');
      expect(second.rows).toEqual([{ ...SESSION, UserId: 7 }]);
    },
  );

  it('never sends a request to the host of a foreign nextLink', async () => {
    const foreign = await citrixStandIn();
    const citrix = await citrixStandIn((_request, res) =>
      send(res, 200, page([SESSION], `${foreign.base}/monitorodata/Sessions?$skiptoken=2`)),
    );
    const client = clientOf(citrix.base);

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(ForeignNextLink);
    expect(foreign.tokens.length + foreign.data.length).toBe(0);
  });

  it('does not follow a redirect from the token endpoint, so the client secret goes nowhere else', async () => {
    const elsewhere = await citrixStandIn();
    const redirecting = createServer((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.base}/cctrustoauth2/${CUSTOMER}/tokens/clients` });
      res.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => redirecting.close(() => resolve())));
    const client = clientOf(`http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`);

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixAuthFailed);
    expect(error.message).toContain('redirect');
    expect(elsewhere.tokens).toEqual([]);
  });

  it('waits as long as Retry-After asks after a 429, then gets the page', async () => {
    const citrix = await citrixStandIn((_request, res, nth) =>
      nth === 1
        ? send(res, 429, { message: 'Too many requests' }, { 'retry-after': '1' })
        : okPage(_request, res, nth),
    );
    const waits: number[] = [];
    const client = clientOf(citrix.base, { sleep: async (ms) => void waits.push(ms) });

    const result = await client.fetchPage(firstPage(client), 'Sessions 10:00');

    expect(result.rows).toEqual([SESSION]);
    expect(waits).toEqual([1000]);
    expect(citrix.data).toHaveLength(2);
  });

  it('gives up with CitrixThrottled after maxAttempts when the 429s persist', async () => {
    const citrix = await citrixStandIn((_request, res) => send(res, 429, { message: 'Too many requests' }));
    const client = clientOf(citrix.base, { maxAttempts: 3 });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixThrottled);
    expect(citrix.data).toHaveLength(3);
  });

  it('retries a 503 and returns the page that follows', async () => {
    const citrix = await citrixStandIn((request, res, nth) =>
      nth === 1 ? send(res, 503, { message: 'busy' }) : okPage(request, res, nth),
    );
    const client = clientOf(citrix.base);

    const result = await client.fetchPage(firstPage(client), 'Sessions 10:00');

    expect(result.rows).toEqual([SESSION]);
  });

  it("names the server's OData error when a query fails with 500, such as its 30 s query timeout", async () => {
    const timeout = { error: { code: '', message: 'Execution Timeout Expired.' } };
    const citrix = await citrixStandIn((_request, res) => send(res, 500, timeout));
    const client = clientOf(citrix.base, { maxAttempts: 2 });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixTransient);
    expect(error.message).toBe(
      `Sessions 10:00: Citrix answered HTTP 500, "Execution Timeout Expired."; retried. Request: GET ${firstPage(client)}`,
    );
  });

  it("reports a gateway's 503 HTML page as CitrixTransient, with its title and without the token", async () => {
    const html =
      '<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>down</body></html>';
    const citrix = await citrixStandIn((_request, res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end(html);
    });
    const client = clientOf(citrix.base, { maxAttempts: 2 });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixTransient);
    expect(error.message).toContain('an HTML page');
    expect(error.message).toContain('"503 Service Unavailable"');
  });

  it('treats an HTML page answered with 200 as CitrixTransient, not as an empty page, and says what to check', async () => {
    const citrix = await citrixStandIn((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><head><title>Sign in</title></head><body></body></html>');
    });
    const client = clientOf(citrix.base, { maxAttempts: 1 });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixTransient);
    expect(error.message).toContain(
      'Citrix returned an HTML page (HTTP 200, text/html, "Sign in") instead of an OData page; nothing was written for it, and it is retried. If it persists, check API_BASE (a proxy or gateway may be answering)',
    );
  });

  it('treats truncated JSON as CitrixTransient', async () => {
    const citrix = await citrixStandIn((_request, res) =>
      send(res, 200, '{"value":[{"SessionKey":"4569fdfd-'),
    );
    const client = clientOf(citrix.base, { maxAttempts: 1 });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixTransient);
  });

  it("reports a refused query as CitrixBadQuery with OData's message and the query", async () => {
    const message = "Could not find a property named 'ModifiedDate' on type 'Sessions'.";
    const citrix = await citrixStandIn((_request, res) => send(res, 400, { error: { code: '', message } }));
    const client = clientOf(citrix.base);
    const url = firstPage(client);

    const error = await failure(client.fetchPage(url, 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixBadQuery);
    expect(error.message).toContain(message);
    expect(error.message).toContain(url);
  });

  it('does not retry a refused query', async () => {
    const citrix = await citrixStandIn((_request, res) => send(res, 400, { error: { message: 'bad' } }));
    const client = clientOf(citrix.base, { maxAttempts: 5 });

    await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(citrix.data).toHaveLength(1);
  });

  it('reports a 403 as CitrixAuthFailed', async () => {
    const citrix = await citrixStandIn((_request, res) => send(res, 403, { message: 'Forbidden' }));
    const client = clientOf(citrix.base);

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixAuthFailed);
  });
});

describe('CitrixClient.resolveNextLink', () => {
  const client = clientOf('https://api.cloud.com');
  const pageUrl = 'https://api.cloud.com/monitorodata/Sessions?$filter=x';

  it('keeps an absolute link on the API host as it is', () => {
    const link = 'https://api.cloud.com/monitorodata/Sessions?$skiptoken=2';

    expect(client.resolveNextLink(link, pageUrl)).toBe(link);
  });

  it('upgrades an http link to the https API host instead of sending the token in clear text', () => {
    expect(client.resolveNextLink('http://api.cloud.com/monitorodata/Sessions?$skiptoken=2', pageUrl)).toBe(
      'https://api.cloud.com/monitorodata/Sessions?$skiptoken=2',
    );
  });

  it('refuses a link to another host and names that host', () => {
    const error = (() => {
      try {
        client.resolveNextLink('https://evil.example.net/monitorodata/Sessions?$skiptoken=2', pageUrl);
      } catch (e) {
        return e as Error;
      }
      return new Error('the link was accepted');
    })();

    expect(error).toBeInstanceOf(ForeignNextLink);
    expect(error.message).toContain('evil.example.net');
  });

  it.each([
    ['another port', 'https://api.cloud.com:8443/monitorodata/Sessions?$skiptoken=2'],
    ['the token endpoint', 'https://api.cloud.com/cctrustoauth2/root/tokens/clients'],
    ['a path climbing out of monitorodata', '../cctrustoauth2/root/tokens/clients'],
    ['credentials in the URL', 'https://user:pw@api.cloud.com/monitorodata/Sessions?$skiptoken=2'],
    ['an http link on another port', 'http://api.cloud.com:8080/monitorodata/Sessions?$skiptoken=2'],
  ])('refuses a link to %s', (_what, link) => {
    expect(() => client.resolveNextLink(link, pageUrl)).toThrow(ForeignNextLink);
  });
});

/** What the client logged, as `--verbose` prints it: the JSON log lines of the local telemetry. */
function captured() {
  const lines: string[] = [];
  const json = jsonLinesTelemetry((line) => void lines.push(line));
  const telemetry = () => json;
  const all = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const logged = () => all().filter((line) => line.message !== 'metric');
  const metrics = () => all().flatMap((line) => (line.message === 'metric' ? [line.metric] : []));
  return { telemetry, lines, logged, metrics, messages: () => logged().map((line) => line.message) };
}

/** A port on 127.0.0.1 that nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('CitrixClient when the API cannot be reached', () => {
  it('says it cannot connect, naming the host, port and code, after one quick retry', async () => {
    const port = await closedPort();
    const log = captured();
    const client = clientOf(`http://127.0.0.1:${port}`, { maxAttempts: 6, telemetry: log.telemetry });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixTransient);
    expect(error.message).toContain(
      `cannot connect to 127.0.0.1:${port} (ECONNREFUSED): check API_BASE and the network.`,
    );
    expect(error.message).toContain(`POST http://127.0.0.1:${port}/cctrustoauth2/${CUSTOMER}/tokens/clients`);
    // Two attempts, not six: one retry logged, then the failure goes to the state machine's Retry.
    expect(log.messages()).toEqual(['retrying a Citrix request']);
    expect(log.logged()[0]).toMatchObject({ attempt: 1, maxAttempts: 2 });
  });

  it('names the tenant list entry of a listed tenant that cannot connect', async () => {
    const port = await closedPort();
    const client = clientOf(`http://127.0.0.1:${port}`, { tenant: 'acme' });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error.message).toContain('check API_BASE (or the apiBase of tenant "acme" in the tenant list)');
  });

  it('treats a connection that breaks in the middle of a response as CitrixTransient, with the full backoff', async () => {
    const citrix = await citrixStandIn((_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
      res.write('{"value":[{"SessionKey":"4569fdfd-', () => res.destroy());
    });
    const client = clientOf(citrix.base, { maxAttempts: 4 });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixTransient);
    // Node's fetch says `terminated`; its cause says how (the other side closed the socket).
    expect(error.message).toMatch(
      /the request failed before a complete response \(TypeError: terminated: .+\); retried\./,
    );
    expect(citrix.data).toHaveLength(4);
  });
});

describe('CitrixClient messages', () => {
  const html503 = (res: ServerResponse) => {
    res.writeHead(503, { 'content-type': 'text/html' });
    res.end('<html><head><title>Service Unavailable</title></head></html>');
  };

  it.each<[string, Reply]>([
    ['a 500', (_q, res) => send(res, 500, { error: { message: 'Execution Timeout Expired.' } })],
    ['an HTML 503', (_q, res) => html503(res)],
    ['a 400', (_q, res) => send(res, 400, { error: { message: 'bad filter' } })],
    ['a 403', (_q, res) => send(res, 403, { message: 'Forbidden' })],
    ['persisting 429s', (_q, res) => send(res, 429, { message: 'Too many requests' })],
    ['truncated JSON', (_q, res) => send(res, 200, '{"value":[{"SessionKey":"4569fdfd-')],
    ['a 401 even with a new token', (_q, res) => send(res, 401, { error: 'unauthorized' })],
  ])('names the URL tried after %s', async (_what, reply) => {
    const citrix = await citrixStandIn(reply);
    const client = clientOf(citrix.base, { maxAttempts: 2 });
    const url = firstPage(client);

    const error = await failure(client.fetchPage(url, 'Sessions 10:00'));

    expect(error.message).toMatch(/^Sessions 10:00: /);
    expect(error.message).toContain(` Request: GET ${url}`);
  });

  it('hides the value of a query parameter that may be a credential', async () => {
    const citrix = await citrixStandIn((_q, res, nth) =>
      nth === 1
        ? send(res, 200, page([SESSION], 'Sessions?$skiptoken=2&access_token=leaked-7Yq'))
        : send(res, 400, { error: { message: 'bad' } }),
    );
    const client = clientOf(citrix.base);
    const first = await client.fetchPage(firstPage(client), 'Sessions 10:00');

    const error = await failure(client.fetchPage(first.nextLink ?? '', 'Sessions 10:00'));

    expect(error.message).toContain(
      `Request: GET ${citrix.base}/monitorodata/Sessions?$skiptoken=2&access_token=HIDDEN`,
    );
    expect(error.message).not.toContain('leaked-7Yq');
  });

  it('says what it got and what to do when the token endpoint answers an HTML error page', async () => {
    const citrix = await citrixStandIn(okPage, '3600', (_q, res) => html503(res));
    const client = clientOf(citrix.base, { maxAttempts: 2 });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixTransient);
    expect(error.message).toBe(
      `Token request: the token endpoint answered an HTML page (HTTP 503, text/html, "Service Unavailable") instead of a token; retried. If it persists, check API_BASE and Citrix Cloud's status. Request: POST ${citrix.base}/cctrustoauth2/${CUSTOMER}/tokens/clients`,
    );
  });

  it('says API_BASE must be the host only when a token request under a path is answered 404, and does not retry', async () => {
    const citrix = await citrixStandIn((_q, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('The resource you are looking for has been removed or is unavailable.');
    });
    const client = clientOf(`${citrix.base}/monitorodata`, { maxAttempts: 6 });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(BadConfiguration);
    expect(error.message).toContain(
      `POST ${citrix.base}/monitorodata/cctrustoauth2/${CUSTOMER}/tokens/clients`,
    );
    expect(error.message).toContain('API_BASE must be the host only, e.g. https://api.cloud.com');
    expect(citrix.data).toHaveLength(1);
  });

  it('asks whether API_BASE is right when the token endpoint of a host answers 404', async () => {
    const citrix = await citrixStandIn(okPage, '3600', (_q, res) => send(res, 404, { message: 'Not found' }));
    const client = clientOf(citrix.base, { maxAttempts: 6 });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(BadConfiguration);
    expect(error.message).toContain(
      `Token request: the token endpoint answered HTTP 404: is API_BASE right? It must be the Citrix Cloud API host, e.g. https://api.cloud.com. Request: POST ${citrix.base}/cctrustoauth2/${CUSTOMER}/tokens/clients`,
    );
    expect(citrix.tokens).toHaveLength(1);
  });
});

describe('CitrixClient when Citrix Cloud refuses the credentials', () => {
  const refuse: Reply = (_q, res) => send(res, 401, { error: 'invalid_client' });

  it("names a listed tenant and its own fields in the tenant list, and none of the environment's", async () => {
    const citrix = await citrixStandIn(okPage, '3600', refuse);
    const secretId = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:citrix/acme-Ab12Cd';
    const client = clientOf(citrix.base, {
      tenant: 'acme',
      secretSource: { kind: 'secretsManager', secretId },
    });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error).toBeInstanceOf(CitrixAuthFailed);
    expect(error.message).toContain(
      `Citrix Cloud refused the API client (HTTP 401): check customerId, clientId and clientSecretArn (the secret ${secretId}) of tenant "acme" in the tenant list.`,
    );
    expect(error.message).not.toContain('CITRIX_');
    expect(error.message).not.toMatch(/\.\.$/);
  });

  it("names a listed tenant's clientSecretEnv when that is where its secret comes from", async () => {
    const citrix = await citrixStandIn(okPage, '3600', refuse);
    const client = clientOf(citrix.base, {
      tenant: 'acme',
      secretSource: { kind: 'env', variable: 'ACME_SECRET' },
    });

    const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(error.message).toContain('clientSecretEnv (ACME_SECRET) of tenant "acme" in the tenant list.');
  });

  it.each<[string, Partial<CitrixClientOptions>, string]>([
    ['locally', {}, 'check CITRIX_CUSTOMER_ID, CITRIX_CLIENT_ID and CITRIX_CLIENT_SECRET.'],
    [
      'in AWS',
      { secretSource: { kind: 'secretsManager', secretId: 'citrix/secret' } },
      'check CITRIX_CUSTOMER_ID, CITRIX_CLIENT_ID and the client secret in the Secrets Manager secret citrix/secret (CITRIX_CLIENT_SECRET_ARN).',
    ],
  ])(
    "names the environment's settings for its one tenant %s, and no tenant list",
    async (_where, options, hint) => {
      const citrix = await citrixStandIn(okPage, '3600', refuse);
      const client = clientOf(citrix.base, options);

      const error = await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

      expect(error.message).toContain(hint);
      expect(error.message).not.toContain('tenant');
    },
  );
});

describe('CitrixClient telemetry', () => {
  it('logs an auth failure, without the secret', async () => {
    const citrix = await citrixStandIn(okPage, '3600', (_q, res) =>
      send(res, 401, { error: 'invalid_client' }),
    );
    const log = captured();
    const client = clientOf(citrix.base, { telemetry: log.telemetry });

    await failure(client.fetchPage(firstPage(client), 'Sessions 10:00'));

    expect(log.logged()).toEqual([
      expect.objectContaining({
        message: 'Citrix refused the API client',
        status: 401,
        request: 'Token request',
      }),
    ]);
    expect(log.lines.join('')).not.toContain('the-secret');
  });

  it('logs the wait after a 429 and each retry with its reason, and never the secret or an issued token', async () => {
    const citrix = await citrixStandIn((request, res, nth) => {
      if (nth === 1) return send(res, 429, { message: 'Too many requests' }, { 'retry-after': '0' });
      if (nth === 2) return send(res, 401, { error: 'token expired' });
      if (nth === 3) return send(res, 503, { message: 'busy' });
      return okPage(request, res, nth);
    });
    const log = captured();
    const client = clientOf(citrix.base, { telemetry: log.telemetry, maxAttempts: 4 });

    await client.fetchPage(firstPage(client), { what: 'Sessions 10:00', fields: { entity: 'Sessions' } });

    expect(log.messages()).toEqual([
      'Citrix answered 429; waiting',
      'Citrix answered 401; asking for a new token',
      'retrying a Citrix request',
    ]);
    expect(log.metrics()).toEqual(['Throttles', 'Retries', 'Retries']);
    expect(log.logged()[0]).toMatchObject({
      entity: 'Sessions',
      request: 'Sessions 10:00',
      attempt: 1,
      waitMs: 0,
    });
    expect(log.logged()[2]?.reason).toContain('Citrix answered HTTP 503, "busy"; retried.');
    const text = log.lines.join('');
    expect(citrix.tokens).toHaveLength(2);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('the-secret');
  });
});
