import { odataError } from './http.ts';
import type { Fault, StandinStats } from './types.ts';

/** Fault injection: the failures a tenant was told to answer with, and what each answers instead of data. */

const HTML_503 =
  '<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request.</p></body></html>';
const HTML_GATEWAY =
  '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action="/login"><h1>Network login required</h1></form></body></html>';

/** A tenant's queued faults and failing entities. */
export class FaultQueue {
  private readonly queued: (Fault & { times: number })[] = [];
  private readonly failing = new Map<string, number>();

  inject(f: Fault): void {
    this.queued.push({ ...f, times: f.times ?? 1 });
  }

  /** Makes every request for `entity` fail with `status` until called with null (which clears them all). */
  failEntity(entity: string | null, status: number): void {
    if (entity === null) this.failing.clear();
    else this.failing.set(entity, status);
  }

  /** The status requests for `entity` fail with, if it is failing. */
  failStatus(entity: string): number | undefined {
    return this.failing.get(entity);
  }

  /** Takes the first fault matching `entity` (consuming one of its times) and counts it. */
  take(entity: string, stats: StandinStats): Fault | undefined {
    const k = this.queued.findIndex((f) => f.entity === undefined || f.entity === entity);
    const fault = this.queued[k];
    if (!fault) return undefined;
    if (--fault.times <= 0) this.queued.splice(k, 1);
    stats.faultsInjected[fault.kind] = (stats.faultsInjected[fault.kind] ?? 0) + 1;
    return fault;
  }
}

/** What a request gets instead of its data: a reset connection, an HTML page, or an OData error. */
export type FaultAnswer =
  | { kind: 'reset' }
  | { kind: 'html'; status: number; body: string }
  | { kind: 'odata'; status: number; body: string; headers?: Record<string, string> };

/**
 * The answer `fault`, or a failing entity's status, puts in place of the data; undefined when the query
 * runs (a 'truncated' or 'foreign-nextlink' fault then alters its page).
 */
export function faultAnswer(
  fault: Fault | undefined,
  failStatus: number | undefined,
  entity: string,
): FaultAnswer | undefined {
  if (fault?.kind === 'reset') return { kind: 'reset' };
  if (fault?.kind === '429') {
    const headers: Record<string, string> =
      fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
    return { kind: 'odata', status: 429, body: odataError('TooManyRequests', 'Too many requests'), headers };
  }
  if (fault?.kind === '500') {
    return { kind: 'odata', status: 500, body: odataError('InternalServerError', 'An error has occurred.') };
  }
  const html = fault?.kind === 'html-200' ? 200 : fault?.kind === '503-html' || failStatus === 503 ? 503 : 0;
  if (html) return { kind: 'html', status: html, body: html === 503 ? HTML_503 : HTML_GATEWAY };
  if (failStatus) {
    return { kind: 'odata', status: failStatus, body: odataError('Failure', `Entity ${entity} is failing`) };
  }
  return undefined;
}
