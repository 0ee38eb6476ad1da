import type { Collector } from './collector.ts';
import type { StorageLayout } from './config.ts';
import type { ObjectStore, Telemetry } from './ports.ts';
import type { Tenant } from './schemas.ts';

/**
 * Every tenant one deployment collects, and what the steps around them need: the storage settings, the
 * work bucket (where the tenant list lives), and each tenant's collector. Built once per Lambda
 * container or per local run.
 */
export interface Fleet {
  readonly settings: StorageLayout;
  readonly work: ObjectStore;
  readonly log: Telemetry['log'];
  /** The collector of a listed tenant, or of the environment's one tenant (null). */
  collector(tenant: Tenant | null): Collector;
}

/**
 * Which tenant a child execution of the map over tenants collects: its index in the run's tenant list
 * ({@link runTenantsKey}, written by the Tenants step), or null for the environment's one tenant. The
 * map's items are these, not the entries: at 5,000 tenants the list itself is larger than the 256 KiB
 * Step Functions allows a state's input, while 5,000 indexes are 24 KB.
 */
export type TenantRef = number | null;

/** What the Tenants step hands to the map over tenants (and a redriven Report step hands back). */
export interface TenantsPlan {
  readonly runId: string;
  /** The execution's start time: every tenant's plan is made at it, so a redrive plans what the run planned. */
  readonly startTime?: string | null;
  readonly input: Record<string, unknown>;
  /**
   * The tenants this pass collects in Standard children: indexes into the run's tenant list, or `[null]`.
   * The Tenants step puts here the tenants that are behind; the Hand on step adds those the Express
   * children handed on; a redriven Report step puts the failed ones.
   */
  readonly tenants: readonly TenantRef[];
  /** The tenants the Tenants step found on time, which Express children collect first. */
  readonly onTime?: readonly TenantRef[];
  readonly tenantConcurrency: number;
  /** How many tenants the run collects in all (a redrive's pass collects the failed ones alone). */
  readonly total: number;
}

/**
 * Days a run's records live (the bucket's lifecycle rule `expire-run-records` in serverless.yml, which
 * test/package/template.test.ts holds to this number). A redrive may come 14 days after the execution's
 * last failure, and an execution may fail and be redriven more than once: 30 days cover a first failure
 * up to two days after the start and two redrives each at the 14-day limit. A later redrive finds the
 * run's tenant list gone, and its children fail saying so (tenant-list.ts).
 */
export const RUN_RECORDS_DAYS = 30;

/** Everything of one run that outlives its steps: its tenant list and its tenants' failures. */
export const runPrefix = (fleet: Fleet, runId: string) => `${fleet.settings.workPrefix}/runs/${runId}`;

/** The tenant list as the run's Tenants step read it: every child of the run reads its entry here. */
export const runTenantsKey = (fleet: Fleet, runId: string) => `${runPrefix(fleet, runId)}/tenants.json`;

/** Where the deployment's tenant list is, as messages name it. */
export const tenantListUrl = (fleet: Fleet) => `s3://${fleet.work.bucket}/${fleet.settings.tenantsKey}`;
