import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { log, odataError, type Reply, send } from './http.ts';
import { DataEndpoint, type DataSettings } from './monitor.ts';
import { Tenant, type TenantDefaults, Tenants } from './tenants.ts';
import { HOUR_MS } from './time.ts';
import { Tokens, tokenEndpoint } from './tokens.ts';
import type { Standin, StandinOptions, TenantOptions } from './types.ts';

export type { Change, ChurnOptions, RowWindow, TimeSpan } from './table.ts';
export type {
  Fault,
  PageLogEntry,
  ServerStats,
  Standin,
  StandinOptions,
  StandinStats,
  StandinTenant,
  TenantOptions,
} from './types.ts';

type Server = ReturnType<typeof createServer>;
type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The tenants the options name, or one made of customerId, clientId and clientSecret. */
function tenantList(opts: StandinOptions): TenantOptions[] {
  return (
    opts.tenants ?? [
      {
        customerId: opts.customerId ?? 'standincustomer',
        clientId: opts.clientId ?? 'standin-client',
        clientSecret: opts.clientSecret ?? 'standin-secret',
      },
    ]
  );
}

function tenantDefaults(opts: StandinOptions, origin: () => string): TenantDefaults {
  const nowHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  return {
    seed: opts.seed ?? 1,
    rowsPerHour: opts.rowsPerHour ?? 40,
    churn: opts.churn,
    latencyMs: opts.latencyMs ?? 0,
    now: opts.now,
    dataFromMs: opts.dataFromMs ?? nowHour - 72 * HOUR_MS,
    dataToMs: opts.dataToMs ?? nowHour,
    origin,
  };
}

function dataSettings(opts: StandinOptions, origin: () => string): DataSettings {
  return {
    serverPageSize: opts.serverPageSize ?? 1000,
    nextLinkStyle: opts.nextLinkStyle ?? 'absolute',
    msPerSkippedRow: opts.msPerSkippedRow ?? 0,
    queryTimeoutMs: opts.queryTimeoutMs ?? 30_000,
    origin,
  };
}

/** Routes a request to the token endpoint or the data endpoint by path and method. */
function router(tenants: Tenants, tokens: Tokens, data: DataEndpoint): Handler {
  return async (req, res) => {
    const reply: Reply = (status, body, headers) => send({ req, res }, { status, body, headers });
    const raw = req.url ?? '/';
    // A strict server rejects a request line with a raw space; Node's parser may have let it through.
    if (raw.includes(' ')) return reply(400, odataError('BadRequest', 'Unencoded space in the request URL'));
    const qmark = raw.indexOf('?');
    const path = qmark < 0 ? raw : raw.slice(0, qmark);
    const query = qmark < 0 ? '' : raw.slice(qmark + 1);
    const tokenPath = /^\/cctrustoauth2\/([^/?]+)\/tokens\/clients$/.exec(path);
    const dataPath = /^\/monitorodata\/([^/?]+)$/.exec(path);
    if (tokenPath?.[1] && req.method === 'POST')
      return tokenEndpoint({ req, reply, customer: tokenPath[1] }, tenants, tokens);
    if (dataPath && req.method === 'GET') return data.handle({ req, res, reply, path, query });
    if (tokenPath || dataPath) return reply(405, odataError('MethodNotAllowed', `${req.method} not allowed`));
    return reply(404, odataError('NotFound', 'No resource at this path'));
  };
}

/** Serves `route` on 127.0.0.1 (https with the `tls` option); answers 500 for what it throws. */
async function listen(opts: StandinOptions, route: Handler): Promise<{ server: Server; origin: string }> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    res.once('finish', () => log(req.method, req.url, res.statusCode));
    route(req, res).catch((err: unknown) => {
      log('error', err);
      if (res.headersSent) res.destroy();
      else {
        const failed = { status: 500, body: odataError('InternalServerError', 'Stand-in error') };
        send({ req, res }, failed).catch(() => res.destroy());
      }
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
  return { server, origin: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${address.port}` };
}

/** Starts the stand-in on 127.0.0.1. */
export async function startStandin(opts: StandinOptions = {}): Promise<Standin> {
  let origin = '';
  const defaults = tenantDefaults(opts, () => origin);
  const tenants = new Tenants(tenantList(opts).map((t, index) => new Tenant(t, index, defaults)));
  const tokens = new Tokens((opts.tokenTtlSeconds ?? 3600) * 1000, opts.tokenClock ?? Date.now);
  const data = new DataEndpoint(
    dataSettings(opts, () => origin),
    tenants,
    tokens,
  );
  const listening = await listen(opts, router(tenants, tokens, data));
  const { server } = listening;
  origin = listening.origin;
  log('listening on', origin);
  return {
    ...tenants.main.api,
    url: origin,
    tenants: tenants.all.map((t) => t.api),
    tenant: (customerId) => tenants.tenant(customerId),
    stats: tenants.serverStats,
    expireAllTokens: () => tokens.clear(),
    resetStats: () => tenants.resetStats(),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
