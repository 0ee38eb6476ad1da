import { z } from 'zod';
import type { SecretSource } from '../domain/config.ts';
import {
  CitrixAuthFailed,
  CitrixBadQuery,
  CitrixThrottled,
  CitrixTransient,
  ForeignNextLink,
} from '../domain/errors.ts';
import { odataInstant } from '../domain/hours.ts';
import {
  type CitrixPages,
  type KeyPageQuery,
  type KeyValue,
  OutOfTime,
  type Page,
  type Telemetry,
  type WindowQuery,
} from '../domain/ports.ts';
import {
  apiBaseSetting,
  describeBody,
  type Exchange,
  exchange,
  jsonOf,
  loggedRequest,
  odataErrorMessage,
  type RequestInfo,
  Retriable,
  redirected,
  retryAfter,
  said,
} from './citrix-http.ts';
import { type RetryEvent, type RetryPolicy, retrying } from './citrix-retry.ts';
import { TokenCache } from './citrix-token.ts';

export interface CitrixClientOptions {
  /** API base, e.g. `https://api.cloud.com` (no trailing slash). */
  readonly apiBase: string;
  readonly customerId: string;
  readonly clientId: string;
  /** Resolves the client secret when a token is needed (Secrets Manager in AWS); never stored here. */
  readonly clientSecret: () => Promise<string>;
  /** The listed tenant these credentials are for; null or absent for the environment's one tenant (messages name its settings). */
  readonly tenant?: string | null;
  /** Where the client secret comes from, for messages (default: the CITRIX_CLIENT_SECRET variable). */
  readonly secretSource?: SecretSource;
  /**
   * Sent as `Prefer: odata.maxpagesize` on every request. A request paged by the server's nextLinks
   * never carries it as `$top`, which caps the whole result in OData v4; a request paged by key carries
   * its own `$top` ({@link KeyPageQuery.top}), which caps that one request.
   */
  readonly pageSize: number;
  /** Attempts per request for 429/5xx/network faults before the typed error goes to the state machine. */
  readonly maxAttempts?: number;
  /** Base of the exponential backoff with full jitter, in ms. */
  readonly backoffMs?: number;
  readonly requestTimeoutMs?: number;
  /** For tests: where waits go. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Where retries, throttling waits and refusals are logged (never a secret or a token), and counted
   * (Retries, Throttles): the telemetry of the invocation at hand, asked for each time, since a client
   * outlives an invocation to reuse its token.
   */
  readonly telemetry?: () => Telemetry;
}

/** A 401 on a data request: the token is renewed once before it becomes {@link CitrixAuthFailed}. */
class Unauthorized extends Error {}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The OData literal of a key the server wrote: a Guid and an integer unquoted, any other string quoted.
 * The value goes back exactly as received: the server orders keys (a SQL uniqueidentifier does not order
 * like its text), never the client.
 */
export function keyLiteral(key: KeyValue): string {
  if (typeof key === 'number') return String(key);
  return GUID.test(key) ? key : `'${key.replaceAll("'", "''")}'`;
}

/** An OData page: the rows of `value`, and the server's link to the next page if there is one. */
const odataPage = z.object({
  value: z.array(z.unknown()),
  '@odata.nextLink': z.string().optional().catch(undefined),
});

/**
 * Client of the Citrix Monitor Service OData API. It holds one token at a time, renews it before it
 * expires and once on a 401, and sends it only to the configured API origin: a nextLink elsewhere
 * is a {@link ForeignNextLink} error and no request is made.
 */
export class CitrixClient implements CitrixPages {
  private readonly options: CitrixClientOptions;
  private readonly base: URL;
  private readonly tokens: TokenCache;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly tenant: string | null;

  constructor(options: CitrixClientOptions) {
    this.options = options;
    this.base = new URL(`${options.apiBase}/`);
    this.tenant = options.tenant ?? null;
    this.timeoutMs = options.requestTimeoutMs ?? 90_000;
    this.policy = {
      attempts: options.maxAttempts ?? 6,
      backoffMs: options.backoffMs ?? 500,
      sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    };
    this.tokens = new TokenCache({
      base: this.base,
      customerId: options.customerId,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      credentials: {
        tenant: this.tenant,
        secret: options.secretSource ?? { kind: 'env', variable: 'CITRIX_CLIENT_SECRET' },
      },
      timeoutMs: this.timeoutMs,
      warn: (message, fields) => this.warn(message, fields),
    });
  }

  /**
   * The first page's URL for one entity and one half-open window `[fromMs, toMs)`, for paging by the
   * server's nextLinks. Fully percent-encoded (the raw-space filter of the old guide is refused by HTTP
   * clients and servers). No `$orderby`: the server orders by key for stable paging.
   */
  firstPageUrl({ entity, timeField, fromMs, toMs }: WindowQuery): string {
    return this.queryUrl(entity, { $filter: window(timeField, fromMs, toMs) });
  }

