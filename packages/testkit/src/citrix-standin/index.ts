import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Dataset } from './data.ts';
import { nextPageQuery, parseQuery, QueryError, type QueryOptions } from './query.ts';
import { type Change, type ChurnOptions, LiveTable } from './table.ts';
import { HOUR_MS } from './time.ts';

export type { Change, ChurnOptions } from './table.ts';

/** Options of the stand-in server. */
export interface StandinOptions {
  /** Port to bind on 127.0.0.1; default 0 (ephemeral). */
  port?: number;
  /** Default 'standincustomer'. */
  customerId?: string;
  /** Default 'standin-client'. */
  clientId?: string;
  /** Default 'standin-secret'. */
  clientSecret?: string;
  /** Token lifetime; default 3600. */
  tokenTtlSeconds?: number;
  /** Server's max rows per page (default 1000); `Prefer: odata.maxpagesize` may lower it. */
  serverPageSize?: number;
  /**
   * Form of `@odata.nextLink`: 'absolute' (default, as ASP.NET writes it), 'relative' (`Entity?…` and
   * `/monitorodata/Entity?…` in turn) or 'alternate' (absolute and both relative forms in turn).
   */
  nextLinkStyle?: 'absolute' | 'relative' | 'alternate';
  /** Rows per entity per hour; default 40. */
  rowsPerHour?: number | ((entity: string, hourStartMs: number) => number);
  /** Data generation seed; default 1. */
  seed?: number;
  /** Artificial server time per accepted data request; default 0. */
  latencyMs?: number;
  /** Extra server time per row a query steps over for `$skip` (a re-run query skipping N rows); default 0. */
  msPerSkippedRow?: number;
  /** When latency plus skip time exceeds this, the server waits this long and answers 500; default 30000. */
  queryTimeoutMs?: number;
  /** Rows of these entities change under the pager: see ChurnOptions. Off by default. */
  churn?: ChurnOptions;
  /** The clock that stamps changed rows (ModifiedDate = now); default Date.now. */
  now?: () => number;
  /** The clock tokens expire by (issued at it, refused once it passes their lifetime); default Date.now. */
  tokenClock?: () => number;
  /** Hours holding data: [dataFromMs, dataToMs); default the 72 hours before the current hour. */
  dataFromMs?: number;
  dataToMs?: number;
  /** Serve https with this key and certificate (PEM); `url` is then `https://127.0.0.1:<port>`. Default http. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /**
   * Serve these tenants (Citrix Cloud customers) side by side, the first being the default one; customerId,
   * clientId and clientSecret above are then ignored. Default: one tenant made of those three options.
   */
  tenants?: TenantOptions[];
}

/**
 * One tenant of the stand-in, with its own credentials, data, one-call-at-a-time limit, faults and counters.
 * Give a collector another secret and every token request of its tenant fails with 401.
 */
export interface TenantOptions {
  customerId: string;
  clientId: string;
  clientSecret: string;
  /** Data generation seed; default the server's `seed` (default 1) plus the tenant's index in the list. */
  seed?: number;
  /** Default the server's `rowsPerHour`. */
  rowsPerHour?: StandinOptions['rowsPerHour'];
  /** Default the server's `churn`. */
  churn?: ChurnOptions;
  /** Default the server's `latencyMs`. */
  latencyMs?: number;
}

/** A failure to inject into the next matching data request(s). */
export interface Fault {
  kind: '429' | '503-html' | 'truncated' | 'reset' | '500' | 'html-200' | 'foreign-nextlink';
  /** Only requests for this entity match; default any. */
  entity?: string;
  /** Number of requests to hit; default 1. */
  times?: number;
  /** For '429': send `Retry-After` with this value. */
  retryAfterSeconds?: number;
  /** For 'foreign-nextlink': origin put in front of the real path and query. */
  foreignUrl?: string;
}

/** One data page answered with 200. Times are epoch milliseconds with sub-millisecond precision. */
export interface PageLogEntry {
  entity: string;
  skip: number;
  rows: number;
  /** When the request was accepted (before any latency). */
  startedMs: number;
  /** When the response was written. */
  endedMs: number;
  /** Rows the query stepped over for `$skip`. */
  skipped: number;
  /** The server time the stand-in charged the query: its latency plus `msPerSkippedRow` per skipped row. */
  queryMs: number;
}

