import {
  CitrixAuthFailed,
  CitrixBadQuery,
  CitrixThrottled,
  CitrixTransient,
  ForeignNextLink,
} from '../domain/errors.ts';
import { odataInstant } from '../domain/hours.ts';
import { type CitrixPages, type KeyPageQuery, type KeyValue, OutOfTime, type Page } from '../domain/ports.ts';

export interface CitrixClientOptions {
  /** API base, e.g. `https://api.cloud.com` (no trailing slash). */
  readonly apiBase: string;
  readonly customerId: string;
  readonly clientId: string;
  /** Resolves the client secret when a token is needed (Secrets Manager in AWS); never stored here. */
  readonly clientSecret: () => Promise<string>;
  /** Sent as `Prefer: odata.maxpagesize`; never as `$top`, which caps the whole result. */
  readonly pageSize: number;
  /** Attempts per request for 429/5xx/network faults before the typed error goes to the state machine. */
  readonly maxAttempts?: number;
  /** Base of the exponential backoff with full jitter, in ms. */
  readonly backoffMs?: number;
  readonly requestTimeoutMs?: number;
  /** For tests: where waits go. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Counts what happened, for logs and metrics. */
  readonly onEvent?: (
    event: 'retry' | 'throttled' | 'token',
    what: string,
    fields: Record<string, unknown>,
  ) => void;
}

const RENEW_BEFORE_EXPIRY_MS = 5 * 60_000;
const MAX_RETRY_AFTER_MS = 60_000;

/** Retriable outcomes carry the wait the server asked for, if any. */
class Retry extends Error {
  readonly failure: CitrixThrottled | CitrixTransient;
  readonly retryAfterMs: number | null;

  constructor(failure: CitrixThrottled | CitrixTransient, retryAfterMs: number | null) {
    super(failure.message);
    this.failure = failure;
    this.retryAfterMs = retryAfterMs;
  }
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

function retryAfter(res: Response): number | null {
  const raw = res.headers.get('retry-after');
  if (!raw) return null;
  const seconds = Number(raw);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(raw) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : null;
}

/** With `redirect: 'manual'`, fetch reports a redirect as an opaque response with status 0. */
function redirected(res: Response): boolean {
  return res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400);
}

/** The `error.message` of an OData error body, if that is what it is. */
function odataErrorMessage(text: string): string | null {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown }; message?: unknown };
    const message = body.error?.message ?? body.message;
    return typeof message === 'string' ? message.slice(0, 300) : null;
  } catch {
    return null;
  }
}

/** A short, secret-free description of a body that is not the JSON we expected. */
function describeBody(res: Response, text: string): string {
  const type = res.headers.get('content-type') ?? 'no content type';
  const html = /^\s*<(!doctype|html)/i.test(text)
    ? 'an HTML page'
    : `${text.length} bytes that are not valid JSON`;
  const title = /<title>([^<]{1,80})<\/title>/i.exec(text)?.[1];
  return `${html} (HTTP ${res.status}, ${type}${title ? `, "${title.trim()}"` : ''})`;
}

/**
 * Client of the Citrix Monitor Service OData API. It holds one token at a time, renews it before it
 * expires and once on a 401, and sends it only to the configured API origin: a nextLink elsewhere
 * is a {@link ForeignNextLink} error and no request is made.
 */