  /**
   * One request of an entity-window paged by key: `$filter=<window> and <Key> gt <last key>`,
   * `$orderby=<Key> asc`, `$top`. Inside a fixed past window rows only ever leave (a change moves
   * `ModifiedDate` to now), so a key cursor neither skips a row that stayed nor reads one twice, where
   * an offset (`$skip`) skips one row for every delivered row that left.
   */
  keyPageUrl(q: KeyPageQuery): string {
    const range = window(q.timeField, q.fromMs, q.toMs);
    const filter = q.after === null ? range : `${range} and ${q.keyField} gt ${keyLiteral(q.after)}`;
    return this.queryUrl(q.entity, { $filter: filter, $orderby: `${q.keyField} asc`, $top: String(q.top) });
  }

  private queryUrl(entity: string, options: Record<string, string>): string {
    const query = new URLSearchParams(options);
    return `${this.entityUrl(entity)}?${query.toString().replaceAll('+', '%20')}`;
  }

  private entityUrl(entity: string): string {
    return new URL(`monitorodata/${encodeURIComponent(entity)}`, this.base).href;
  }

  /**
   * Resolves a nextLink (absolute or relative to the page that returned it) and checks that it stays
   * on the API's host and under its `monitorodata/` path. An `http:` link to the configured `https:`
   * host is upgraded rather than followed in clear text.
   */
  resolveNextLink(link: string, pageUrl: string): string {
    let url: URL;
    try {
      url = new URL(link, pageUrl);
    } catch {
      throw new ForeignNextLink(
        `The API returned a nextLink that is not a URL (${JSON.stringify(link.slice(0, 200))}); not followed.`,
      );
    }
    const upgraded = url.protocol === 'http:' && this.base.protocol === 'https:' && url.port === '';
    if (upgraded) url.protocol = 'https:';
    const sameOrigin = url.origin === this.base.origin;
    if (
      !sameOrigin ||
      !url.pathname.startsWith(`${this.base.pathname}monitorodata/`) ||
      url.username ||
      url.password
    ) {
      throw new ForeignNextLink(
        `The API returned a nextLink to ${url.origin}${url.pathname}, outside the configured API_BASE ${this.base.origin}${this.base.pathname}: it was not followed and the token was not sent there. If your tenant really pages through another host, set API_BASE to it.`,
      );
    }
    return url.href;
  }

  /**
   * Fetches one page, retrying throttling and transient faults with backoff and full jitter. `about`
   * names the page in messages (e.g. "Hour …, entity …, page 3"), with `fields` for structured logs.
   * Every request and every wait ends by `deadlineMs`: past it, {@link OutOfTime} instead of the page.
   */
  async fetchPage(
    url: string,
    about: string | { what: string; fields: Record<string, unknown> },
    deadlineMs = Number.POSITIVE_INFINITY,
  ): Promise<Page> {
    const { what, fields } = typeof about === 'string' ? { what: about, fields: {} } : about;
    const request: RequestInfo = { what, method: 'GET', url, hostSetting: apiBaseSetting(this.tenant) };
    const outOfTime = () =>
      new OutOfTime(`${what}: the invocation's time budget ended before the page came.`);
    let renewed = false;
    const once = async (): Promise<Page> => {
      try {
        return await this.fetchOnce(request, deadlineMs);
      } catch (err) {
        if (!(err instanceof Unauthorized)) throw err;
        if (renewed) throw this.refusedTwice(request);
        renewed = true;
        this.tokens.drop();
        this.warn('Citrix answered 401; asking for a new token', { ...fields, request: what });
        if (Date.now() >= deadlineMs) throw outOfTime();
        return once();
      }
    };
    return retrying(once, {
      policy: this.policy,
      deadlineMs,
      outOfTime,
      observe: (event) => this.observe(event, { ...fields, request: what }),
    });
  }

  /** Counts a retriable failure, and logs the wait when another attempt follows. */
  private observe({ failure, attempt, waitMs }: RetryEvent, fields: Record<string, unknown>) {
    const throttled = failure.failure instanceof CitrixThrottled;
    const telemetry = this.options.telemetry?.();
    if (throttled) telemetry?.metric('Throttles', 1);
    if (waitMs === null) return;
    telemetry?.metric('Retries', 1);
    this.warn(throttled ? 'Citrix answered 429; waiting' : 'retrying a Citrix request', {
      ...fields,
      attempt,
      maxAttempts: Math.min(this.policy.attempts, failure.attemptsAtMost),
      waitMs,
      reason: failure.message,
    });
  }

  /** A warning: a refusal, a throttling wait, a retry (`--verbose` prints it; CloudWatch at WARN). */
  private warn(message: string, fields: Record<string, unknown>): void {
    this.options.telemetry?.().log(message, fields, 'warn');
  }

