/**
 * The ports of the domain: what it needs from the outside world, declared here, where it is used. The
 * adapters (functions/adapters/) implement them; the domain never imports an adapter.
 */

// Object storage: S3 (adapters/s3-store.ts), an in-memory bucket in the unit tests.

/** The result of a conditional write: written, or refused because the precondition did not hold. */
export type WriteOutcome = { written: true; etag: string } | { written: false };

/**
 * A small view of one S3 bucket: what the collector needs, with S3's conditional writes made explicit.
 * ETags go in and out without their quotes (S3 sends them quoted; Ceph RGW refuses a quoted `If-Match`).
 * test/contract/object-store.ts is the contract, run against an in-memory store and Ceph RGW.
 */
export interface ObjectStore {
  readonly bucket: string;
  /** The object's body and ETag, or null if there is no such key. */
  get(key: string): Promise<{ body: Buffer; etag: string } | null>;
  /** Unconditional write (staging only: staging keys may be rewritten by a retry). */
  put(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  /** Writes only if the key does not exist (`If-None-Match: *`), or only over `ifMatch` (`If-Match`). */
  putIf(
    key: string,
    body: Buffer | string,
    condition: { ifNoneMatch: '*' } | { ifMatch: string },
  ): Promise<WriteOutcome>;
  /**
   * Server-side copy of `from` (in `fromBucket`) to `to` with `If-None-Match: *` on the destination (AWS S3 enforces it
   * on CopyObject; some S3-compatible servers ignore it, which the commit step's lease makes harmless).
   * `source-missing` when `from` does not exist.
   */
  copyIfAbsent(
    fromBucket: string,
    from: string,
    to: string,
  ): Promise<'written' | 'exists' | 'source-missing'>;
  /**
   * Whether the key was ever written, even if it was deleted since (it has a version or a delete
   * marker). Null when the bucket is not versioned and so cannot tell.
   */
  everWritten(key: string): Promise<boolean | null>;
  list(prefix: string): Promise<string[]>;
  /**
   * Deletes the keys with one DeleteObjects request per 1,000 keys, which AWS bills as a PUT. A key it
   * could not delete is not reported.
   */
  deleteAll(keys: readonly string[]): Promise<void>;
  /**
   * Deletes each key with a DeleteObject request of its own, several at a time: AWS bills a DeleteObject
   * nothing. A key that does not exist is no error; any other failure is thrown.
   */
  deleteEach(keys: readonly string[]): Promise<void>;
}

// Citrix Monitor pages: the OData client (adapters/citrix-client.ts).

/** One page of an OData entity set, as the server returned it. */
export interface Page {
  /** The raw row objects of `value`, unchanged. */
  readonly rows: readonly unknown[];
  /** The absolute, checked URL of the next page, or null on the last page. */
  readonly nextLink: string | null;
  /** Decoded body size in bytes. */
  readonly bytes: number;
}

/**
 * The invocation's deadline came before the page was complete. Not a failure, and never seen by the
 * state machine: the pager hands back the continuation of that page instead.
 */
export class OutOfTime extends Error {
  override readonly name = 'OutOfTime';
}

/** A key value as the server wrote it in a row: a Guid or a string, or an integer. */
export type KeyValue = string | number;

/** One entity's rows whose `timeField` is in the window `[fromMs, toMs)`. */
export interface WindowQuery {
  readonly entity: string;
  readonly timeField: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** One request of an entity-window paged by key: the window, the key order, and the last key received. */
export interface KeyPageQuery extends WindowQuery {
  readonly keyField: string;
  /** The last key received; null for the first request. */
  readonly after: KeyValue | null;
  /** `$top` of this one request. */
  readonly top: number;
}

/** The Citrix calls the pager makes. */
export interface CitrixPages {
  /** The first request of an entity-window paged by the server's nextLinks. */
  firstPageUrl(q: WindowQuery): string;
  /** One request of an entity-window paged by key. */
  keyPageUrl(q: KeyPageQuery): string;
  /** A nextLink resolved and checked to stay on the API; a ForeignNextLink error otherwise. */
  resolveNextLink(link: string, pageUrl: string): string;
  /** One page, retried on transient faults; {@link OutOfTime} when `deadlineMs` comes first. */
  fetchPage(
    url: string,
    about: string | { what: string; fields: Record<string, unknown> },
    deadlineMs?: number,
  ): Promise<Page>;
}

// Logs and metrics: Powertools in Lambda, JSON lines locally (adapters/telemetry.ts).

/** The metrics the collector emits; per-entity ones carry an `Entity` dimension. */
export type MetricName =
  | 'Rows'
  | 'Pages'
  | 'Bytes'
  | 'FetchSeconds'
  | 'Retries'
  | 'Throttles'
  | 'LagMinutes'
  | 'PublishedObjects';

/** How much a log line matters: `warn` for a fault that was retried or worked around, `error` for a failure. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The series a metric is counted in besides the service's. */
export interface MetricDimensions {
  /** The entity of a per-entity metric (an `Entity` dimension). */
  readonly entity?: string | undefined;
  /** A listed tenant's metric, also counted under its own Tenant dimension. */
  readonly tenant?: string | undefined;
}

/**
 * Where the domain reports what it does. Every log line carries the run and, where they apply, the
 * window (`{start, end}`), entity and page as fields; none ever carries the client secret or a token.
 *
 * A run is one execution of the state machine, and its id is the execution's name: `runId` in the code
 * and the Task events, `execution` in log lines (the field the Logs Insights queries of docs/operating.md filter
 * on), and, in the commit records stored in S3, `run` (the claimant) and `lease.holder`.
 */
export interface Telemetry {
  /** One log line, at `level` (`info` when left out). */
  log(message: string, fields?: Record<string, unknown>, level?: LogLevel): void;
  /** One metric's value, in the series of its dimensions. */
  metric(name: MetricName, value: number, dimensions?: MetricDimensions): void;
  /**
   * The telemetry of one listed tenant's work: each log line carries the tenant's id (`tenant`) and each
   * metric is also counted in the tenant's series. A telemetry without it (a test's) logs as it is.
   */
  withTenant?(tenant: string): Telemetry;
}
