import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EntityDef } from './data.ts';
import { type FaultAnswer, faultAnswer } from './faults.ts';
import { type Answer, odataError, preferredPageSize, type Reply } from './http.ts';
import { nextPageQuery, parseQuery, QueryError, type QueryOptions } from './query.ts';
import type { TablePage } from './table.ts';
import { Tenant, type Tenants } from './tenants.ts';
import type { Tokens } from './tokens.ts';
import type { Fault, StandinOptions, StandinStats } from './types.ts';

/**
 * The OData endpoint GET /monitorodata/{Entity}: a tenant's token, one call per tenant at a time, faults,
 * then the query over the live table, paged by offset with a nextLink, under a query timeout.
 */

const PREFIX = '/monitorodata/';
const TIMEOUT_MESSAGE =
  'Execution Timeout Expired.  The timeout period elapsed prior to completion of the operation or the server is not responding.';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const clockMs = (): number => performance.timeOrigin + performance.now();

/** The server's settings of the data endpoint, resolved. */
export interface DataSettings {
  serverPageSize: number;
  nextLinkStyle: NonNullable<StandinOptions['nextLinkStyle']>;
  msPerSkippedRow: number;
  queryTimeoutMs: number;
  /** The server's origin, known once it listens. */
  origin: () => string;
}

/** A data request as the router hands it on: the request, its response, how to answer, its path and query. */
export interface DataRequest {
  req: IncomingMessage;
  res: ServerResponse;
  reply: Reply;
  path: string;
  query: string;
}

/** One data request being answered. */
interface Exchange extends DataRequest {
  /** The entity set, e.g. 'Sessions'. */
  name: string;
}

/** An accepted request being served: its tenant, its parsed query, its fault, and when it started. */
interface Serving {
  ex: Exchange;
  tenant: Tenant;
  q: QueryOptions;
  fault: Fault | undefined;
  /** The tenant's latency, waited before the query ran. */
  latencyMs: number;
  startedMs: number;
}

/** One page the query produced, and the page size and server time it took. */
interface PageRun {
  page: TablePage;
  pageSize: number;
  preferred: number | undefined;
  queryMs: number;
}

/** GET /monitorodata/{Entity}. */
export class DataEndpoint {
  private readonly settings: DataSettings;
  private readonly tenants: Tenants;
  private readonly tokens: Tokens;

  constructor(settings: DataSettings, tenants: Tenants, tokens: Tokens) {
    this.settings = settings;
    this.tenants = tenants;
    this.tokens = tokens;
  }

  /** Counts the request against the tenant it names, then refuses it or serves it. */
  async handle(request: DataRequest): Promise<void> {
    const { req, reply, path } = request;
    const ex: Exchange = { ...request, name: path.slice(PREFIX.length) };
    const named = this.tenants.ofCustomer(String(req.headers['citrix-customerid'] ?? ''));
    const { stats } = named ?? this.tenants.main;
    stats.dataRequests++;
    stats.requestsByEntity[ex.name] = (stats.requestsByEntity[ex.name] ?? 0) + 1;
    const tenant = this.authenticate(req, named, stats);
    if (!(tenant instanceof Tenant)) return reply(tenant.status, tenant.body, tenant.headers);
    const def = tenant.data.entities.get(ex.name);
    if (!def) return reply(404, odataError('NotFound', `Resource not found for the segment '${ex.name}'.`));
    if (tenant.inFlight > 0) return this.throttle(ex, stats);
    return this.serve(ex, tenant, def);
  }