export class CitrixClient implements CitrixPages {
  private token: { value: string; renewAt: number } | null = null;
  private readonly options: CitrixClientOptions;
  private readonly base: URL;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: CitrixClientOptions) {
    this.options = options;
    this.base = new URL(`${options.apiBase}/`);
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * The first page's URL for one entity and one half-open window `[fromMs, toMs)`, for paging by the
   * server's nextLinks. Fully percent-encoded (the raw-space filter of the old guide is refused by HTTP
   * clients and servers). No `$orderby`: the server orders by key for stable paging.
   */
  firstPageUrl(entity: string, timeField: string, fromMs: number, toMs: number): string {
    return this.queryUrl(entity, { $filter: window(timeField, fromMs, toMs) });
  }

  /**
   * One request of an entity-hour paged by key: `$filter=<window> and <Key> gt <last key>`,
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
    const attempts = this.options.maxAttempts ?? 6;
    const outOfTime = () =>
      new OutOfTime(`${what}: the invocation's time budget ended before the page came.`);
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      if (Date.now() >= deadlineMs) throw outOfTime();
      try {
        return await this.tryFetchPage(url, what, fields, deadlineMs);
      } catch (err) {
        if (err instanceof Retry && Date.now() >= deadlineMs) throw outOfTime();
        if (err instanceof Unauthorized) {
          if (renewed) {
            throw new CitrixAuthFailed(
              `${what}: Citrix answered 401 even with a new token; check the API client's permissions.`,
            );
          }
          renewed = true;
          this.token = null;
          attempt--;
          continue;
        }
        if (!(err instanceof Retry)) throw err;
        if (attempt >= attempts) throw err.failure;
        this.options.onEvent?.('retry', what, fields);
        const backoff = Math.random() * (this.options.backoffMs ?? 500) * 2 ** (attempt - 1);
        const wait = err.retryAfterMs ?? backoff;
        const left = deadlineMs - Date.now();
        // The wait is honoured as far as the budget goes; the next invocation asks again.
        await this.sleep(Math.max(0, Math.min(wait, left)));
        if (wait >= left) throw outOfTime();
      }
    }
  }

  /** The request timeout, cut to the time left before `deadlineMs`. */
  /**
   * One request and its whole body, aborted after the request timeout or at `deadlineMs`, whichever
   * comes first. The timer ends with the request: an `AbortSignal.timeout` would live on for the full
   * timeout and keep the request's state, and its body, reachable until then: a thousand pages later,
   * that is the heap.
   */
  private async request(
    url: string,
    init: RequestInit,
    deadlineMs: number,
  ): Promise<{ res: Response; text: string }> {
    const limit = this.options.requestTimeoutMs ?? 90_000;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException('The request timed out', 'TimeoutError')),
      Math.max(1, Math.min(limit, deadlineMs - Date.now())),
    );
    try {
      const res = await fetch(url, { ...init, signal: controller.signal });
      return { res, text: await res.text() };
    } finally {
      clearTimeout(timer);
    }
  }

  private async tryFetchPage(
    url: string,
    what: string,
    fields: Record<string, unknown>,
    deadlineMs: number,
  ): Promise<Page> {
    const token = await this.getToken(deadlineMs);
    let res: Response;
    let text: string;
    try {
      ({ res, text } = await this.request(
        url,
        {
          headers: {
            Authorization: `CWSAuth bearer=${token}`,
            'Citrix-CustomerId': this.options.customerId,
            Accept: 'application/json',
            'Accept-Encoding': 'gzip',
            Prefer: `odata.maxpagesize=${this.options.pageSize}`,
          },
          redirect: 'manual',
        },
        deadlineMs,
      ));
    } catch (err) {
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new Retry(
        new CitrixTransient(`${what}: the request failed before a complete response (${reason}).`, {
          cause: err,
        }),
        null,
      );
    }
    if (res.status === 429) {
      this.options.onEvent?.('throttled', what, fields);
      throw new Retry(
        new CitrixThrottled(
          `${what}: Citrix answered 429 (one call per tenant at a time) after retries; the state machine retries later.`,
        ),
        retryAfter(res),
      );
    }
    if (res.status === 401) throw new Unauthorized();
    if (res.status === 403)
      throw new CitrixAuthFailed(
        `${what}: Citrix answered 403 Forbidden: the API client has no access to the Monitor Service for customer ${this.options.customerId}.`,
      );
    if (res.status >= 500 || res.status === 408) {
      // An OData error body says why (a query past the server's 30 s timeout, say); anything else is described.
      const odata = odataErrorMessage(text);
      const detail = odata === null ? describeBody(res, text) : `HTTP ${res.status}, "${odata}"`;
      throw new Retry(new CitrixTransient(`${what}: Citrix answered ${detail}; retried.`), retryAfter(res));
    }
    if (redirected(res)) {
      throw new CitrixBadQuery(
        `${what}: Citrix answered a redirect (HTTP ${res.status}); it was not followed, so the token went nowhere else. Query: ${url}`,
      );
    }
    if (res.status >= 300) {
      const detail = odataErrorMessage(text) ?? describeBody(res, text);
      throw new CitrixBadQuery(
        `${what}: Citrix refused the query with HTTP ${res.status} (${detail}). Query: ${url}`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Retry(
        new CitrixTransient(
          `${what}: Citrix returned ${describeBody(res, text)} instead of an OData page; nothing was written for it.`,
        ),
        null,
      );
    }
    const value = (body as { value?: unknown })?.value;
    if (!Array.isArray(value)) {
      throw new Retry(
        new CitrixTransient(
          `${what}: Citrix returned JSON without a "value" array (HTTP ${res.status}); nothing was written for it.`,
        ),
        null,
      );
    }
    const link = (body as { '@odata.nextLink'?: unknown })['@odata.nextLink'];
    const nextLink = typeof link === 'string' && link ? this.resolveNextLink(link, url) : null;
    return { rows: value, nextLink, bytes: Buffer.byteLength(text) };
  }

  private async getToken(deadlineMs: number): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    const url = new URL(
      `cctrustoauth2/${encodeURIComponent(this.options.customerId)}/tokens/clients`,
      this.base,
    ).href;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.options.clientId,
      client_secret: await this.options.clientSecret(),
    });
    let res: Response;
    let text: string;
    try {
      ({ res, text } = await this.request(
        url,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
          body,
          // Never re-send the client secret to wherever a redirect points.
          redirect: 'manual',
        },
        deadlineMs,
      ));
    } catch (err) {
      throw new Retry(
        new CitrixTransient(
          `Token request to ${url} failed (${err instanceof Error ? err.message : String(err)}).`,
          { cause: err },
        ),
        null,
      );
    }
    if (redirected(res)) {
      throw new CitrixAuthFailed(
        `The token endpoint ${url} answered a redirect; it was not followed, so the client secret went nowhere else. Check API_BASE.`,
      );
    }
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw new CitrixAuthFailed(
        `Citrix Cloud refused the API client (HTTP ${res.status} from the token endpoint): check CITRIX_CUSTOMER_ID, CITRIX_CLIENT_ID and the client secret.`,
      );
    }
    if (res.status === 429)
      throw new Retry(new CitrixThrottled(`Token request throttled (429).`), retryAfter(res));
    if (res.status !== 200)
      throw new Retry(
        new CitrixTransient(`Token request answered ${describeBody(res, text)}.`),
        retryAfter(res),
      );
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Retry(new CitrixTransient(`Token endpoint returned ${describeBody(res, text)}.`), null);
    }
    const expiresIn = Number(parsed.expires_in ?? 3600);
    if (typeof parsed.access_token !== 'string' || !parsed.access_token || !Number.isFinite(expiresIn)) {
      throw new Retry(
        new CitrixTransient('Token endpoint returned JSON without a usable access_token/expires_in.'),
        null,
      );
    }
    this.options.onEvent?.('token', 'token request', {});
    const lifetimeMs = expiresIn * 1000;
    this.token = {
      value: parsed.access_token,
      renewAt: Date.now() + Math.max(lifetimeMs - Math.min(RENEW_BEFORE_EXPIRY_MS, lifetimeMs / 2), 0),
    };
    return this.token.value;
  }
}

/** The half-open hour `[fromMs, toMs)` on `field`, with unquoted DateTimeOffset literals. */
function window(field: string, fromMs: number, toMs: number): string {
  return `${field} ge ${odataInstant(fromMs)} and ${field} lt ${odataInstant(toMs)}`;
}
