import { z } from 'zod';
import { type CitrixThrottled, CitrixTransient } from '../domain/errors.ts';

/**
 * One HTTP exchange with Citrix Cloud and the words to describe it: the request with its timeout, the body
 * read whole (fetch decodes gzip), why a request failed, and what a body that is not the expected JSON
 * looked like. Nothing here knows tokens or pages.
 */

/** A request as messages name it: who asked (`what`, e.g. "Hour …, entity Sessions, page 3") and where. */
export interface RequestInfo {
  readonly what: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** The setting that names the request's host, for a connection that cannot be made ({@link apiBaseSetting}). */
  readonly hostSetting: string;
}

/** The setting that holds the API base of the environment's tenant (null) or of a listed tenant, for messages. */
export const apiBaseSetting = (tenant: string | null) =>
  tenant === null ? 'API_BASE' : `API_BASE (or the apiBase of tenant "${tenant}" in the tenant list)`;

/** A response and its whole body, decoded. */
export interface Exchange {
  readonly res: Response;
  readonly text: string;
}

/** A retriable outcome: the typed failure if the retries run out, and the wait the server asked for, if any. */
export class Retriable extends Error {
  readonly failure: CitrixThrottled | CitrixTransient;
  readonly retryAfterMs: number | null;
  /** Attempts worth making for this kind of failure, whatever the client's maxAttempts. */
  readonly attemptsAtMost: number;

  constructor(
    failure: CitrixThrottled | CitrixTransient,
    retryAfterMs: number | null,
    attemptsAtMost = Number.POSITIVE_INFINITY,
  ) {
    super(failure.message);
    this.failure = failure;
    this.retryAfterMs = retryAfterMs;
    this.attemptsAtMost = attemptsAtMost;
  }
}

/** How long one request may take: at most `timeoutMs`, and not past `deadlineMs`. */
export interface RequestLimits {
  readonly timeoutMs: number;
  /** The invocation's deadline, in ms since the epoch. */
  readonly deadlineMs: number;
}

/**
 * One request and its whole body, aborted after `timeoutMs` or at `deadlineMs`, whichever comes first;
 * a request that fails before a complete response is a {@link Retriable} ({@link requestFailure}).
 * The timer ends with the request: an `AbortSignal.timeout` would live on for the full timeout and keep
 * the request's state, and its body, reachable until then: a thousand pages later, that is the heap.
 */
export async function exchange(
  request: RequestInfo,
  init: RequestInit,
  { timeoutMs, deadlineMs }: RequestLimits,
): Promise<Exchange> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The request timed out', 'TimeoutError')),
    Math.max(1, Math.min(timeoutMs, deadlineMs - Date.now())),
  );
  try {
    const res = await fetch(request.url, { ...init, signal: controller.signal });
    return { res, text: await res.text() };
  } catch (err) {
    throw requestFailure(err, request);
  } finally {
    clearTimeout(timer);
  }
}

/** Codes of a connection that could not be made: refused, no such host, DNS down, no route, connect timeout. */
const CANNOT_CONNECT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** What Node's fetch puts in an error's `cause`: a system error's code and call, undici's own code. */
const systemError = z.object({
  code: z.string(),
  syscall: z.string().optional(),
  message: z.string().optional(),
});

/** The system error under a failed fetch (`TypeError: fetch failed`), if it says what happened. */
function systemCause(err: unknown): z.infer<typeof systemError> | null {
  const found = systemError.safeParse(err instanceof Error ? err.cause : undefined);
  return found.success ? found.data : null;
}

/** The error's code when the connection could not be made at all; null when it broke once made. */
export function connectFailureCode(err: unknown): string | null {
  const cause = systemCause(err);
  if (!cause || !CANNOT_CONNECT.has(cause.code)) return null;
  // A timeout on a connection already made (a read) is a fault mid-response, not a host out of reach.
  return cause.syscall === 'read' || cause.syscall === 'write' ? null : cause.code;
}

