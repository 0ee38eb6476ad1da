import { Dataset } from './data.ts';
import { FaultQueue } from './faults.ts';
import { type ChurnOptions, LiveTable } from './table.ts';
import type { ServerStats, StandinOptions, StandinStats, StandinTenant, TenantOptions } from './types.ts';

/** The tenants of the stand-in: each one's data, faults, call in flight and counters, and the registry. */

const freshStats = (): StandinStats => ({
  tokenRequests: 0,
  dataRequests: 0,
  throttled: 0,
  maxInFlight: 0,
  faultsInjected: {},
  requestsByEntity: {},
  unauthorized: 0,
  pages: [],
  timeouts: [],
});

/** The server-wide settings a tenant falls back on, resolved. */
export interface TenantDefaults {
  seed: number;
  rowsPerHour: NonNullable<StandinOptions['rowsPerHour']>;
  churn: ChurnOptions | undefined;
  latencyMs: number;
  now: (() => number) | undefined;
  dataFromMs: number;
  dataToMs: number;
  /** The server's origin, known once it listens. */
  origin: () => string;
}

/** A tenant's server side: its data, its call in flight, its faults and counters. */
export class Tenant {
  readonly api: StandinTenant;
  readonly data: Dataset;
  readonly table: LiveTable;
  readonly faults = new FaultQueue();
  latencyMs: number;
  inFlight = 0;

  constructor(t: TenantOptions, index: number, defaults: TenantDefaults) {
    this.data = new Dataset({
      seed: t.seed ?? defaults.seed + index,
      rowsPerHour: t.rowsPerHour ?? defaults.rowsPerHour,
      fromMs: defaults.dataFromMs,
      toMs: defaults.dataToMs,
    });
    const churn = t.churn ?? defaults.churn;
    this.table = new LiveTable(this.data, defaults.now);
    if (churn) this.table.setChurn(churn);
    this.latencyMs = t.latencyMs ?? defaults.latencyMs;
    this.api = this.face(t, churn, defaults.origin);
  }

  get stats(): StandinStats {
    return this.api.stats;
  }

  /** The tenant as tests see it. */
  private face(t: TenantOptions, churn: ChurnOptions | undefined, origin: () => string): StandinTenant {
    const { table, faults } = this;
    const stats = freshStats();
    return {
      customerId: t.customerId,
      clientId: t.clientId,
      clientSecret: t.clientSecret,
      stats,
      injectFault: (f) => faults.inject(f),
      failEntity: (name, status = 503) => faults.failEntity(name, status),
      setLatency: (ms) => {
        this.latencyMs = ms;
      },
      rowsFor: (name, window) => table.rowsFor(name, window),
      countFor: (name, span) => table.countFor(name, span),
      changes: (name) => table.changes(name),
      change: (name, key) => table.changeKey(name, key),
      churn(setting) {
        if (setting === true && !churn)
          throw new Error('churn(true) needs the churn option: pass settings instead');
        table.setChurn(setting === true ? (churn ?? null) : setting === false ? null : setting);
      },
      resetStats() {
        Object.assign(stats, freshStats());
      },
      collectorEnv: () => ({
        API_BASE: origin(),
        CITRIX_CUSTOMER_ID: t.customerId,
        CITRIX_CLIENT_ID: t.clientId,
        CITRIX_CLIENT_SECRET: t.clientSecret,
      }),
    };
  }
}

/** The tenants of a stand-in, the default one first, and what the server counts across them. */
export class Tenants {
  readonly all: readonly Tenant[];
  readonly main: Tenant;
  /** The default tenant's counters, which carry the server's. */
  readonly serverStats: StandinStats & ServerStats;
  private readonly byCustomer = new Map<string, Tenant>();
  private inFlight = 0;

  constructor(all: Tenant[]) {
    for (const t of all) {
      if (this.byCustomer.has(t.api.customerId))
        throw new Error(`tenants: customer id '${t.api.customerId}' given twice`);
      this.byCustomer.set(t.api.customerId, t);
    }
    const main = all[0];
    if (!main) throw new Error('tenants: give at least one tenant');
    this.all = all;
    this.main = main;
    this.serverStats = Object.assign(main.api.stats, { maxTenantsInFlight: 0 });
  }

  /** The tenant with this customer id, if any. */
  ofCustomer(customerId: string): Tenant | undefined {
    return this.byCustomer.get(customerId);
  }

  /** The tenant a client id belongs to, if any. */
  ofClient(clientId: string | null): Tenant | undefined {
    return this.all.find((t) => t.api.clientId === clientId);
  }

  /** The tenant with this customer id, as tests see it; throws if there is none. */
  tenant(customerId: string): StandinTenant {
    const t = this.byCustomer.get(customerId);
    if (!t) {
      throw new Error(
        `No tenant '${customerId}': this stand-in serves ${[...this.byCustomer.keys()].join(', ')}`,
      );
    }
    return t.api;
  }

  /** Counts a data request of `tenant` as in flight until the returned release is first called. */
  enter(tenant: Tenant): () => void {
    if (tenant.inFlight++ === 0) this.inFlight++;
    tenant.stats.maxInFlight = Math.max(tenant.stats.maxInFlight, tenant.inFlight);
    this.serverStats.maxTenantsInFlight = Math.max(this.serverStats.maxTenantsInFlight, this.inFlight);
    let released = false;
    return () => {
      if (!released && --tenant.inFlight === 0) this.inFlight--;
      released = true;
    };
  }

  /** Zeroes the default tenant's counters and page log (changes are kept) and the server's counters. */
  resetStats(): void {
    this.main.api.resetStats();
    this.serverStats.maxTenantsInFlight = 0;
  }
}
