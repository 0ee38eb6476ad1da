/**
 * The many-tenant part of `npm run bench`, also runnable alone: `npx tsx packages/bench/src/tenants.ts`.
 *
 * 20 tenants (each its own stand-in customer, credentials and seed) × 5 entities, 2,000 rows per
 * entity-hour in 100-row pages (20 pages of rows per entity, 100 per tenant-hour, each entity then ended
 * by an empty page), the stand-in taking 50 ms per page. That is 2,000 rows/s per tenant, still far
 * faster than Citrix Cloud serves (35 rows/s measured, see bench.ts): there a tenant's time is the API's,
 * as here. With 500-row pages (`--page-size 500`) the 20 tenants' handlers, which share one Node thread
 * here where Lambda gives each invocation its own CPU, need more CPU than the slowest tenant's wall time,
 * and the side-by-side run measures this machine's CPU rather than the overlap of the tenants. Each tenant's state file is one hour behind the
 * newest due hour, so one scheduled run (no hour in the input) collects exactly one hour per tenant. The
 * same tenants and data are collected twice, each time by a child process (tenants-run.ts) with a fresh
 * s3rver behind a counting proxy (s3-counter.ts) and a fresh stand-in:
 * - parallel: TENANT_CONCURRENCY unset (default 40: all 20 side by side), as deployed;
 * - serial: TENANT_CONCURRENCY=1, one tenant after another, so each tenant's span is its time alone.
 * A tenant's span is from the start of its Plan invocation to the end of its last Commit invocation
 * (the runner's own timing of the handlers); its first to last Citrix page, from the stand-in's log, is
 * printed beside it.
 *
 * Counted from each run: the state machine's events (aws-local-stepfunctions' event log, checked against
 * what the handler invocations and the map iterations imply), each handler invocation's time, and every
 * request that reaches the S3 server. Cost per tenant-hour from those counts and us-east-1 list prices.
 * Exit 0 whatever the verdict; 1 if a run failed or a tenant's hour was not published.
 *
 * Options: --tenants 20  --latency-ms 50  --rows 2000 (per entity-hour)  --page-size 100  --heap-mb 128.
 */
import { loadDefinition } from '@citrix-monitor/testkit/workflow';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  billable,
  derivedEntered,
  FUNCTION,
  LAMBDA_PER_GB_SECOND,
  LAMBDA_PER_REQUEST,
  memorySizes,
  type PlannedTenant,
  SFN_PER_TRANSITION,
  s3Tiers,
  sum,
  TASK_STATES,
  table,
} from './cost.ts';
import { atLeast, numberOption, readOptions, whole } from './options.ts';
import { runChild, runIfMain } from './result.ts';
import type { S3Requests } from './s3-counter.ts';
import {
  type BenchServers,
  ENTITIES,
  HOUR_MS,
  iso,
  publishedOnDisk,
  putTenants,
  standinTenant,
  tenantIds,
  withServers,
} from './servers.ts';
import { type TenantsRunResult, tenantsRunResult } from './tenants-run.ts';
import { type AslStates, aslStates } from './windows-cost.ts';

/** Step Functions' limit on one execution's history (inline Map iterations count in it). */
const HISTORY_LIMIT = 25_000;
const MAX_HOURS_PER_RUN = 24;

interface StateInfo {
  readonly type: string;
  /** Map states around it: 0 at the top, 1 inside the map over tenants, 2 and more per hour. */
  readonly maps: number;
}

/** Every state of the definition by name (the ASL's names are unique), with its type and depth. */
function statesOf(definition: StateMachineDefinition): Map<string, StateInfo> {
  const found = new Map<string, StateInfo>();
  const walk = (machine: AslStates, maps: number) => {
    for (const [name, state] of Object.entries(machine.States)) {
      if (found.has(name)) throw new Error(`state name ${name} is used twice: counts by name would mix`);
      found.set(name, { type: state.Type, maps });
      const inner = state.ItemProcessor ?? state.Iterator;
      if (inner) walk(inner, maps + 1);
      for (const branch of state.Branches ?? []) walk(branch, maps);
    }
  };
  walk(aslStates.parse(definition), 0);
  return found;
}

