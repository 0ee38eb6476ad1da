/**
 * The freshness-against-cost part of `npm run bench`, also runnable alone: `npx tsx packages/bench/src/windows.ts`.
 * What windows shorter than an hour cost per tenant-month, counted from runs, beside how fresh they make the
 * data, at one tenant and at many: tenants on time in Express children (as deployed), and as the baseline
 * every child a Standard execution.
 *
 * For each tenant count N (default 1 and 100) and window size W (default 5, 15 and 60): N tenants (one: the
 * environment's one tenant, as a one-tenant deployment runs; more: a tenant list, each tenant its own stand-in
 * customer, credentials, data and state file), 5 entities × 1,000 rows per entity-hour each, every state at
 * the start of an hour H0, and the executions W's schedule starts (serverless.yml `custom.schedules`) from
 * the one that publishes the window [H0, H0 + W) to the one that publishes the window ending H0 + 1 h: each
 * execution at its simulated start time (the plan's clock), one after another, in a child process
 * (windows-run.ts) running the real state machine and handlers, its tenants one at a time
 * (TENANT_CONCURRENCY=1, so each invocation's wall and CPU time are its own); the stand-in serving 100-row
 * pages (as the real-speed bench) at a small fixed latency; a fresh s3rver (in /dev/shm when there is one)
 * behind a counting proxy. Each tenant's hour, every window published once with every row by the execution
 * the schedule says, checked on disk. Two measurements run at a time, each in a process of its own
 * (windows-measure.ts). The baseline: the same executions run again with the definition's every Distributed
 * Map STANDARD (windows-run.ts allStandard), at the tenant counts of --baseline-runs (default 1: at 100
 * tenants it would double the bench's ~4 minutes); at the others, the deployed run's executions priced with
 * every child Standard, which the tenant counts run both ways check (printed under their table).
 *
 * Counted from the runs and priced by windows-cost.ts: Step Functions Standard transitions (the parent's and
 * the Standard children's states entered, retries, one per child started), Express requests and GB-s (each
 * child's duration at real Citrix speed), Lambda invocations and GB-s at real speed, S3 requests by tier.
 * Exit 0 whatever the figures; 1 if a run failed or an hour was not published exactly.
 *
 * Options: --tenants 1,100  --baseline-runs 1  --parallel 2  --minutes 5,15,60  --latency-ms 1
 *          --rows 1000 (per entity-hour and tenant)  --server-page-size 100  --rows-per-second 35 (the real
 *          speed the durations are modelled at).
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { PageLogEntry, StandinTenant } from '@citrix-monitor/testkit/citrix-standin';
import { loadDefinition } from '@citrix-monitor/testkit/workflow';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { z } from 'zod';
import { formatMinute, MINUTE_MS, WINDOW_SIZES } from '../../../functions/domain/windows.ts';
import {
  billable,
  HOURS_PER_MONTH,
  heapFor,
  memorySizes,
  PRICES,
  serverlessYml,
  sum,
  table,
} from './cost.ts';
import {
  above,
  atLeast,
  listOption,
  listOrNoneOption,
  numberOption,
  oneOf,
  readOptions,
  whole,
} from './options.ts';
import { runChild, runIfMain, runNode } from './result.ts';
import { s3Requests } from './s3-counter.ts';
import {
  type BenchServers,
  checkOneAtATime,
  ENTITIES,
  HOUR_MS,
  PAGE_SIZE,
  publishedOnDisk,
  putStateBefore,
  putTenants,
  standinTenant,
  tenantIds,
  withServers,
} from './servers.ts';
import { type Account, type AccountModel, account, type HourRun, perTenantMonth } from './windows-cost.ts';
import { allStandard, type WindowsRunResult, windowsExecution, windowsRunResult } from './windows-run.ts';

/** SETTLE_MINUTES as deployed: serverless.yml's settleMinutes, 15. */
const SETTLE_MINUTES = 15;
const BASELINE = 60;
/**
 * Today's cost of W=60 per tenant-month, before Express children: one tenant, every child a Standard
 * execution, 27 transitions an hour (docs/design.md, "Freshness against cost", as this bench printed it up
 * to commit d022c7a). The issue's target: W=5 at 100 tenants at most twice it, W=60 no dearer.
 */
export const TODAY_W60 = 0.93;
/** A Citrix page's start may be logged by the stand-in this long outside the invocation that asked for it. */
const CLOCK_SLACK_MS = 5;
/** V8's heap for a child that runs many tenants: it is no Lambda function, and holds every invocation's record. */
const MANY_TENANTS_HEAP_MB = 2048;

export interface WindowsOptions {
  readonly tenants?: readonly number[];
  readonly minutes?: readonly number[];
  /** Tenant counts at which the all-Standard baseline is run too; at the others, the deployed run is priced so. */
  readonly baselineRuns?: readonly number[];
  /** Measurements at a time, each in a process of its own. */
  readonly parallel?: number;
  readonly latencyMs?: number;
  /** Rows per entity-hour, per tenant. */
  readonly rows?: number;
  readonly serverPageSize?: number;
  readonly rowsPerSecond?: number;
}

