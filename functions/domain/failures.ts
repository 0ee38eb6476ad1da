/**
 * The failed tenants of a run as data: the document the Report step raises as its error's message
 * (TenantsFailed, or the environment tenant's own error), so that it reaches the execution's Cause as
 * JSON inside the Lambda's error JSON (`{"errorType", "errorMessage": "<this document>", "trace"}`). The
 * CLI and the local runner parse it with {@link failuresSchema}; people read {@link describeFailures}.
 */
import { z } from 'zod';
import { formatHour, HOUR_MS } from './hours.ts';
import type { TenantFailure } from './schemas.ts';
import { describeWindow, parseMinute } from './windows.ts';

/** One failed tenant as the Cause names it. */
export const failedTenantSchema = z.object({
  /** The listed tenant's id; null for the environment's one tenant. */
  tenant: z.string().nullable(),
  /**
   * Its own error's name (CitrixAuthFailed, …) and message, led by the window and entity it failed in
   * ({@link failureLine}), cut to {@link CAUSE_IN_CAUSE} for a listed tenant.
   */
  error: z.string(),
  cause: z.string(),
  /** The whole UTC hour of the window it failed in (what `backfill --from` takes), when it failed in one. */
  hour: z.string().nullable(),
  /** The entity it failed on, when it failed fetching one. */
  entity: z.string().nullable(),
});
export type FailedTenant = z.infer<typeof failedTenantSchema>;

export const failuresSchema = z.object({
  /** A summary for whoever reads the raw Cause (the Step Functions console). */
  message: z.string(),
  /** How many tenants failed, of how many the run collected. */
  failed: z.number().int().positive(),
  total: z.number().int().positive(),
  /** The failed tenants named here, in the order of the tenant list. */
  tenants: z.array(failedTenantSchema),
  /** Failed tenants not named here (past {@link NAMED_IN_CAUSE}, or past the size the Cause keeps). */
  more: z.number().int().nonnegative(),
  /** Where every failed tenant's whole record is (`s3://bucket/…/runs/{run}/failed/`). */
  records: z.string(),
});
export type Failures = z.infer<typeof failuresSchema>;

/** Failed tenants named in the Cause, and the longest cause kept for each; the rest are counted. */
export const NAMED_IN_CAUSE = 50;
export const CAUSE_IN_CAUSE = 400;
/**
 * Longest document, as the Lambda's error JSON escapes it. Step Functions keeps 32,768 characters of a
 * Cause, and the document is in it twice: as `errorMessage`, and in the first line of `trace` (the stack
 * begins with the message). Twice 15,000, with the stack's frames, stays under 32,768.
 */
export const MAX_ESCAPED = 15_000;

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** The whole UTC hour a window starts in (what `backfill --from` takes). */
const hourOf = (window: TenantFailure['window']) => {
  const start = window ? parseMinute(window.start) : null;
  return start === null ? null : formatHour(Math.floor(start / HOUR_MS) * HOUR_MS);
};

/**
 * Where a tenant failed, as a person reads it (`Hour 2026-11-24T10:00:00Z, entity Sessions`, `Window
 * 2026-11-24T10:05:00Z..10:10:00Z`), from the record's fields; null when it failed outside a window.
 */
export function placeOf(f: Pick<TenantFailure, 'window' | 'entity'>): string | null {
  const start = f.window ? parseMinute(f.window.start) : null;
  const end = f.window ? parseMinute(f.window.end) : null;
  if (start === null || end === null || end <= start) return null;
  const window = describeWindow({ start, end });
  return f.entity === null ? window : `${window}, entity ${f.entity}`;
}

/** A failure's message led by where it failed, unless the message names that already (a page's error does). */
export function failureLine(f: Pick<TenantFailure, 'window' | 'entity' | 'cause'>): string {
  const place = placeOf(f);
  return place === null || f.cause.includes(place) ? f.cause : `${place}: ${f.cause}`;
}

const failedTenant = (f: TenantFailure, maxCause: number): FailedTenant => ({
  tenant: f.tenant,
  error: f.error,
  cause: cut(failureLine(f), maxCause),
  hour: hourOf(f.window),
  entity: f.window ? f.entity : null,
});

const escapedLength = (doc: Failures) => JSON.stringify(JSON.stringify(doc)).length;

const AFTER =
  "A failed tenant's state has not moved: redrive this execution to collect only the failed tenants again, or let the next scheduled run catch up.";

function summary(doc: Omit<Failures, 'message'>): string {
  const only = doc.tenants[0];
  if (doc.total === 1 && only?.tenant === null) return only.cause;
  const named = doc.tenants.slice(0, 5).map((t) => t.tenant);
  const others = doc.failed > named.length ? `, and ${doc.failed - named.length} more` : '';
  return `${doc.failed} of ${doc.total} tenants failed (${named.join(', ')}${others}); the others committed their hours. ${AFTER} Each failed tenant's record is in ${doc.records}.`;
}

/**
 * The document of a run's failed tenants (`failed`, in the order of the tenant list): at most
 * {@link NAMED_IN_CAUSE} named, each cause cut to {@link CAUSE_IN_CAUSE} characters (the environment's
 * one tenant keeps its whole recorded cause), and fewer when the escaped document would pass
 * {@link MAX_ESCAPED}; the rest are counted in `more`.
 */
export function failuresOf(failed: readonly TenantFailure[], total: number, records: string): Failures {
  const single = failed.length === 1 && failed[0]?.tenant === null;
  const tenants = failed
    .slice(0, NAMED_IN_CAUSE)
    .map((f) => failedTenant(f, single ? Number.POSITIVE_INFINITY : CAUSE_IN_CAUSE));
  const make = (): Failures => {
    const data = { failed: failed.length, total, tenants, more: failed.length - tenants.length, records };
    return { message: summary(data), ...data };
  };
  let doc = make();
  while (tenants.length > 1 && escapedLength(doc) > MAX_ESCAPED) {
    tenants.pop();
    doc = make();
  }
  return doc;
}

/** The failures document in a text (an error's message), or null when the text is not one. */
export function parseFailures(text: string | null | undefined): Failures | null {
  if (!text) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = failuresSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** A failures document as a person reads it: each named tenant's error and cause, and what to do. */
export function failuresText(doc: Failures): string {
  const only = doc.tenants[0];
  if (doc.total === 1 && only?.tenant === null) return only.cause;
  const lines = doc.tenants.map(
    (t) => `${t.tenant ? `tenant "${t.tenant}"` : 'the tenant'}: ${t.error}: ${t.cause}`,
  );
  const more = doc.more
    ? ` The other ${doc.more} failed tenants are not named here: each has its record in ${doc.records}.`
    : '';
  return `${doc.failed} of ${doc.total} tenants failed; the others committed their hours. ${lines.join(' | ')}. ${AFTER}${more}`;
}

/**
 * An error message as a person reads it: the readable text of a failures document (an execution's
 * Cause, or a local run's), or the message itself when it is not one.
 */
export function describeFailures(json: string): string {
  const doc = parseFailures(json);
  return doc ? failuresText(doc) : json;
}