/** History events AWS writes per state entered, by type (Task: Entered, Scheduled, Started, Succeeded, Exited). */
const EVENTS_PER_STATE: Record<string, number> = { Task: 5, Map: 4, Parallel: 4 };
const eventsPerState = (type: string) => EVENTS_PER_STATE[type] ?? 2;

interface TenantRun {
  readonly label: string;
  readonly concurrency: string;
  readonly child: TenantsRunResult;
  /** Requests that reached s3rver, by kind, and those it answered with 5xx (local faults, retried). */
  readonly s3: S3Requests;
  readonly s3ServerErrors: S3Requests;
  readonly pages: number;
  /** Pages answered with no row (the one that ends each entity-hour). */
  readonly emptyPages: number;
  readonly maxTenantsInFlight: number;
  /** Per tenant: its first Citrix page's start to its last page's end, ms. */
  readonly citrixSpansMs: number[];
  readonly tenantHours: number;
  /** CPU time of this process (stand-in, s3rver, counting proxy) while the child ran, s. */
  readonly serverCpuSeconds: number;
}

/** Rows published on disk by s3rver under a tenant's prefix: one NDJSON line per row. */
const publishedRows = (s3Dir: string, id: string) => publishedOnDisk(s3Dir, id).rows;

interface Setup {
  readonly tenants: number;
  readonly latencyMs: number;
  readonly rows: number;
  readonly pageSize: number;
  readonly heapMB: number;
  /** The hour every tenant collects. */
  readonly hour: number;
}

/** One scheduled run of `setup.tenants` tenants, each due exactly `setup.hour`, in a child process. */
async function measure(label: string, concurrency: string, setup: Setup): Promise<TenantRun> {
  const ids = tenantIds(setup.tenants);
  const standinOptions = {
    rowsPerHour: setup.rows,
    serverPageSize: setup.pageSize,
    latencyMs: setup.latencyMs,
    tenants: ids.map((id, i) => ({ ...standinTenant(id, i), latencyMs: setup.latencyMs })),
  };
  return withServers({ standinOptions, hour: setup.hour }, async (servers) => {
    const secrets = await putTenants(servers.store, ids, setup.hour);
    servers.counter.reset();
    const { child, serverCpuSeconds } = await runCollector(label, setup.heapMB, {
      ...servers.env,
      PAGE_SIZE: String(setup.pageSize),
      ...(concurrency === 'default' ? {} : { TENANT_CONCURRENCY: concurrency }),
      ...secrets,
    });
    const run: FinishedRun = { label, concurrency, ids, setup, servers, child, serverCpuSeconds };
    // Every tenant's hour published, once, with every row: else the figures mean nothing.
    const problems = ids.flatMap((id) => tenantProblems(id, run));
    if (problems.length > 0) {
      throw new Error(`${label} run: not every tenant's hour was published:\n  ${problems.join('\n  ')}`);
    }
    return tenantRunOf(run);
  });
}