/**
 * Counters of what a tenant saw. A request is counted by the tenant it names (Citrix-CustomerId, the token
 * path's customer id, or for `root` the tenant of the client id); one naming no tenant, by the default tenant.
 */
export interface StandinStats {
  tokenRequests: number;
  /** Every request under /monitorodata, accepted or not. */
  dataRequests: number;
  /** 429s for concurrent requests (injected '429' faults are counted in faultsInjected only). */
  throttled: number;
  /** Most data requests accepted at once: 1 unless the one-call-per-tenant rule is broken. */
  maxInFlight: number;
  faultsInjected: Record<string, number>;
  requestsByEntity: Record<string, number>;
  /** 401 answers, on the token and the data endpoints. */
  unauthorized: number;
  /** Every data page answered with 200, in order. */
  pages: PageLogEntry[];
  /** Every query answered 500 for passing `queryTimeoutMs`, in order, with the server time it would have taken. */
  timeouts: Array<{ entity: string; skip: number; queryMs: number }>;
}

/** Counters across tenants, on the stand-in's `stats`. */
export interface ServerStats {
  /** Most tenants with a data request accepted at once: more than 1 shows tenants were served side by side. */
  maxTenantsInFlight: number;
}

/** One tenant of a running stand-in. */
export interface StandinTenant {
  customerId: string;
  clientId: string;
  clientSecret: string;
  /** Queues a fault; faults are consumed in order by the next matching data requests. */
  injectFault(f: Fault): void;
  /** Makes every request for `entity` fail with `status` (default 503, HTML) until called with null. */
  failEntity(entity: string | null, status?: number): void;
  /** Sets the time the server takes before it answers each data request of this tenant, in ms. */
  setLatency(ms: number): void;
  /**
   * Ground truth: the current rows with `field` (default ModifiedDate) in [fromMs, toMs), in the server's
   * default order (key order). Changed rows are where their change put them.
   */
  rowsFor(entity: string, fromMs: number, toMs: number, field?: string): Record<string, unknown>[];
  /** Number of current rows with ModifiedDate in [fromMs, toMs), without materializing them. */
  countFor(entity: string, fromMs: number, toMs: number): number;
  /** Changes made so far (by churn or `change`), oldest first, optionally of one entity. */
  changes(entity?: string): Change[];
  /** Changes the row with `key` now, as churn would; throws if no current row has that key. */
  change(entity: string, key: string | number): Change;
  /** Switches churn on (true: the `churn` option's settings, or new settings) or off (false). */
  churn(setting: boolean | ChurnOptions): void;
  stats: StandinStats;
  /** Zeroes the counters and the page log; changes are kept. */
  resetStats(): void;
  /** The collector's settings that point at this tenant (API_BASE and the client credentials). */
  collectorEnv(): Record<
    'API_BASE' | 'CITRIX_CUSTOMER_ID' | 'CITRIX_CLIENT_ID' | 'CITRIX_CLIENT_SECRET',
    string
  >;
}

/** A running stand-in. Its tenant members are those of the default (first) tenant. */
export interface Standin extends StandinTenant {
  /** Base URL, e.g. 'http://127.0.0.1:54321', or https with the `tls` option (the API_BASE to configure). */
  url: string;
  /** Every tenant, the default one first. */
  tenants: StandinTenant[];
  /** The tenant with this customer id; throws if there is none. */
  tenant(customerId: string): StandinTenant;
  /** The default tenant's counters (the very object of its `stats`), and the server's. */
  stats: StandinStats & ServerStats;
  /** Invalidates every issued token, of every tenant. */
  expireAllTokens(): void;
  /** Zeroes the default tenant's counters and page log (changes are kept) and the server's counters. */
  resetStats(): void;
  stop(): Promise<void>;
}

const JSON_TYPE = 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8';
const HTML_503 =
  '<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request.</p></body></html>';
const HTML_GATEWAY =
  '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action="/login"><h1>Network login required</h1></form></body></html>';