export type Setup = Required<WindowsOptions>;

/** The deployed definition (its tenants on time in Express children) or the baseline, every child Standard. */
const variants = z.enum(['deployed', 'standard']);
export type Variant = z.infer<typeof variants>;

/** serverless.yml `custom.schedules`: window minutes → the schedule's expression. */
export function schedules(yml: string = serverlessYml()): Record<number, string> {
  const out: Record<number, string> = {};
  let inside = false;
  for (const line of yml.split('\n')) {
    if (/^ {2}schedules:\s*$/.test(line)) {
      inside = true;
      continue;
    }
    if (!inside || /^\s*#/.test(line) || !line.trim()) continue;
    const entry = /^ {4}'?(\d+)'?:\s*(\S.*?)\s*$/.exec(line);
    if (!entry?.[1] || !entry[2]) break;
    out[Number(entry[1])] = entry[2];
  }
  return out;
}

/**
 * The minutes past every hour at which `cron(M * * * ? *)` fires: M a list of `*`, `a`, `a-b`, `a/s`, `*\/s`
 * or `a-b/s`. Throws for a schedule that is not the same every hour.
 */
export function cronMinutes(expression: string): number[] {
  const fields = /^cron\((.+)\)$/.exec(expression.trim())?.[1]?.trim().split(/\s+/);
  if (fields?.length !== 6 || fields.slice(1).some((f) => f !== '*' && f !== '?')) {
    throw new Error(`${expression}: expected cron(M * * * ? *), the same minutes every hour`);
  }
  const minutes = new Set<number>();
  for (const item of (fields[0] ?? '').split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) throw new Error(`${expression}: cannot read the minute field ${item}`);
    const from = m[2] === undefined ? 0 : Number(m[2]);
    const to = m[3] !== undefined ? Number(m[3]) : m[2] === undefined || m[4] !== undefined ? 59 : from;
    const step = m[4] === undefined ? 1 : Number(m[4]);
    if (to > 59 || from > to || step < 1) throw new Error(`${expression}: bad minute field ${item}`);
    for (let x = from; x <= to; x += step) minutes.add(x);
  }
  return [...minutes].sort((a, b) => a - b);
}

/** The schedule's times from `from` (inclusive) on, epoch ms; `from` on a whole hour. */
function* fires(hourStart: number, minutes: readonly number[], from: number): Generator<number, never> {
  for (let hour = hourStart; ; hour += HOUR_MS) {
    for (const m of minutes) {
      const t = hour + m * MINUTE_MS;
      if (t >= from) yield t;
    }
  }
}

/** A window size's schedule: the window, the settle before it is due, and the minutes its cron fires at. */
export interface WindowSchedule {
  /** The window size W, minutes. */
  readonly windowMinutes: number;
  /** SETTLE_MINUTES: how long after its end a window is due. */
  readonly settleMinutes: number;
  /** The minutes past each hour at which the schedule starts an execution. */
  readonly minutes: readonly number[];
}

/**
 * The executions of one hour of data, from the state at `h0`: the schedule's times from the first at which
 * the window [h0, h0 + W) is due (its end plus the settle) to the first at which the window ending h0 + 1 h
 * is due; and, for each window of that hour, the time it is due and the execution that publishes it.
 */
export function hourOfRuns(
  h0: number,
  { windowMinutes, settleMinutes, minutes }: WindowSchedule,
): { starts: number[]; windows: Array<{ start: number; end: number; publishedAt: number }> } {
  const size = windowMinutes * MINUTE_MS;
  const settle = settleMinutes * MINUTE_MS;
  const firstAt = (t: number) => fires(h0, minutes, t).next().value;
  const windows = Array.from({ length: HOUR_MS / size }, (_, j) => {
    const start = h0 + j * size;
    return { start, end: start + size, publishedAt: firstAt(start + size + settle) };
  });
  const starts: number[] = [];
  const last = windows.at(-1)?.publishedAt ?? h0;
  for (const t of fires(h0, minutes, windows[0]?.publishedAt ?? h0)) {
    if (t > last) break;
    starts.push(t);
  }
  return { starts, windows };
}