/** `host:port` of a URL, with the scheme's default port written out. */
export function hostAndPort(url: string): string {
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  return `${parsed.hostname}:${port}`;
}

/** Why a request failed before a complete response, in a few words: the error and its cause's code. */
export function failureReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = systemCause(err);
  if (cause) return `${err.name}: ${err.message}: ${cause.message ?? cause.code} (${cause.code})`;
  return err.cause instanceof Error
    ? `${err.name}: ${err.message}: ${err.cause.message}`
    : `${err.name}: ${err.message}`;
}

/** A query parameter that may carry a credential, and its value, which a message never shows. */
const SECRET_PARAMETER =
  /([?&](?:access_token|token|client_secret|secret|password|sig|signature|api_key|apikey|code)=)[^&#]*/gi;

/** The URL as a message may show it: without user info or the value of a parameter that may be a credential. */
export function shownUrl(url: string): string {
  return url.replace(SECRET_PARAMETER, '$1HIDDEN').replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1');
}

/** A request in a log line's fields. */
export const loggedRequest = (request: RequestInfo) => ({
  request: request.what,
  url: shownUrl(request.url),
});

/** A message about a request: who asked, what happened and what to do, then the request itself. */
export const said = (request: RequestInfo, sentence: string) =>
  `${request.what}: ${sentence} Request: ${request.method} ${shownUrl(request.url)}`;

/** Attempts at a connection that could not be made: one quick retry; the state machine retries later. */
const CONNECT_ATTEMPTS = 2;

/**
 * A request that failed before a complete response, as a retriable failure. A connection that could not be
 * made names the host and is retried once at most; one that broke mid-response keeps the full backoff.
 */
function requestFailure(err: unknown, request: RequestInfo): Retriable {
  const code = connectFailureCode(err);
  if (code !== null) {
    const message = said(
      request,
      `cannot connect to ${hostAndPort(request.url)} (${code}): check ${request.hostSetting} and the network.`,
    );
    return new Retriable(new CitrixTransient(message, { cause: err }), null, CONNECT_ATTEMPTS);
  }
  const message = said(
    request,
    `the request failed before a complete response (${failureReason(err)}); retried.`,
  );
  return new Retriable(new CitrixTransient(message, { cause: err }), null);
}

const MAX_RETRY_AFTER_MS = 60_000;

/** The wait a `Retry-After` header asks for (seconds or an HTTP date), capped at a minute; null without one. */
export function retryAfter(res: Response): number | null {
  const raw = res.headers.get('retry-after');
  if (!raw) return null;
  const seconds = Number(raw);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(raw) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : null;
}

/** With `redirect: 'manual'`, fetch reports a redirect as an opaque response with status 0. */
export function redirected(res: Response): boolean {
  return res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400);
}

/** The text as JSON, or undefined when it is not JSON (an HTML page, a body cut short). */
export function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** An OData error body (`{"error":{"message":…}}`), or the bare `{"message":…}` of a gateway. */
const odataError = z.union([
  z.object({ error: z.object({ message: z.string() }) }).transform((body) => body.error.message),
  z.object({ message: z.string() }).transform((body) => body.message),
]);

/** The `error.message` of an OData error body, if that is what it is. */
export function odataErrorMessage(text: string): string | null {
  const found = odataError.safeParse(jsonOf(text));
  return found.success ? found.data.slice(0, 300) : null;
}

/** A short, secret-free description of a body that is not the JSON we expected. */
export function describeBody(res: Response, text: string): string {
  const type = res.headers.get('content-type') ?? 'no content type';
  const html = /^\s*<(!doctype|html)/i.test(text)
    ? 'an HTML page'
    : `${text.length} bytes that are not valid JSON`;
  const title = /<title>([^<]{1,80})<\/title>/i.exec(text)?.[1];
  return `${html} (HTTP ${res.status}, ${type}${title ? `, "${title.trim()}"` : ''})`;
}