/** The collector's run in a child process with `childEnv`, and this process's CPU time meanwhile, s. */
async function runCollector(
  label: string,
  heapMB: number,
  childEnv: Record<string, string>,
): Promise<{ child: TenantsRunResult; serverCpuSeconds: number }> {
  const cpuBefore = process.cpuUsage();
  const child = await runChild('tenants-run.ts', { env: childEnv, heapMB, schema: tenantsRunResult });
  const cpu = process.cpuUsage(cpuBefore);
  if (child.status !== 'SUCCEEDED') {
    throw new Error(`${label} run ${child.status}: ${child.error}: ${child.cause}`);
  }
  return { child, serverCpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** One measured run of the collector child, done: what it was, what it ran against and what it returned. */
interface FinishedRun {
  readonly label: string;
  /** TENANT_CONCURRENCY given to the child, or 'default'. */
  readonly concurrency: string;
  /** The tenants the run collected. */
  readonly ids: readonly string[];
  readonly setup: Setup;
  /** The servers it ran against, still up. */
  readonly servers: BenchServers;
  /** The child's result. */
  readonly child: TenantsRunResult;
  /** CPU time of this process (stand-in, s3rver, counting proxy) while the child ran, s. */
  readonly serverCpuSeconds: number;
}

/** What is wrong with tenant `id`'s run: its hour not published once with every row, or Citrix overrun. */
function tenantProblems(id: string, { child, servers, setup }: FinishedRun): string[] {
  const problems: string[] = [];
  const result = child.results.find((r) => r.tenant?.id === id);
  const committed = result?.committed ?? [];
  const citrix = servers.standin.tenant(`${id}cust`);
  const expected = ENTITIES.reduce(
    (n, e) => n + citrix.countFor(e, { fromMs: setup.hour, toMs: setup.hour + HOUR_MS }),
    0,
  );
  const onDisk = committed.length > 0 ? publishedRows(servers.dir, id) : 0;
  if (
    committed.length !== 1 ||
    committed[0]?.start !== iso(setup.hour) ||
    committed[0]?.outcome !== 'published' ||
    committed[0]?.rows !== expected ||
    onDisk !== expected
  ) {
    problems.push(
      `${id}: committed ${JSON.stringify(committed.map((c) => ({ start: c.start, outcome: c.outcome, rows: c.rows })))}, ${onDisk} rows on disk, expected hour ${iso(setup.hour)} published with ${expected} rows${result?.failure ? ` (failure: ${JSON.stringify(result.failure)})` : ''}`,
    );
  }
  if (citrix.stats.maxInFlight > 1 || citrix.stats.throttled > 0) {
    problems.push(
      `${id}: ${citrix.stats.maxInFlight} Citrix calls at once, ${citrix.stats.throttled} answered 429`,
    );
  }
  return problems;
}

/** The run's figures: the child's, the S3 requests counted, and the stand-in's pages per tenant. */
function tenantRunOf({
  label,
  concurrency,
  ids,
  child,
  servers: { standin, counter },
  serverCpuSeconds,
}: FinishedRun): TenantRun {
  const tenants = ids.map((id) => standin.tenant(`${id}cust`));
  return {
    label,
    concurrency,
    child,
    s3: { ...counter.counts },
    s3ServerErrors: { ...counter.serverErrors },
    pages: tenants.reduce((n, t) => n + t.stats.pages.length, 0),
    emptyPages: tenants.reduce((n, t) => n + t.stats.pages.filter((p) => p.rows === 0).length, 0),
    maxTenantsInFlight: standin.stats.maxTenantsInFlight,
    citrixSpansMs: tenants.map((t) => {
      const pages = t.stats.pages;
      return (pages.at(-1)?.endedMs ?? 0) - (pages[0]?.startedMs ?? 0);
    }),
    serverCpuSeconds,
    tenantHours: child.results.reduce((n, r) => n + (r.committed?.length ?? 0), 0),
  };
}

/** What the handler invocations and the map iterations imply each state was entered, by state name. */
function enteredFromInvocations(child: TenantsRunResult): ReturnType<typeof derivedEntered> {
  const ok = (name: string) => child.succeededByState[name] ?? 0;
  const tenants: PlannedTenant[] = child.results.flatMap((r) =>
    (child.plannedBy[r.tenant?.id ?? ''] ?? ['Plan']).map((plan) => ({
      windows: r.windows ?? [],
      entities: r.entities ?? [],
      failed: r.failure !== undefined,
      plan,
    })),
  );
  return derivedEntered(ok, tenants, child.status === 'SUCCEEDED');
}

interface Accounts {
  readonly enteredLog: number;
  readonly enteredDerived: number;
  readonly iterationsLog: number;
  readonly iterationsDerived: number;
  readonly retries: number;
  /** State transitions billed: the higher count of states entered, plus retries. */
  readonly transitions: number;
  readonly gbSeconds: number;
  readonly lambdaRequests: number;
  readonly s3Tier1: number;
  readonly s3Tier2: number;
  readonly s3Free: number;
  readonly cost: { sfn: number; lambda: number; s3: number; total: number };
  readonly history: {
    readonly total: number;
    /** Events of the execution itself and its top-level states, whatever the number of tenants. */
    readonly fixed: number;
    /** Per tenant, whatever its hours: its map iteration, Tenant, Plan, Windows. */
    readonly perTenant: number;
    /** Per hour of a tenant: the rest. */
    readonly perHour: number;
  };
}

/** States entered, map iterations and retries of a run, and the transitions billed for them. */
function countsOf(child: TenantsRunResult) {
  const derived = enteredFromInvocations(child);
  const enteredLog = sum(Object.values(child.statesEntered));
  const enteredDerived = sum(Object.values(derived.entered));
  const iterationsLog = child.events.MapIterationStarted ?? 0;
  const retries = Math.max(child.events.StateRetried ?? 0, sum(Object.values(child.failedInvocations)));
  return {
    // The higher of the two counts, state by state from the same source.
    entered: enteredLog >= enteredDerived ? child.statesEntered : derived.entered,
    enteredLog,
    enteredDerived,
    iterations: Math.max(iterationsLog, derived.iterations),
    iterationsLog,
    iterationsDerived: derived.iterations,
    retries,
    transitions: Math.max(enteredLog, enteredDerived) + retries,
  };
}

/** What a run's history is shared out over: its tenants and the tenant-hours they collected. */
interface HistoryShares {
  readonly tenants: number;
  readonly tenantHours: number;
}

/** History: 2 for the execution, per state entered by its type, 2 per map iteration, 3 per retried attempt. */
function historyOf(
  counts: ReturnType<typeof countsOf>,
  states: Map<string, StateInfo>,
  { tenants, tenantHours }: HistoryShares,
): Accounts['history'] {
  let fixed = 2;
  let tenantPart = 0;
  let hourPart = 3 * counts.retries;
  for (const [name, n] of Object.entries(counts.entered)) {
    const info = states.get(name);
    if (!info) throw new Error(`state ${name} is not in the definition`);
    const events = n * eventsPerState(info.type);
    if (info.maps === 0) fixed += events;
    else if (info.maps === 1) tenantPart += events;
    else hourPart += events;
  }
  tenantPart += 2 * tenants;
  hourPart += 2 * (counts.iterations - tenants);
  return {
    total: fixed + tenantPart + hourPart,
    fixed,
    perTenant: tenantPart / tenants,
    perHour: hourPart / tenantHours,
  };
}

function account(run: TenantRun, memory: Record<string, number>, states: Map<string, StateInfo>): Accounts {
  const { child } = run;
  const counts = countsOf(child);
  const gbSeconds = sum(
    TASK_STATES.map((s) => (child.billedMs[s] / 1000) * ((memory[FUNCTION[s]] ?? 0) / 1024)),
  );
  const lambdaRequests = sum(Object.values(child.invocations));
  const s3 = s3Tiers(billable(run.s3, run.s3ServerErrors));
  const perTenantHour = (x: number) => x / run.tenantHours;
  const sfn = perTenantHour(counts.transitions * SFN_PER_TRANSITION);
  const lambda = perTenantHour(gbSeconds * LAMBDA_PER_GB_SECOND + lambdaRequests * LAMBDA_PER_REQUEST);
  const s3Cost = perTenantHour(s3.dollars);
  return {
    enteredLog: counts.enteredLog,
    enteredDerived: counts.enteredDerived,
    iterationsLog: counts.iterationsLog,
    iterationsDerived: counts.iterationsDerived,
    retries: counts.retries,
    transitions: counts.transitions,
    gbSeconds,
    lambdaRequests,
    s3Tier1: s3.tier1,
    s3Tier2: s3.tier2,
    s3Free: s3.free,
    cost: { sfn, lambda, s3: s3Cost, total: sfn + lambda + s3Cost },
    history: historyOf(counts, states, { tenants: child.results.length, tenantHours: run.tenantHours }),
  };
}

/**
 * Hours one tenant's child execution holds under the history limit: each tenant is a child of the
 * Distributed Map, with a history of its own; the parent holds only the fixed part.
 */
const childHours = (a: Accounts) => Math.floor((HISTORY_LIMIT - a.history.perTenant) / a.history.perHour);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const usd = (x: number) => `$${x.toFixed(7)}`;
const max = (xs: number[]) => Math.max(...xs);
const mean = (xs: number[]) => sum(xs) / Math.max(1, xs.length);

export interface TenantBenchOptions {
  readonly tenants?: number;
  readonly latencyMs?: number;
  readonly rows?: number;
  readonly pageSize?: number;
  readonly heapMB?: number;
}

/** A table row: its label, then one cell per run. */
type Row = [string, ...string[]];
/** One cell per run, from the run, its accounts and its index. */
type Column = <T>(f: (run: TenantRun, a: Accounts, i: number) => T) => T[];

/** The options with their defaults, and the hour every tenant collects. */
function setupOf(options: TenantBenchOptions): Setup {
  // An hour inside the stand-in's data span (the 72 hours before the current one) and long finished.
  const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;
  return {
    tenants: options.tenants ?? 20,
    latencyMs: options.latencyMs ?? 50,
    rows: options.rows ?? 2000,
    pageSize: options.pageSize ?? 100,
    heapMB: options.heapMB ?? 128,
    hour,
  };
}

function printIntro(setup: Setup): void {
  const pagesPerEntity = Math.ceil(setup.rows / setup.pageSize);
  console.log(
    `\nMany tenants: ${setup.tenants} tenants × ${ENTITIES.length} entities, ${fmt(setup.rows)} rows per entity-hour in ${setup.pageSize}-row pages (${pagesPerEntity} with rows per entity), stand-in ${setup.latencyMs} ms per page, one call per tenant at a time; one scheduled run collecting hour ${iso(setup.hour)} of every tenant (state one hour behind). Each run in a child process (V8 heap limit ${setup.heapMB} MB) with a fresh s3rver and stand-in.`,
  );
}

/** The runs' times, tenants and Citrix pages. `spans[i]`: run i's tenant spans, first page fetch → last Commit end. */
function timingRows(column: Column, spans: readonly number[][]): Row[] {
  return [
    ['execution wall time (state machine start to end)', ...column((r) => secs(r.child.wallMs))],
    [
      'tenant span, slowest (first page fetch → last Commit end)',
      ...column((_r, _a, i) => secs(max(spans[i] ?? []))),
    ],
    ['tenant span, mean', ...column((_r, _a, i) => secs(mean(spans[i] ?? [])))],
    ['tenant span, slowest (first → last Citrix page)', ...column((r) => secs(max(r.citrixSpansMs)))],
    ['most tenants calling Citrix at once', ...column((r) => String(r.maxTenantsInFlight))],
    ['tenant-hours published', ...column((r) => String(r.tenantHours))],
    ['Citrix pages (of them empty)', ...column((r) => `${fmt(r.pages)} (${fmt(r.emptyPages)})`)],
  ];
}

/** What the runs used: invocations, states, transitions, GB-s, S3 requests. */
function usageRows(column: Column): Row[] {
  return [
    [
      `Lambda invocations (${TASK_STATES.join('/')})`,
      ...column((r) => TASK_STATES.map((s) => r.child.invocations[s]).join('/')),
    ],
    [
      'states entered: event log / from invocations',
      ...column((_r, a) => `${fmt(a.enteredLog)} / ${fmt(a.enteredDerived)}`),
    ],
    [
      'map iterations: event log / from invocations',
      ...column((_r, a) => `${fmt(a.iterationsLog)} / ${fmt(a.iterationsDerived)}`),
    ],
    ['retries', ...column((_r, a) => fmt(a.retries))],
    ['state transitions billed', ...column((_r, a) => fmt(a.transitions))],
    ['Lambda GB-s (local handler times)', ...column((_r, a) => a.gbSeconds.toFixed(2))],
    [
      'S3 requests PUT tier (PUT/COPY/POST/DeleteObjects/LIST)',
      ...column((r, a) => {
        const b = billable(r.s3, r.s3ServerErrors);
        return `${fmt(a.s3Tier1)} (${b.put}/${b.copy}/${b.post}/${b.deleteObjects}/${b.list})`;
      }),
    ],
    [
      'S3 requests GET tier (GET/HEAD/other)',
      ...column((r, a) => {
        const b = billable(r.s3, r.s3ServerErrors);
        return `${fmt(a.s3Tier2)} (${b.get}/${b.head}/${b.other})`;
      }),
    ],
    ['S3 DELETE (free)', ...column((_r, a) => fmt(a.s3Free))],
    [
      "S3 answers 5xx (s3rver's faults, retried; not billed)",
      ...column((r) => fmt(sum(Object.values(r.s3ServerErrors)))),
    ],
  ];
}

/** The cost per tenant-hour and per tenant-month. */
function costRows(column: Column): Row[] {
  return [
    ['cost per tenant-hour: Step Functions', ...column((_r, a) => usd(a.cost.sfn))],
    ['cost per tenant-hour: Lambda (arm64)', ...column((_r, a) => usd(a.cost.lambda))],
    ['cost per tenant-hour: S3 requests', ...column((_r, a) => usd(a.cost.s3))],
    ['cost per tenant-hour: total', ...column((_r, a) => usd(a.cost.total))],
    ['cost per tenant-month (730 h)', ...column((_r, a) => `$${(a.cost.total * 730).toFixed(4)}`)],
  ];
}

/** The history events, and the hours a child execution holds under the limit. */
function historyRows(column: Column): Row[] {
  return [
    ['history events, whole execution', ...column((_r, a) => fmt(a.history.total))],
    [
      'history events per tenant-hour (incl. share of fixed)',
      ...column((r, a) => (a.history.total / r.tenantHours).toFixed(1)),
    ],
    [
      'history events of the parent execution, any number of tenants',
      ...column((_r, a) => fmt(a.history.fixed)),
    ],
    [
      "history events of a tenant's child execution: per tenant + per hour",
      ...column((_r, a) => `${a.history.perTenant.toFixed(1)} + ${a.history.perHour.toFixed(1)}`),
    ],
    [
      `hours a child holds ≤ ${fmt(HISTORY_LIMIT)} events (MAX_HOURS_PER_RUN ≤ 168; ${MAX_HOURS_PER_RUN} by default)`,
      ...column((_r, a) => fmt(childHours(a))),
    ],
  ];
}

/** This machine's CPU and memory during the runs. */
function machineRows(column: Column): Row[] {
  return [
    [
      'collector CPU during the execution (1 core = wall)',
      ...column((r) => `${r.child.runCpuSeconds.toFixed(2)} s`),
    ],
    ['stand-in + s3rver CPU (the other core)', ...column((r) => `${r.serverCpuSeconds.toFixed(2)} s`)],
    ['collector child peak RSS', ...column((r) => `${r.child.maxRssMB} MB`)],
  ];
}

function printTable(setup: Setup, column: Column, spans: readonly number[][]): void {
  const rows = [
    ...timingRows(column, spans),
    ...usageRows(column),
    ...costRows(column),
    ...historyRows(column),
    ...machineRows(column),
  ];
  console.log(
    `\n${table(rows, [
      '',
      `parallel (TENANT_CONCURRENCY default, ${Math.min(40, setup.tenants)} side by side)`,
      'serial (TENANT_CONCURRENCY=1)',
    ])}`,
  );
}

/** A note for each run whose event log and invocations disagree. */
function printDisagreements(accounted: readonly { run: TenantRun; a: Accounts }[]): void {
  for (const { run, a } of accounted) {
    if (a.enteredLog !== a.enteredDerived || a.iterationsLog !== a.iterationsDerived) {
      console.log(
        `Note (${run.label}): the local event log counted ${a.enteredLog} states entered and ${a.iterationsLog} map iterations, the invocations imply ${a.enteredDerived} and ${a.iterationsDerived}: the cost and history use the higher.`,
      );
    }
  }
}

/** How the figures were counted and priced. */
function printMethod(memory: Record<string, number>): void {
  console.log(
    `\nCounted: states entered from aws-local-stepfunctions' event log (StateEntered, MapIterationStarted, StateRetried), cross-checked against the handler invocations (each Task entry one successful invocation; "More pages?" once per FetchPages, "Entity fetched" once per entity-hour, 3 states per tenant and per hour, 6 at the top); billed transitions = states entered + retries.`,
  );
  console.log(
    `History events (AWS's, estimated from those counts): 2 for the execution + 5 per Task entered (Entered, Scheduled, Started, Succeeded, Exited) + 4 per Map or Parallel state (Entered, Started, Succeeded, Exited) + 2 per Choice/Pass/Succeed + 2 per map iteration + 3 per retried attempt; "fixed" is the parent execution's and its top-level states' (the Distributed Map counted once), "per tenant" a child execution's own 2 and its Tenant, Plan and Windows states, "per hour" the rest. Each tenant is a child execution with a history of its own: hours a child holds = (${fmt(HISTORY_LIMIT)} − per tenant) / per hour; the parent holds "fixed" at any number of tenants.`,
  );
  console.log(
    `Lambda GB-s: each handler invocation's local wall time, rounded up to the ms, × its function's memory in serverless.yml (${Object.entries(
      memory,
    )
      .map(([f, mb]) => `${f} ${mb} MB`)
      .join(
        ', ',
      )}) / 1024. Local times are not Lambda's: here the handlers of all tenants share one process and two cores with the stand-in and s3rver (the parallel run's times include that waiting: the serial run's are nearer Lambda's), and no cold start is counted. S3: every request that reached s3rver, through a counting proxy, less those s3rver failed with 5xx (a DeleteObjects of several keys fails once there, removing the emptied folder twice; the SDK retries it). Prices: us-east-1 list prices, no free tier; Secrets Manager, CloudWatch and storage not included.`,
  );
}

/** The bench's two measured runs: the tenants side by side, and one after another. */
interface MeasuredRuns {
  readonly parallel: TenantRun;
  readonly serial: TenantRun;
}

/** The verdict: the tenants side by side against the slowest tenant alone (the serial run's spans). */
function printVerdict(
  setup: Setup,
  { parallel, serial }: MeasuredRuns,
  serialSpans: readonly number[],
): void {
  const slowestAlone = max([...serialSpans]);
  const ratio = parallel.child.wallMs / slowestAlone;
  console.log(
    `\nTenants:    ${ratio <= 1.5 ? 'PASS' : 'FAIL'}, ${setup.tenants} tenants side by side took ${secs(parallel.child.wallMs)}, ${ratio.toFixed(2)} × the slowest tenant alone (${secs(slowestAlone)}, first page fetch → last Commit end in the serial run; target ≤ 1.5 ×); one after another they took ${secs(serial.child.wallMs)}.`,
  );
  console.log(
    `            Here every tenant's handlers share one Node thread (in Lambda each invocation has its own CPU): the collector spent ${parallel.child.runCpuSeconds.toFixed(2)} s of CPU during the parallel run (${((100 * parallel.child.runCpuSeconds) / (parallel.child.wallMs / 1000)).toFixed(0)} % of its wall time), ${((1000 * serial.child.runCpuSeconds) / serial.tenantHours).toFixed(0)} ms per tenant-hour in the serial run, and the stand-in and s3rver ${parallel.serverCpuSeconds.toFixed(2)} s on the other core.`,
  );
}

/** Runs the many-tenant bench and prints its table and verdict; throws when a run fails. */
export async function runTenantBench(options: TenantBenchOptions = {}): Promise<void> {
  const started = Date.now();
  const setup = setupOf(options);
  const memory = memorySizes();
  const states = statesOf(loadDefinition());
  printIntro(setup);
  // Untimed: warms this process's stand-in and s3rver code, which serve both measured runs.
  await measure('warm-up', 'default', { ...setup, tenants: 2 });
  const parallel = await measure('parallel', 'default', setup);
  const serial = await measure('serial', '1', setup);
  const accounted = [parallel, serial].map((run) => ({ run, a: account(run, memory, states) }));
  const spans = [parallel, serial].map((r) => Object.values(r.child.spansMs));
  const column: Column = (f) => accounted.map(({ run, a }, i) => f(run, a, i));
  printTable(setup, column, spans);
  printDisagreements(accounted);
  printMethod(memory);
  printVerdict(setup, { parallel, serial }, spans[1] ?? []);
  console.log(`Tenant bench time: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

/** The command line's options, or the usage. */
function parseOptions(): TenantBenchOptions | string {
  const options = readOptions({
    tenants: numberOption(20, whole(1)),
    latencyMs: numberOption(50, atLeast(0)),
    rows: numberOption(2000, atLeast(1)),
    pageSize: numberOption(100, atLeast(1)),
    heapMB: numberOption(128, atLeast(16)),
  });
  return (
    options ??
    'Usage: npx tsx packages/bench/src/tenants.ts [--tenants 20] [--latency-ms 50] [--rows 2000] [--page-size 100] [--heap-mb 128]'
  );
}

runIfMain(import.meta.url, { name: 'Tenant bench', parse: parseOptions, run: runTenantBench });