  /** The tenant the request is for, if its token is live and was issued to that tenant; else the refusal. */
  private authenticate(
    req: IncomingMessage,
    named: Tenant | undefined,
    stats: StandinStats,
  ): Tenant | Answer {
    const auth = /^CWSAuth\s+bearer=(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    const holder = this.tokens.holder(auth?.[1]);
    const challenge = { 'WWW-Authenticate': 'CWSAuth' };
    if (!holder) {
      stats.unauthorized++;
      const message = auth ? 'Token is invalid or expired' : 'Missing Authorization: CWSAuth bearer=<token>';
      return { status: 401, body: odataError('Unauthorized', message), headers: challenge };
    }
    if (!named)
      return { status: 403, body: odataError('Forbidden', 'Citrix-CustomerId does not match the token') };
    if (holder !== named) {
      stats.unauthorized++;
      return {
        status: 401,
        body: odataError('Unauthorized', 'Token was issued to another customer'),
        headers: challenge,
      };
    }
    return named;
  }

  /** One call per tenant at a time. Retry-After is not a contract: only every other 429 has one. */
  private throttle({ reply }: Exchange, stats: StandinStats): Promise<void> {
    stats.throttled++;
    const headers: Record<string, string> = stats.throttled % 2 === 1 ? { 'Retry-After': '1' } : {};
    return reply(429, odataError('TooManyRequests', 'Only one request per customer at a time'), headers);
  }

  /** An accepted request: in flight until answered, after the tenant's latency, faults first. */
  private async serve(ex: Exchange, tenant: Tenant, def: EntityDef): Promise<void> {
    const release = this.tenants.enter(tenant);
    const startedMs = clockMs();
    ex.res.once('finish', release);
    ex.res.once('close', release);
    const { latencyMs } = tenant;
    if (latencyMs) await sleep(latencyMs);
    const fault = tenant.faults.take(ex.name, tenant.stats);
    const instead = faultAnswer(fault, tenant.faults.failStatus(ex.name), ex.name);
    if (instead) return this.answerInstead(ex, instead, release);
    let q: QueryOptions;
    try {
      q = parseQuery(ex.query, def);
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      return ex.reply(400, odataError('', `The query specified in the URI is not valid. ${err.message}`));
    }
    const serving: Serving = { ex, tenant, q, fault, latencyMs, startedMs };
    const run = await this.runPage(serving);
    if (run) await this.respond(serving, run);
  }

  /** Answers with what a fault says instead of data (a reset connection is released at once). */
  private async answerInstead(
    { req, res, reply }: Exchange,
    answer: FaultAnswer,
    release: () => void,
  ): Promise<void> {
    if (answer.kind === 'reset') {
      release();
      req.socket.destroy();
    } else if (answer.kind === 'html') {
      res.writeHead(answer.status, { 'Content-Type': 'text/html; charset=utf-8', Connection: 'close' });
      res.end(answer.body);
    } else await reply(answer.status, answer.body, answer.headers);
  }

  /**
   * Runs the query for one page. Each page re-runs the query and steps over the skipped rows: deep offsets
   * cost time, and past the query timeout the server waits it out, answers 500 and this returns null.
   */
  private async runPage({ ex, tenant, q, latencyMs }: Serving): Promise<PageRun | null> {
    const { serverPageSize, msPerSkippedRow, queryTimeoutMs } = this.settings;
    const preferred = preferredPageSize(ex.req);
    // Web API OData takes the smaller of its page size and the client's: a preference only lowers it.
    const pageSize = Math.min(serverPageSize, preferred ?? serverPageSize);
    const page = tenant.table.query(ex.name, {
      filter: q.filter,
      orderby: q.orderby,
      skip: q.skip,
      limit: Math.min(pageSize, q.top ?? Number.POSITIVE_INFINITY),
      count: q.count,
    });
    const skipMs = page.skipped * msPerSkippedRow;
    const queryMs = latencyMs + skipMs;
    if (queryMs > queryTimeoutMs) {
      tenant.stats.timeouts.push({ entity: ex.name, skip: q.skip, queryMs });
      await sleep(Math.max(0, queryTimeoutMs - latencyMs));
      await ex.reply(500, odataError('', TIMEOUT_MESSAGE));
      return null;
    }
    if (skipMs > 0) await sleep(skipMs);
    return { page, pageSize, preferred, queryMs };
  }

  /** Writes the page (half of it under a 'truncated' fault), lets churn touch it, and logs it. */
  private async respond(serving: Serving, run: PageRun): Promise<void> {
    const { ex, tenant, q, fault, startedMs } = serving;
    const { page, pageSize, preferred } = run;
    const body: Record<string, unknown> = {
      '@odata.context': `${this.settings.origin()}/monitorodata/$metadata#${ex.name}`,
    };
    if (q.count) body['@odata.count'] = page.count;
    const next = this.nextLinkOf(serving, run);
    if (next !== undefined) body['@odata.nextLink'] = next;
    body.value = page.rows;
    const headers: Record<string, string> = preferred
      ? { 'Preference-Applied': `odata.maxpagesize=${pageSize}` }
      : {};
    const text = JSON.stringify(body);
    const truncated = fault?.kind === 'truncated';
    // Churn touches rows the client has been sent (a truncated body delivered nothing).
    if (!truncated) tenant.table.delivered(ex.name, page.candidates);
    await ex.reply(200, truncated ? text.slice(0, text.length >> 1) : text, headers);
    tenant.stats.pages.push({
      entity: ex.name,
      skip: q.skip,
      rows: page.rows.length,
      startedMs,
      endedMs: clockMs(),
      skipped: page.skipped,
      queryMs: run.queryMs,
    });
  }

  /** The page's nextLink: none on the last page, a foreign origin under a 'foreign-nextlink' fault. */
  private nextLinkOf({ ex, q, fault }: Serving, run: PageRun): string | undefined {
    const { path } = ex;
    const { page, pageSize } = run;
    const nextQuery = nextPageQuery(q, pageSize);
    if (fault?.kind === 'foreign-nextlink') {
      return `${(fault.foreignUrl ?? 'http://foreign.invalid').replace(/\/$/, '')}${path}?${nextQuery}`;
    }
    const more = page.hasNext && (q.top === undefined || q.top > pageSize);
    if (!more) return undefined;
    return this.nextLink(ex, nextQuery, Math.round((q.skip + pageSize) / pageSize));
  }

  // Which form a nextLink takes, by the number of the page it points to (deterministic per request).
  private nextLink({ name, path }: Exchange, query: string, page: number): string {
    const style = this.settings.nextLinkStyle;
    const form = style === 'absolute' ? 0 : style === 'relative' ? 1 + (page % 2) : page % 3;
    if (form === 0) return `${this.settings.origin()}${path}?${query}`;
    return form === 1 ? `${name}?${query}` : `${path}?${query}`;
  }
}