const gzipAsync = promisify(gzip);
const log =
  process.env.STANDIN_VERBOSE === '1'
    ? (...a: unknown[]) => console.error('[standin]', ...a)
    : () => undefined;

const odataError = (code: string, message: string): string => JSON.stringify({ error: { code, message } });
const oauthError = (error: string, description: string): string =>
  JSON.stringify({ error, error_description: description });

type Reply = (status: number, body: string, headers?: Record<string, string>) => Promise<void>;

function acceptsGzip(req: IncomingMessage): boolean {
  return String(req.headers['accept-encoding'] ?? '')
    .split(',')
    .some((item) => {
      const [coding = '', ...params] = item.split(';').map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return (coding === 'gzip' || coding === '*') && (q === undefined || Number(q.slice(2)) > 0);
    });
}

async function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Promise<void> {
  const zip = acceptsGzip(req);
  const bytes = zip ? await gzipAsync(body, { level: 1 }) : Buffer.from(body);
  res.writeHead(status, {
    'Content-Type': JSON_TYPE,
    'OData-Version': '4.0',
    Vary: 'Accept-Encoding',
    ...(zip ? { 'Content-Encoding': 'gzip' } : {}),
    ...headers,
    'Content-Length': String(bytes.length),
  });
  res.end(bytes);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 65_536) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

function preferredPageSize(req: IncomingMessage): number | undefined {
  const m = /(?:^|[,;\s])(?:odata\.)?maxpagesize\s*=\s*"?(\d+)/i.exec(String(req.headers.prefer ?? ''));
  const n = Number(m?.[1]);
  return n > 0 ? n : undefined;
}

const freshStats = (): StandinStats => ({
  tokenRequests: 0,
  dataRequests: 0,
  throttled: 0,
  maxInFlight: 0,
  faultsInjected: {},
  requestsByEntity: {},
  unauthorized: 0,
  pages: [],
  timeouts: [],
});

/** A tenant's server side: its data, its call in flight, its faults and counters. */
interface Tenant {
  api: StandinTenant;
  data: Dataset;
  table: LiveTable;
  latencyMs: number;
  inFlight: number;
  faults: (Fault & { times: number })[];
  failing: Map<string, number>;
}

const TIMEOUT_MESSAGE =
  'Execution Timeout Expired.  The timeout period elapsed prior to completion of the operation or the server is not responding.';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const clockMs = (): number => performance.timeOrigin + performance.now();