/** What windows-measure.ts prints: an HourRun and its figures, its executions as windows-run.ts prints them. */
const sizeRun = z.object({
  tenants: z.number(),
  executions: z.array(windowsExecution).readonly(),
  requestsPerCall: z.array(z.array(z.number()).readonly()).readonly(),
  s3: s3Requests,
  windowMinutes: z.number(),
  variant: variants,
  schedule: z.string(),
  /** Executions the schedule starts per hour. */
  perHour: z.number(),
  dataRequests: z.number(),
  tokenRequests: z.number(),
  /** Rows, windows published and the objects they hold, over every tenant. */
  rows: z.number(),
  windows: z.number(),
  objects: z.number(),
  /** A row's delay from its change to the start of the execution that publishes it, min and max, minutes. */
  freshness: z.object({ min: z.number(), max: z.number() }),
  seconds: z.number(),
}) satisfies z.ZodType<HourRun>;
export type SizeRun = Readonly<z.infer<typeof sizeRun>>;

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const usd = (x: number) => `$${x.toFixed(2)}`;
const at = (h0: number, t: number) => `H0+${(t - h0) / MINUTE_MS}`;
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** One tenant of a run: its id in the tenant list (none for the environment's one tenant) and its stand-in customer. */
interface BenchTenant {
  readonly id?: string;
  readonly citrix: StandinTenant;
}

/**
 * The Citrix requests of each call, by the stand-in's logs: each of a tenant's pages started within one of
 * that tenant's invocations, a FetchPages.
 */
function requestsByCall(
  child: WindowsRunResult,
  pages: ReadonlyArray<{ tenant?: string; page: PageLogEntry }>,
): number[][] {
  const counts = child.executions.map((e) => e.calls.map(() => 0));
  const spans = child.executions.flatMap((e, i) =>
    e.calls.map((c, j) => ({
      i,
      j,
      tenant: c.tenant,
      from: child.timeOriginMs + c.startedMs,
      to: child.timeOriginMs + c.endedMs,
      fetch: c.state === 'FetchPages',
    })),
  );
  const byTenant = new Map<string | undefined, typeof spans>();
  for (const s of spans) byTenant.set(s.tenant, [...(byTenant.get(s.tenant) ?? []), s]);
  for (const { tenant, page } of pages) {
    // A Plan's event names its tenant by index: the one-tenant environment's calls name none at all.
    const own = [...(byTenant.get(tenant) ?? []), ...(tenant ? [] : [])];
    const within = (t: number, slack: number) => own.filter((s) => s.from - slack <= t && t <= s.to + slack);
    const near = within(page.startedMs, CLOCK_SLACK_MS);
    const found = near.length > 1 ? within(page.startedMs, 0) : near;
    const call = found.length === 1 ? found[0] : undefined;
    if (!call?.fetch) {
      throw new Error(
        `a Citrix page (${tenant ?? 'the one tenant'}, ${page.entity}, skip ${page.skip}) started within ${found.length} of its tenant's handler invocations, not within one FetchPages`,
      );
    }
    const row = counts[call.i];
    if (row) row[call.j] = (row[call.j] ?? 0) + 1;
  }
  return counts;
}

/** One measurement: the executions of one window size over one hour of `tenants` tenants' data, one variant. */
export interface MeasureJob {
  readonly setup: Setup;
  readonly windowMinutes: number;
  readonly schedule: string;
  readonly h0: number;
  readonly tenants: number;
  readonly variant: Variant;
}

/** A {@link MeasureJob} as windows-measure.ts reads it from its environment. */
export const measureJobSchema = z.object({
  setup: z.object({
    tenants: z.array(z.number()),
    minutes: z.array(z.number()),
    baselineRuns: z.array(z.number()),
    parallel: z.number(),
    latencyMs: z.number(),
    rows: z.number(),
    serverPageSize: z.number(),
    rowsPerSecond: z.number(),
  }),
  windowMinutes: z.number(),
  schedule: z.string(),
  h0: z.number(),
  tenants: z.number(),
  variant: z.enum(['deployed', 'standard']),
}) satisfies z.ZodType<MeasureJob>;

/** s3rver keeps every object and its metadata in files of their own: a memory-backed folder makes each request cheaper. */
const S3_FOLDER = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** The schedule's hour of executions from `h0`; throws unless each execution publishes one window of the hour. */
function planHour(windowMinutes: number, schedule: string, h0: number) {
  const minutes = cronMinutes(schedule);
  const plan = hourOfRuns(h0, { windowMinutes, settleMinutes: SETTLE_MINUTES, minutes });
  if (plan.starts.length !== minutes.length) {
    throw new Error(
      `W=${windowMinutes}: ${schedule} starts ${minutes.length} executions an hour, but ${plan.starts.length} publish the hour's windows: not one window per execution, so one hour of data is not one hour of executions`,
    );
  }
  return { perHour: minutes.length, ...plan };
}

type HourPlan = ReturnType<typeof planHour>;

/** A measurement and the hour of executions planned for it. */
interface PlannedJob {
  readonly job: MeasureJob;
  readonly plan: HourPlan;
}

/** The executions of one window size over one hour of `tenants` tenants' data, counted. */
export function measure(job: MeasureJob): Promise<SizeRun> {
  const { setup, windowMinutes, schedule, h0, tenants } = job;
  const plan = planHour(windowMinutes, schedule, h0);
  const ids = tenants === 1 ? [] : tenantIds(tenants);
  const standinOptions = {
    rowsPerHour: setup.rows,
    serverPageSize: setup.serverPageSize,
    latencyMs: setup.latencyMs,
    ...(ids.length > 0 ? { tenants: ids.map(standinTenant) } : {}),
  };
  return withServers({ standinOptions, hour: h0, under: S3_FOLDER }, (servers) =>
    measureOn(servers, { job, plan }, ids),
  );
}

/** How a measurement names itself in an error. */
const jobName = ({ windowMinutes, tenants, variant }: MeasureJob) =>
  `W=${windowMinutes}, ${plural(tenants, 'tenant')}${variant === 'standard' ? ', all Standard' : ''}: `;

/** The measurement on its servers: the tenants' state put, the hour's executions run, checked and counted. */
async function measureOn(servers: BenchServers, { job, plan }: PlannedJob, ids: string[]): Promise<SizeRun> {
  const { standin, counter } = servers;
  const bench: BenchTenant[] =
    ids.length > 0 ? ids.map((id) => ({ id, citrix: standin.tenant(`${id}cust`) })) : [{ citrix: standin }];
  const secrets = ids.length > 0 ? await putTenants(servers.store, ids, job.h0) : {};
  if (ids.length === 0) await putStateBefore(servers.store, job.h0);
  counter.reset();
  for (const t of bench) t.citrix.resetStats();
  standin.resetStats();
  const started = Date.now();
  const child = await runExecutions(servers, { job, plan }, { secrets, listed: ids.length > 0 });
  const seconds = (Date.now() - started) / 1000;
  const published = checkPublished(child, { job, plan, bench, dir: servers.dir });
  checkOneAtATime(standin, child.maxInFlight, jobName(job));
  const delays = plan.windows.flatMap((w) => [w.publishedAt - w.end, w.publishedAt - w.start]);
  const { tenants, windowMinutes, variant, schedule } = job;
  return {
    tenants,
    windowMinutes,
    variant,
    schedule,
    perHour: plan.perHour,
    executions: child.executions,
    requestsPerCall: requestsByCall(
      child,
      bench.flatMap((t) => t.citrix.stats.pages.map((page) => ({ tenant: t.id, page }))),
    ),
    s3: billable(counter.counts, counter.serverErrors),
    dataRequests: sum(bench.map((t) => t.citrix.stats.dataRequests)),
    tokenRequests: sum(bench.map((t) => t.citrix.stats.tokenRequests)),
    ...published,
    freshness: { min: Math.min(...delays) / MINUTE_MS, max: Math.max(...delays) / MINUTE_MS },
    seconds,
  };
}

/** How a collector child is given its tenants: a tenant list and their secrets, or the environment's one. */
interface ChildTenants {
  /** The secrets the tenant list names (none for the environment's one tenant). */
  readonly secrets: Record<string, string>;
  /** Whether the child reads a tenant list (else the environment's one tenant). */
  readonly listed: boolean;
}

/** The hour's executions in a collector child (windows-run.ts); throws unless every one succeeded. */
async function runExecutions(
  { standin, env }: BenchServers,
  { job: { windowMinutes, variant, h0, ...job }, plan }: PlannedJob,
  { secrets, listed }: ChildTenants,
): Promise<WindowsRunResult> {
  const child = await runChild('windows-run.ts', {
    env: {
      ...env,
      ...(listed ? { API_BASE: standin.url } : standin.collectorEnv()),
      ...secrets,
      PAGE_SIZE: String(PAGE_SIZE),
      WINDOW_MINUTES: String(windowMinutes),
      SETTLE_MINUTES: String(SETTLE_MINUTES),
      TENANT_CONCURRENCY: '1',
      BENCH_STARTS_MS: plan.starts.join(','),
      ...(variant === 'standard' ? { BENCH_ALL_STANDARD: '1' } : {}),
    },
    heapMB: listed ? MANY_TENANTS_HEAP_MB : heapFor(memorySizes().fetchPage ?? 256),
    schema: windowsRunResult,
  });
  const failed = child.executions.find((e) => e.status !== 'SUCCEEDED');
  if (failed || child.executions.length !== plan.starts.length) {
    throw new Error(
      `${jobName({ windowMinutes, variant, h0, ...job })}execution at ${at(h0, failed?.startMs ?? h0)} ${failed?.status}: ${failed?.error}: ${failed?.cause}`,
    );
  }
  return child;
}

/** What checkPublished holds a child's executions to: the planned job, the bench's tenants, s3rver's folder. */
interface PublishedCheck extends PlannedJob {
  readonly bench: readonly BenchTenant[];
  /** s3rver's folder, where the published objects are. */
  readonly dir: string;
}

/**
 * Every tenant's windows of the hour published once, by the execution the schedule says, with every row, and
 * its Citrix calls one at a time; throws otherwise. The rows, windows and objects over every tenant.
 */
function checkPublished(
  child: WindowsRunResult,
  { bench, plan, dir, job }: PublishedCheck,
): { rows: number; windows: number; objects: number } {
  let rows = 0;
  let objects = 0;
  let windows = 0;
  for (const t of bench) {
    const published = child.executions.flatMap((e) =>
      e.committed.filter((c) => c.tenant === t.id).map((c) => ({ ...c, by: e.startMs })),
    );
    const expected = sum(
      ENTITIES.map((e) => t.citrix.countFor(e, { fromMs: job.h0, toMs: job.h0 + HOUR_MS })),
    );
    const onDisk = publishedOnDisk(dir, t.id);
    const wrong = plan.windows.filter((w, j) => {
      const c = published[j];
      return (
        c?.start !== formatMinute(w.start) ||
        (c.end ?? formatMinute(w.start + HOUR_MS)) !== formatMinute(w.end) ||
        c.outcome !== 'published' ||
        c.by !== w.publishedAt
      );
    });
    if (
      wrong.length > 0 ||
      published.length !== plan.windows.length ||
      sum(published.map((c) => c.rows)) !== expected ||
      onDisk.rows !== expected
    ) {
      throw new Error(
        `${jobName(job)}expected the ${plan.windows.length} windows of ${formatMinute(job.h0)} of ${t.id ?? 'the one tenant'} each published once by the first execution after it settled, ${expected} rows; committed ${JSON.stringify(published.map((c) => [c.start, c.outcome, c.rows, at(job.h0, c.by)]))}, ${onDisk.rows} rows on disk`,
      );
    }
    checkTenantCalls(t, job);
    rows += expected;
    objects += onDisk.objects;
    windows += published.length;
  }
  return { rows, windows, objects };
}

/** A tenant's Citrix calls one at a time, none throttled, one data request per page answered; throws otherwise. */
function checkTenantCalls(t: BenchTenant, job: MeasureJob): void {
  const { stats } = t.citrix;
  if (stats.maxInFlight > 1 || stats.throttled > 0 || stats.dataRequests !== stats.pages.length) {
    throw new Error(
      `${jobName(job)}${t.id ?? 'the one tenant'}: ${stats.maxInFlight} Citrix calls at once, ${stats.throttled} answered 429, ${stats.dataRequests} data requests for ${stats.pages.length} pages answered`,
    );
  }
}

/** One tenant count's runs, both variants, and their accounts. */
interface Priced {
  readonly run: SizeRun;
  readonly account: Account;
  /** The all-Standard column priced from the deployed run, not run again. */
  readonly repriced?: boolean;
}

/** Dollars per tenant-month of a priced run, by service and in all. */
const month = (p: Priced) => {
  const m = (x: number) => perTenantMonth(x, p.run.tenants);
  const d = p.account.dollars;
  return {
    standard: m(d.standard),
    express: m(d.express),
    lambda: m(d.lambda),
    s3: m(d.s3),
    total: m(d.total),
  };
};

type Row = [string, ...string[]];

/** A table row's cells, one per priced run. */
type Column = (f: (p: Priced) => string) => string[];

const perTenantHour = (p: Priced, x: number, digits = 0) => fmt(x / p.run.tenants, digits);

/** The table of one tenant count: per window size, as deployed and all Standard, side by side. */
function tenantTable(priced: readonly Priced[], setup: Setup): string {
  const col: Column = (f) => priced.map(f);
  const base = priced.find(
    (p) => p.run.windowMinutes === BASELINE && (p.run.variant === 'standard' || p.repriced),
  );
  const rows: Row[] = [...scheduleRows(col), ...tenantHourRows(col, setup), ...tenantMonthRows(col, base)];
  return table(rows, [
    '',
    ...priced.map(
      (p) =>
        `W=${p.run.windowMinutes}${p.run.variant === 'standard' || p.repriced ? ' all Std' : ' deployed'}`,
    ),
  ]);
}

/** The rows of the schedule: how fresh, how many executions, how long the longest child. */
function scheduleRows(col: Column): Row[] {
  return [
    ['schedule', ...col((p) => p.run.schedule)],
    [
      'a row reaches S3 after its change (min)',
      ...col((p) => `${p.run.freshness.min}–${p.run.freshness.max}`),
    ],
    ['executions per hour', ...col((p) => String(p.run.perHour))],
    [
      '  + the longest child at real speed (s)',
      ...col(
        (p) => `${p.account.longestChildS.toFixed(0)} (${p.account.longestChildLocalS.toFixed(1)} here)`,
      ),
    ],
  ];
}

/** The rows of what a tenant-hour uses: executions, transitions, requests, GB-s. */
function tenantHourRows(col: Column, setup: Setup): Row[] {
  return [
    ['per tenant-hour:', ...col(() => '')],
    [
      'child executions: Express / Standard',
      ...col(
        (p) =>
          `${perTenantHour(p, p.account.children.express)} / ${perTenantHour(p, p.account.children.standard)}`,
      ),
    ],
    ['Standard state transitions', ...col((p) => perTenantHour(p, p.account.transitions, 1))],
    ["  the parent's states", ...col((p) => perTenantHour(p, p.account.entered.parent, 2))],
    ["  the Standard children's states", ...col((p) => perTenantHour(p, p.account.entered.standardChildren))],
    [
      '  one per child started',
      ...col((p) => perTenantHour(p, p.account.children.express + p.account.children.standard)),
    ],
    ['  retries', ...col((p) => perTenantHour(p, p.account.retries))],
    [
      '  (states billed: event log / from invocations)',
      ...col(
        (p) =>
          `${perTenantHour(p, p.account.enteredLog, 1)} / ${perTenantHour(p, p.account.enteredDerived, 1)}`,
      ),
    ],
    ["Express children's states (not billed)", ...col((p) => perTenantHour(p, p.account.expressEntered))],
    ['Express requests', ...col((p) => perTenantHour(p, p.account.children.express))],
    [
      'Express GB-s (billed memory)',
      ...col((p) =>
        p.account.children.express > 0
          ? `${perTenantHour(p, p.account.expressGbSeconds, 2)} (${p.account.expressMemoryMB} MB)`
          : '0',
      ),
    ],
    ['Lambda invocations', ...col((p) => perTenantHour(p, sum(Object.values(p.account.invocations)), 1))],
    [
      `Lambda GB-s (at ${setup.rowsPerSecond} rows/s)`,
      ...col((p) => perTenantHour(p, sum(Object.values(p.account.gbSeconds)), 1)),
    ],
    [
      'S3 requests, PUT-tier / GET-tier',
      ...col((p) => `${perTenantHour(p, p.account.s3.tier1)} / ${perTenantHour(p, p.account.s3.tier2)}`),
    ],
    ['Citrix data requests', ...col((p) => perTenantHour(p, p.run.dataRequests))],
  ];
}

/** The rows of what a tenant-month costs, by service, and against the baseline and today's W=60. */
function tenantMonthRows(col: Column, base: Priced | undefined): Row[] {
  return [
    [`per tenant-month (${HOURS_PER_MONTH} h):`, ...col(() => '')],
    ['Step Functions Standard', ...col((p) => usd(month(p).standard))],
    ['Step Functions Express', ...col((p) => usd(month(p).express))],
    ['Lambda (GB-s + requests)', ...col((p) => usd(month(p).lambda))],
    ['S3 requests', ...col((p) => usd(month(p).s3))],
    ['total', ...col((p) => usd(month(p).total))],
    [
      `× W=${BASELINE} all Standard (this run)`,
      ...col((p) => (base ? `${(month(p).total / month(base).total).toFixed(2)}×` : '')),
    ],
    [
      `× today's W=${BASELINE} (${usd(TODAY_W60)})`,
      ...col((p) => `${(month(p).total / TODAY_W60).toFixed(2)}×`),
    ],
  ];
}

/**
 * Runs `jobs` in worker processes (windows-measure.ts), `parallel` at a time, each with servers of its own
 * and its collector child, so that two measurements use the machine's two cores while each one's handler
 * invocations stay one after another (and their CPU their own). Results in the order of `jobs`.
 */
async function runJobs(
  jobs: readonly MeasureJob[],
  parallel: number,
  onDone: (run: SizeRun) => void,
): Promise<SizeRun[]> {
  const results: SizeRun[] = new Array(jobs.length);
  // Longest first: a tenant-window of work for each execution's tenant, the hour's fetch for each tenant.
  const order = jobs
    .map((job, i) => ({ i, job, weight: job.tenants * (60 / job.windowMinutes + 2) }))
    .sort((x, y) => y.weight - x.weight);
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_OPTIONS: process.env.NODE_OPTIONS ?? '',
  };
  const worker = async () => {
    for (let next = order.shift(); next; next = order.shift()) {
      const { job } = next;
      const run = await runNode({
        args: ['--import', 'tsx', fileURLToPath(new URL('./windows-measure.ts', import.meta.url))],
        env: { ...env, BENCH_JOB: JSON.stringify(job) },
        what: `windows-measure.ts (W=${job.windowMinutes}, ${plural(job.tenants, 'tenant')}, ${job.variant})`,
        schema: sizeRun,
      });
      results[next.i] = run;
      onDone(run);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
  return results;
}

/** The bench's setup: the options given, the defaults for the others. */
function setupOf(options: WindowsOptions): Setup {
  return {
    tenants: [...new Set(options.tenants ?? [1, 100])].sort((a, b) => a - b),
    minutes: [...new Set([...(options.minutes ?? [5, 15]), BASELINE])].sort((a, b) => a - b),
    baselineRuns: options.baselineRuns ?? [1],
    parallel: options.parallel ?? 2,
    latencyMs: options.latencyMs ?? 1,
    rows: options.rows ?? 1000,
    serverPageSize: options.serverPageSize ?? 100,
    rowsPerSecond: options.rowsPerSecond ?? 35,
  };
}

/** The definitions a run is priced with, and what an account needs besides. */
interface Pricing extends AccountModel {
  readonly definitions: Record<Variant, StateMachineDefinition>;
}

function pricingOf(setup: Setup): Pricing {
  const deployed = loadDefinition();
  return {
    definitions: { deployed, standard: allStandard(deployed) },
    model: {
      realRequestMs: (1000 * setup.serverPageSize) / setup.rowsPerSecond,
      standinRequestMs: setup.latencyMs,
      memory: memorySizes(),
    },
    definitionBytes: Buffer.byteLength(JSON.stringify(deployed)),
  };
}

/** Runs the bench for each tenant count and window size, and prints the tables; throws when a run fails. */
export async function runWindowsBench(options: WindowsOptions = {}): Promise<void> {
  const started = Date.now();
  const setup = setupOf(options);
  const all = schedules();
  for (const w of setup.minutes) {
    if (!all[w]) throw new Error(`serverless.yml custom.schedules has no schedule for ${w}-minute windows`);
  }
  // An hour inside the stand-in's data span (the 72 hours before the current one) whose executions,
  // up to 80 minutes after it starts, are all in the past.
  const h0 = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 3 * HOUR_MS;
  const pricing = pricingOf(setup);
  printIntro(setup, h0);
  const runs = await runJobs(jobsOf(setup, all, h0), setup.parallel, (run) => printRun(run, h0));
  const byTenants = priceRuns(setup, runs, pricing);
  for (const [n, priced] of byTenants) printTenantCount({ n, priced }, setup, pricing);
  printCounting(setup, pricing);
  printVerdict(setup, byTenants);
  console.log(`Windows bench time: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

const baselineRun = (setup: Setup, tenants: number) => setup.baselineRuns.includes(tenants);

function printIntro(setup: Setup, h0: number): void {
  console.log(
    `\nFreshness against cost: ${setup.tenants.map((n) => plural(n, 'tenant')).join(' and ')}, each 5 entities × ${fmt(setup.rows)} rows per entity-hour (${fmt(setup.rows * ENTITIES.length)} rows per tenant-hour; one tenant: the environment's own, more: a tenant list, each its own stand-in customer and state). For each window size W, every tenant's state at H0 = ${formatMinute(h0)} and the executions W's schedule (serverless.yml custom.schedules) starts from the one that publishes [H0, H0+W) to the one that publishes the window ending H0+60, each at its simulated start time (SETTLE_MINUTES ${SETTLE_MINUTES}), one after another, in a child process running the real state machine and handlers, tenants one at a time; the stand-in serving ${setup.serverPageSize}-row pages at ${setup.latencyMs} ms each (PAGE_SIZE ${PAGE_SIZE} as deployed); s3rver behind a counting proxy; ${setup.parallel} measurements at a time, each in a process of its own. As deployed (tenants on time in Express children) and, at ${setup.baselineRuns.map((n) => plural(n, 'tenant')).join(' and ') || 'no tenant count'}, run again all Standard (the same definition, every Distributed Map's children Standard: the baseline).`,
  );
}

/** The measurements: each tenant count and window size as deployed, and all Standard where the baseline runs. */
function jobsOf(setup: Setup, all: Record<number, string>, h0: number): MeasureJob[] {
  return setup.tenants.flatMap((tenants) =>
    setup.minutes.flatMap((windowMinutes) =>
      (baselineRun(setup, tenants) ? (['deployed', 'standard'] as const) : (['deployed'] as const)).map(
        (variant) => ({ setup, windowMinutes, schedule: all[windowMinutes] ?? '', h0, tenants, variant }),
      ),
    ),
  );
}

/** One line for a measurement done. */
function printRun(run: SizeRun, h0: number): void {
  const when = run.executions.map((e) => at(h0, e.startMs));
  console.log(
    `  ${plural(run.tenants, 'tenant')}, W=${run.windowMinutes}, ${run.variant === 'deployed' ? 'as deployed' : 'all Standard'}: ${run.schedule}, ${plural(when.length, 'execution')} (${when.length > 2 ? `${when[0]}, ${when[1]} … ${when.at(-1)}` : when.join(', ')} min), ${fmt(run.rows)} rows in ${plural(run.windows, 'window')}, each published once by the first execution after it settled (${run.objects} objects); ${run.dataRequests} Citrix data requests; ${run.seconds.toFixed(1)} s.`,
  );
}

/** Each tenant count's runs priced, each window size as deployed and all Standard (run or repriced). */
function priceRuns(setup: Setup, runs: readonly SizeRun[], pricing: Pricing): Map<number, Priced[]> {
  const { definitions } = pricing;
  const byTenants = new Map<number, Priced[]>();
  for (const n of setup.tenants) {
    const priced: Priced[] = [];
    for (const w of setup.minutes) {
      const own = (variant: Variant) =>
        runs.find((r) => r.tenants === n && r.windowMinutes === w && r.variant === variant);
      const asDeployed = own('deployed');
      if (!asDeployed) continue;
      priced.push({
        run: asDeployed,
        account: account(asDeployed, definitions.deployed, pricing),
      });
      const baseline = own('standard');
      priced.push(
        baseline
          ? { run: baseline, account: account(baseline, definitions.standard, pricing) }
          : {
              run: asDeployed,
              account: account(asDeployed, definitions.standard, pricing),
              repriced: true,
            },
      );
    }
    byTenants.set(n, priced);
  }
  return byTenants;
}

/** One tenant count and its runs priced. */
interface TenantCount {
  readonly n: number;
  readonly priced: readonly Priced[];
}

/** One tenant count's table and, where the baseline ran, the check of the repricing against it. */
function printTenantCount({ n, priced }: TenantCount, setup: Setup, pricing: Pricing): void {
  const ran = baselineRun(setup, n);
  console.log(
    `\n${plural(n, 'tenant')}${n === 1 ? " (the environment's one tenant)" : ' (a tenant list)'}${ran ? '' : ': "all Std" prices the deployed run\'s executions with every child a Standard one (not run again)'}:\n`,
  );
  console.log(tenantTable(priced, setup));
  if (!ran) return;
  // The baseline run against the deployed run priced as all Standard: what "not run again" stands for.
  const check = priced
    .filter((p) => p.run.variant === 'deployed')
    .map((p) => {
      const repriced = account(p.run, pricing.definitions.standard, pricing);
      const own = priced.find(
        (q) => q.run.variant === 'standard' && q.run.windowMinutes === p.run.windowMinutes,
      );
      return `W=${p.run.windowMinutes} ${usd(perTenantMonth(repriced.dollars.total, n))} (${fmt(repriced.transitions / n)} transitions) vs ${own ? `${usd(month(own).total)} (${fmt(own.account.transitions / n)})` : '?'}`;
    });
  console.log(
    `  The deployed runs priced as all Standard, against the all-Standard runs: ${check.join('; ')}.`,
  );
}

/** How the figures are counted and priced. */
function printCounting(setup: Setup, { model, definitionBytes }: Pricing): void {
  console.log(
    `\nHow these are counted. Standard transitions: the states the parent and the Standard children entered (aws-local-stepfunctions' event log, StateEntered, and what the handler invocations imply, the higher of the two for each), plus retries, plus one per child execution a Distributed Map started (AWS, "Transitions in Distributed Map"); the Express children's states are not billed. Express: one request per child, and its duration at real speed (its wall time here with each Lambda invocation's replaced by that invocation's modelled duration; Step Functions' own time between states is this machine's) rounded up to 100 ms, at the memory AWS's estimate gives it (50 MB + the ${fmt(definitionBytes / 1024, 1)}-KB definition + the largest state output × its Map and Parallel states: one 64-MB chunk). Lambda: each invocation's wall time, each Citrix request's ${setup.latencyMs} ms at the stand-in replaced by ${fmt(model.realRequestMs)} ms (a ${setup.serverPageSize}-row page at ${setup.rowsPerSecond} rows/s), plus its CPU time × (1769/M − 1) for its memory M, rounded up to the ms; the other functions' wall time is against s3rver on this machine. Cold starts not counted. Per tenant-month: the hour's cost over the tenants, × ${HOURS_PER_MONTH}. ${PRICES}`,
  );
}

/** The issue's target, at the most tenants: W=5 at most twice today's W=60, W=60 no dearer. */
function printVerdict(setup: Setup, byTenants: ReadonlyMap<number, readonly Priced[]>): void {
  const totalOf = (n: number, w: number) => {
    const p = byTenants
      .get(n)
      ?.find((x) => x.run.windowMinutes === w && x.run.variant === 'deployed' && !x.repriced);
    return p ? month(p).total : undefined;
  };
  const most = Math.max(...setup.tenants);
  const fewest = Math.min(...setup.tenants);
  const fresh = Math.min(...setup.minutes);
  const w5 = totalOf(most, fresh);
  const w60 = totalOf(most, BASELINE);
  if (w5 === undefined || w60 === undefined) return;
  const ok5 = w5 <= 2 * TODAY_W60;
  const ok60 = w60 <= TODAY_W60;
  const one5 = totalOf(fewest, fresh);
  const one60 = totalOf(fewest, BASELINE);
  console.log(
    `\nAt ${plural(most, 'tenant')}: W=${fresh} ${usd(w5)} per tenant-month, ${ok5 ? 'at most' : 'MORE than'} 2 × today's W=${BASELINE} ${usd(TODAY_W60)} = ${usd(2 * TODAY_W60)}; W=${BASELINE} ${usd(w60)}, ${ok60 ? 'no dearer than' : 'DEARER than'} today's ${usd(TODAY_W60)}: ${ok5 && ok60 ? 'PASS' : 'FAIL'}.${most !== fewest && one5 !== undefined && one60 !== undefined ? ` At ${plural(fewest, 'tenant')}: W=${fresh} ${usd(one5)}, W=${BASELINE} ${usd(one60)}.` : ''}`,
  );
}

/** The command line's options, or the usage. */
function parseOptions(): WindowsOptions | string {
  const options = readOptions({
    tenants: listOption([1, 100], whole(1, 999)),
    minutes: listOption([5, 15, 60], oneOf(WINDOW_SIZES)),
    baselineRuns: listOrNoneOption([1]),
    parallel: numberOption(2, whole(1)),
    latencyMs: numberOption(1, atLeast(0)),
    rows: numberOption(1000, whole(1)),
    serverPageSize: numberOption(100, whole(1, PAGE_SIZE)),
    rowsPerSecond: numberOption(35, above(0)),
  });
  if (!options?.baselineRuns.every((n) => options.tenants.includes(n))) {
    return `Usage: npx tsx packages/bench/src/windows.ts [--tenants 1,100 (1 to 999)] [--baseline-runs 1 (of the tenant counts, or 0)] [--parallel 2] [--minutes 5,15,60 (of ${WINDOW_SIZES.join(', ')}; 60 always runs, the baseline)] [--latency-ms 1] [--rows 1000] [--server-page-size 100] [--rows-per-second 35]`;
  }
  return options;
}

runIfMain(import.meta.url, { name: 'Windows bench', parse: parseOptions, run: runWindowsBench });