  private refusedTwice(request: RequestInfo): CitrixAuthFailed {
    this.warn('Citrix refused a new token', { ...loggedRequest(request), status: 401 });
    return new CitrixAuthFailed(
      said(
        request,
        `Citrix answered 401 even with a new token; check the API client's permissions in Citrix Cloud (Identity and Access Management).`,
      ),
    );
  }

  /** One attempt: a token, the request, and its answer as a page or as the error it means. */
  private async fetchOnce(request: RequestInfo, deadlineMs: number): Promise<Page> {
    const token = await this.tokens.get(deadlineMs);
    const ex = await exchange(request, this.pageRequest(token), { timeoutMs: this.timeoutMs, deadlineMs });
    const failed = this.statusFailure(request, ex);
    if (failed) throw failed;
    return this.readPage(request, ex);
  }

  private pageRequest(token: string): RequestInit {
    return {
      headers: {
        Authorization: `CWSAuth bearer=${token}`,
        'Citrix-CustomerId': this.options.customerId,
        Accept: 'application/json',
        'Accept-Encoding': 'gzip',
        Prefer: `odata.maxpagesize=${this.options.pageSize}`,
      },
      redirect: 'manual',
    };
  }

  /** The error an answer's status means (retriable or not), or null for a 2xx. */
  private statusFailure(request: RequestInfo, ex: Exchange): Error | null {
    const { status } = ex.res;
    if (status === 429 || status === 401 || status === 403) return this.refusal(request, ex.res);
    if (status >= 500 || status === 408) return serverFault(request, ex);
    if (redirected(ex.res)) {
      return new CitrixBadQuery(
        said(
          request,
          `Citrix answered a redirect (HTTP ${status}); it was not followed, so the token went nowhere else. Check ${request.hostSetting}.`,
        ),
      );
    }
    return status < 300 ? null : badQuery(request, ex);
  }

  /** 429: throttled, to wait and retry; 401: the token, to renew once; 403: the API client may not read. */
  private refusal(request: RequestInfo, res: Response): Error {
    if (res.status === 401) return new Unauthorized();
    if (res.status === 429) {
      const message = `Citrix answered 429 (one call per tenant at a time) after retries; the state machine retries later.`;
      return new Retriable(new CitrixThrottled(said(request, message)), retryAfter(res));
    }
    this.warn('Citrix refused the API client', { ...loggedRequest(request), status: res.status });
    return new CitrixAuthFailed(
      said(
        request,
        `Citrix answered 403 Forbidden: the API client has no access to the Monitor Service for customer ${this.options.customerId}; give it that access in Citrix Cloud (Identity and Access Management).`,
      ),
    );
  }

  /** The rows and checked nextLink of a 2xx answer; anything but an OData page is retried. */
  private readPage(request: RequestInfo, { res, text }: Exchange): Page {
    const json = jsonOf(text);
    const page = odataPage.safeParse(json);
    if (!page.success) {
      const what =
        json === undefined ? describeBody(res, text) : `JSON without a "value" array (HTTP ${res.status})`;
      const failure = new CitrixTransient(
        said(
          request,
          `Citrix returned ${what} instead of an OData page; nothing was written for it, and it is retried. If it persists, check ${request.hostSetting} (a proxy or gateway may be answering) and Citrix Cloud's status.`,
        ),
      );
      throw new Retriable(failure, null);
    }
    const link = page.data['@odata.nextLink'];
    const nextLink = link ? this.resolveNextLink(link, request.url) : null;
    return { rows: page.data.value, nextLink, bytes: Buffer.byteLength(text) };
  }
}

/** A 5xx or 408, retried: the OData error says why (a query past the server's 30 s timeout, say), or the body is described. */
function serverFault(request: RequestInfo, { res, text }: Exchange): Retriable {
  const odata = odataErrorMessage(text);
  const detail = odata === null ? describeBody(res, text) : `HTTP ${res.status}, "${odata}"`;
  return new Retriable(
    new CitrixTransient(said(request, `Citrix answered ${detail}; retried.`)),
    retryAfter(res),
  );
}

/** Another 4xx: the entity, its filter or its key is not accepted, and a retry would fail the same way. */
function badQuery(request: RequestInfo, { res, text }: Exchange): CitrixBadQuery {
  const detail = odataErrorMessage(text) ?? describeBody(res, text);
  return new CitrixBadQuery(
    said(
      request,
      `Citrix refused the query with HTTP ${res.status} (${detail}). Check the entity's name and its time and key fields (ENTITIES, TIME_FIELDS, KEY_FIELDS).`,
    ),
  );
}

/** The half-open hour `[fromMs, toMs)` on `field`, with unquoted DateTimeOffset literals. */
function window(field: string, fromMs: number, toMs: number): string {
  return `${field} ge ${odataInstant(fromMs)} and ${field} lt ${odataInstant(toMs)}`;
}