/** Starts the stand-in on 127.0.0.1. */
export async function startStandin(opts: StandinOptions = {}): Promise<Standin> {
  const ttlMs = (opts.tokenTtlSeconds ?? 3600) * 1000;
  const serverPageSize = opts.serverPageSize ?? 1000;
  const linkStyle = opts.nextLinkStyle ?? 'absolute';
  const msPerSkippedRow = opts.msPerSkippedRow ?? 0;
  const queryTimeoutMs = opts.queryTimeoutMs ?? 30_000;
  const nowHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const tokenClock = opts.tokenClock ?? Date.now;
  const tokens = new Map<string, { expiresMs: number; tenant: Tenant }>();
  let tenantsInFlight = 0;
  let origin = '';

  function createTenant(t: TenantOptions, index: number): Tenant {
    const data = new Dataset({
      seed: t.seed ?? (opts.seed ?? 1) + index,
      rowsPerHour: t.rowsPerHour ?? opts.rowsPerHour ?? 40,
      fromMs: opts.dataFromMs ?? nowHour - 72 * HOUR_MS,
      toMs: opts.dataToMs ?? nowHour,
    });
    const churn = t.churn ?? opts.churn;
    const table = new LiveTable(data, opts.now);
    if (churn) table.setChurn(churn);
    const faults: Tenant['faults'] = [];
    const failing = new Map<string, number>();
    const stats = freshStats();
    let tenant: Tenant | undefined;
    const api: StandinTenant = {
      customerId: t.customerId,
      clientId: t.clientId,
      clientSecret: t.clientSecret,
      stats,
      injectFault: (f) => void faults.push({ ...f, times: f.times ?? 1 }),
      failEntity: (name, status = 503) => (name === null ? failing.clear() : void failing.set(name, status)),
      setLatency(ms) {
        if (tenant) tenant.latencyMs = ms;
      },
      rowsFor: (name, fromMs, toMs, field = 'ModifiedDate') => table.rowsFor(name, fromMs, toMs, field),
      countFor: (name, fromMs, toMs) => table.countFor(name, fromMs, toMs),
      changes: (name) => table.changes(name),
      change: (name, key) => table.changeKey(name, key),
      churn(setting) {
        if (setting === true && !churn)
          throw new Error('churn(true) needs the churn option: pass settings instead');
        table.setChurn(setting === true ? (churn ?? null) : setting === false ? null : setting);
      },
      resetStats() {
        Object.assign(stats, freshStats());
      },
      collectorEnv() {
        return {
          API_BASE: origin,
          CITRIX_CUSTOMER_ID: t.customerId,
          CITRIX_CLIENT_ID: t.clientId,
          CITRIX_CLIENT_SECRET: t.clientSecret,
        };
      },
    };
    tenant = {
      api,
      data,
      table,
      latencyMs: t.latencyMs ?? opts.latencyMs ?? 0,
      inFlight: 0,
      faults,
      failing,
    };
    return tenant;
  }

  const tenants = (
    opts.tenants ?? [
      {
        customerId: opts.customerId ?? 'standincustomer',
        clientId: opts.clientId ?? 'standin-client',
        clientSecret: opts.clientSecret ?? 'standin-secret',
      },
    ]
  ).map(createTenant);
  const byCustomer = new Map<string, Tenant>();
  for (const t of tenants) {
    if (byCustomer.has(t.api.customerId))
      throw new Error(`tenants: customer id '${t.api.customerId}' given twice`);
    byCustomer.set(t.api.customerId, t);
  }
  if (!tenants[0]) throw new Error('tenants: give at least one tenant');
  const main = tenants[0];
  // The default tenant's counters carry the server's.
  const serverStats = Object.assign(main.api.stats, { maxTenantsInFlight: 0 });

  async function token(req: IncomingMessage, reply: Reply, customer: string): Promise<void> {
    const type = String(req.headers['content-type'] ?? '');
    const form = new URLSearchParams(await readBody(req));
    const clientId = form.get('client_id');
    // The root path serves whichever tenant the client belongs to.
    const tenant =
      customer === 'root' ? tenants.find((t) => t.api.clientId === clientId) : byCustomer.get(customer);
    const { stats } = (tenant ?? main).api;
    stats.tokenRequests++;
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      return reply(400, oauthError('invalid_request', 'Form-encoded body expected'));
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return reply(400, oauthError('unsupported_grant_type', 'Only client_credentials is supported'));
    }
    if (
      !tenant ||
      clientId !== tenant.api.clientId ||
      form.get('client_secret') !== tenant.api.clientSecret
    ) {
      stats.unauthorized++;
      return reply(401, oauthError('invalid_client', 'Invalid client credentials'));
    }
    const now = tokenClock();
    for (const [t, issued] of tokens) if (issued.expiresMs <= now) tokens.delete(t);
    const accessToken = randomBytes(24).toString('base64url');
    tokens.set(accessToken, { expiresMs: now + ttlMs, tenant });
    const body = { token_type: 'bearer', access_token: accessToken, expires_in: String(ttlMs / 1000) };
    return reply(200, JSON.stringify(body), { 'Content-Type': 'application/json; charset=utf-8' });
  }

  function takeFault({ faults, api: { stats } }: Tenant, name: string): Fault | undefined {
    const k = faults.findIndex((f) => f.entity === undefined || f.entity === name);
    const fault = faults[k];
    if (!fault) return undefined;
    if (--fault.times <= 0) faults.splice(k, 1);
    stats.faultsInjected[fault.kind] = (stats.faultsInjected[fault.kind] ?? 0) + 1;
    return fault;
  }

  // Which form a nextLink takes, by the number of the page it points to (deterministic per request).
  function nextLink(name: string, path: string, query: string, page: number): string {
    const form = linkStyle === 'absolute' ? 0 : linkStyle === 'relative' ? 1 + (page % 2) : page % 3;
    if (form === 0) return `${origin}${path}?${query}`;
    return form === 1 ? `${name}?${query}` : `${path}?${query}`;
  }

  async function monitor(
    req: IncomingMessage,
    res: ServerResponse,
    reply: Reply,
    path: string,
    query: string,
  ) {
    const name = path.slice('/monitorodata/'.length);
    const tenant = byCustomer.get(String(req.headers['citrix-customerid'] ?? ''));
    const { stats } = (tenant ?? main).api;
    stats.dataRequests++;
    stats.requestsByEntity[name] = (stats.requestsByEntity[name] ?? 0) + 1;
    const auth = /^CWSAuth\s+bearer=(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    const issued = auth?.[1] ? tokens.get(auth[1]) : undefined;
    if (issued === undefined || issued.expiresMs <= tokenClock()) {
      stats.unauthorized++;
      const message = auth ? 'Token is invalid or expired' : 'Missing Authorization: CWSAuth bearer=<token>';
      return reply(401, odataError('Unauthorized', message), { 'WWW-Authenticate': 'CWSAuth' });
    }
    if (!tenant) return reply(403, odataError('Forbidden', 'Citrix-CustomerId does not match the token'));
    if (issued.tenant !== tenant) {
      stats.unauthorized++;
      return reply(401, odataError('Unauthorized', 'Token was issued to another customer'), {
        'WWW-Authenticate': 'CWSAuth',
      });
    }
    const { data, table } = tenant;
    const def = data.entities.get(name);
    if (!def) return reply(404, odataError('NotFound', `Resource not found for the segment '${name}'.`));
    if (tenant.inFlight > 0) {
      // One call per tenant at a time. Retry-After is not a contract: only every other 429 has one.
      stats.throttled++;
      const headers: Record<string, string> = stats.throttled % 2 === 1 ? { 'Retry-After': '1' } : {};
      return reply(429, odataError('TooManyRequests', 'Only one request per customer at a time'), headers);
    }
    if (tenant.inFlight++ === 0) tenantsInFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, tenant.inFlight);
    serverStats.maxTenantsInFlight = Math.max(serverStats.maxTenantsInFlight, tenantsInFlight);
    const startedMs = clockMs();
    let released = false;
    const release = (): void => {
      if (!released && --tenant.inFlight === 0) tenantsInFlight--;
      released = true;
    };
    res.once('finish', release);
    res.once('close', release);
    const { latencyMs } = tenant;
    if (latencyMs) await sleep(latencyMs);

    const fault = takeFault(tenant, name);
    if (fault?.kind === 'reset') {
      release();
      req.socket.destroy();
      return;
    }
    if (fault?.kind === '429') {
      const headers: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
      return reply(429, odataError('TooManyRequests', 'Too many requests'), headers);
    }
    if (fault?.kind === '500') return reply(500, odataError('InternalServerError', 'An error has occurred.'));
    const failStatus = tenant.failing.get(name);
    const html =
      fault?.kind === 'html-200' ? 200 : fault?.kind === '503-html' || failStatus === 503 ? 503 : 0;
    if (html) {
      res.writeHead(html, { 'Content-Type': 'text/html; charset=utf-8', Connection: 'close' });
      return void res.end(html === 503 ? HTML_503 : HTML_GATEWAY);
    }
    if (failStatus) return reply(failStatus, odataError('Failure', `Entity ${name} is failing`));

    let q: QueryOptions;
    try {
      q = parseQuery(query, def);
    } catch (err) {
      if (err instanceof QueryError) {
        return reply(400, odataError('', `The query specified in the URI is not valid. ${err.message}`));
      }
      throw err;
    }
    const preferred = preferredPageSize(req);
    // Web API OData takes the smaller of its page size and the client's: a preference only lowers it.
    const pageSize = Math.min(serverPageSize, preferred ?? serverPageSize);
    const page = table.query(name, {
      filter: q.filter,
      orderby: q.orderby,
      skip: q.skip,
      limit: Math.min(pageSize, q.top ?? Number.POSITIVE_INFINITY),
      count: q.count,
    });
    // Each page re-runs the query and steps over the skipped rows: deep offsets cost time, up to a timeout.
    const skipMs = page.skipped * msPerSkippedRow;
    if (latencyMs + skipMs > queryTimeoutMs) {
      stats.timeouts.push({ entity: name, skip: q.skip, queryMs: latencyMs + skipMs });
      await sleep(Math.max(0, queryTimeoutMs - latencyMs));
      return reply(500, odataError('', TIMEOUT_MESSAGE));
    }
    if (skipMs > 0) await sleep(skipMs);

    const body: Record<string, unknown> = { '@odata.context': `${origin}/monitorodata/$metadata#${name}` };
    if (q.count) body['@odata.count'] = page.count;
    const more = page.hasNext && (q.top === undefined || q.top > pageSize);
    const nextQuery = nextPageQuery(q, pageSize);
    if (fault?.kind === 'foreign-nextlink') {
      body['@odata.nextLink'] =
        `${(fault.foreignUrl ?? 'http://foreign.invalid').replace(/\/$/, '')}${path}?${nextQuery}`;
    } else if (more) {
      body['@odata.nextLink'] = nextLink(name, path, nextQuery, Math.round((q.skip + pageSize) / pageSize));
    }
    body.value = page.rows;
    const headers: Record<string, string> = preferred
      ? { 'Preference-Applied': `odata.maxpagesize=${pageSize}` }
      : {};
    const text = JSON.stringify(body);
    const truncated = fault?.kind === 'truncated';
    // Churn touches rows the client has been sent (a truncated body delivered nothing).
    if (!truncated) table.delivered(name, page.candidates);
    await reply(200, truncated ? text.slice(0, text.length >> 1) : text, headers);
    stats.pages.push({
      entity: name,
      skip: q.skip,
      rows: page.rows.length,
      startedMs,
      endedMs: clockMs(),
      skipped: page.skipped,
      queryMs: latencyMs + skipMs,
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply: Reply = (status, body, headers) => send(req, res, status, body, headers);
    const raw = req.url ?? '/';
    // A strict server rejects a request line with a raw space; Node's parser may have let it through.
    if (raw.includes(' ')) return reply(400, odataError('BadRequest', 'Unencoded space in the request URL'));
    const qmark = raw.indexOf('?');
    const path = qmark < 0 ? raw : raw.slice(0, qmark);
    const query = qmark < 0 ? '' : raw.slice(qmark + 1);
    const tokenPath = /^\/cctrustoauth2\/([^/?]+)\/tokens\/clients$/.exec(path);
    const dataPath = /^\/monitorodata\/([^/?]+)$/.exec(path);
    if (tokenPath?.[1] && req.method === 'POST') return token(req, reply, tokenPath[1]);
    if (dataPath && req.method === 'GET') return monitor(req, res, reply, path, query);
    if (tokenPath || dataPath) return reply(405, odataError('MethodNotAllowed', `${req.method} not allowed`));
    return reply(404, odataError('NotFound', 'No resource at this path'));
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    res.once('finish', () => log(req.method, req.url, res.statusCode));
    route(req, res).catch((err: unknown) => {
      log('error', err);
      if (res.headersSent) res.destroy();
      else
        send(req, res, 500, odataError('InternalServerError', 'Stand-in error')).catch(() => res.destroy());
    });
  };
  const server = opts.tls
    ? createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, handle)
    : createServer(handle);
  server.on('clientError', (err, socket) => {
    log('client error', err.message);
    const body = odataError('BadRequest', 'Malformed request');
    if (socket.writable) {
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
    } else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('stand-in: no TCP address to serve on');
  origin = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  log('listening on', origin);

  return {
    ...main.api,
    url: origin,
    tenants: tenants.map((t) => t.api),
    tenant(customerId) {
      const t = byCustomer.get(customerId);
      if (!t) {
        throw new Error(
          `No tenant '${customerId}': this stand-in serves ${[...byCustomer.keys()].join(', ')}`,
        );
      }
      return t.api;
    },
    stats: serverStats,
    expireAllTokens: () => tokens.clear(),
    resetStats() {
      main.api.resetStats();
      serverStats.maxTenantsInFlight = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
