import type { Change, ChurnOptions, RowWindow, TimeSpan } from './table.ts';

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
  rowsFor(entity: string, window: RowWindow): Record<string, unknown>[];
  /** Number of current rows with ModifiedDate in [fromMs, toMs), without materializing them. */
  countFor(entity: string, span: TimeSpan): number;
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
