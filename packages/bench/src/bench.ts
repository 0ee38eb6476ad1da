/**
 * `npm run bench`: the collector's throughput and peak memory on one large hour, beside the fastest a
 * client can page through the same hour, and beside the same collector following the server's nextLinks.
 *
 * For each size, this process starts the Citrix stand-in (one call per tenant at a time, 1000-row pages,
 * a query that costs more the deeper its `$skip`, as on Citrix Cloud) and, for each collector run, a fresh
 * embedded S3 (s3rver in a temp dir, removed afterwards). The measured work runs in child processes, so
 * that each peak RSS is the child's own:
 * - bare-fetch.ts: token, then a serial loop of plain `fetch` over the hour paged by key, parsed, not written;
 * - collector-run.ts: the real state machine with the real handlers, the hour published to S3, paging by
 *   key ("collector") or, on the smallest size, by the server's offset nextLinks ("nextlink").
 * Runs alternate (baseline, collector, nextlink, then the reverse, …) after one untimed warm-up, and the
 * table shows the fastest run of each kind. Time per page is read from the stand-in's own log of the
 * requests it served: the mean gap between page starts over the first and the last tenth of the pages.
 * Exit 0 whatever the verdict (it is a measurement); 1 if a run failed.
 *
 * The headline sizes run with the stand-in taking --latency-ms per page (default 50 ms: the real Citrix
 * Monitor API takes longer still, it queries a database and allows 30 s) plus --skip-cost-ms per 1000 rows
 * skipped (default: the page time grows 2.7 times over 300,000 skipped rows, the shape of a third-party
 * measurement on Citrix Cloud, 35 rows/s falling to 13 rows/s). A stress row at 0 ms, where the stand-in,
 * s3rver and the collector compete for this machine's CPU, is printed beside them.
 *
 * Then the many-tenant bench (tenants.ts, runnable alone: `npx tsx packages/bench/src/tenants.ts`): --tenants
 * tenants (default 20) × 5 entities at --latency-ms per page, side by side and one after another, with
 * the cost per tenant-hour and the Step Functions history per tenant-hour from the run's own counts.
 *
 * Then the real-speed bench (real-speed.ts, runnable alone: `npx tsx packages/bench/src/real-speed.ts`): one tenant's
 * 5,000-row hour with the stand-in serving --real-speed rows/s (default 35, as on the real Citrix API), the
 * fetch's CPU per 1,000 rows, GB-s per tenant-hour by function and memory size, the smallest memory each
 * function needs, and the cost per tenant-month at today's sizes beside the chosen ones (about 3 minutes).
 *
 * Then freshness against cost (windows.ts, runnable alone: `npx tsx packages/bench/src/windows.ts`): for window
 * sizes of --windows minutes (default 5, 15 and 60, the hour the baseline), one tenant's 5,000-row hour
 * collected by the executions its schedule starts, each at its simulated time: how soon a row reaches S3,
 * and the state transitions, Lambda invocations and GB-s (at 35 rows/s), S3 and Citrix requests per
 * tenant-hour, and the cost per tenant-month (about 15 seconds).
 *
 * Options: --sizes 100000,1000000  --runs 2  --latency-ms 50  --skip-cost-ms <per 1000 rows>
 *          --stress-size 100000 (0 to skip)  --heap-mb 128  --tenants 20 (0 to skip)  --real-speed 35 (0 to skip)
 *          --windows 5,15,60 (0 to skip).
 */
import { createCipheriv } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Standin, startStandin } from '@citrix-monitor/testkit/citrix-standin';
import { startLocalS3 } from '@citrix-monitor/testkit/s3';
import { WINDOW_SIZES } from '../../../functions/domain/windows.ts';
import {
  atLeast,
  listOption,
  listOrNoneOption,
  numberOption,
  oneOf,
  optionalNumberOption,
  readOptions,
  whole,
} from './options.ts';
import { runRealSpeedBench } from './real-speed.ts';
import { type ChildResult, childResult, parsedOrUsage, rowsOnDisk, runChild } from './result.ts';
import { runTenantBench } from './tenants.ts';
import { runWindowsBench } from './windows.ts';

const HOUR_MS = 3_600_000;
const ENTITY = 'Sessions';
const KEY = 'SessionKey';
const PAGE_SIZE = 1000;
const BUCKET = 'citrix-monitor-bench';
const PREFIX = 'citrix_monitor';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * V8 heap limit of both children, as a small Lambda would have. Without a limit V8 lets the heap grow
 * lazily over a longer run (the bare fetch's RSS grows too); with one, a collector that kept the hour in
 * memory (335 MB of JSON at 1,000,000 rows) could not finish, so its RSS shows what it really holds.
 */
let heapMB = 128;

type Kind = 'baseline' | 'collector' | 'nextlink';

interface Run extends ChildResult {
  readonly kind: Kind;
  /** Data requests the stand-in answered during the run: one per page unless something was retried. */
  readonly requests: number;
  readonly rowsPerSecond: number;
  /** Mean gap between the starts of consecutive pages, over the first and the last tenth of them. */
  readonly firstPagesMs: number;
  readonly lastPagesMs: number;
}

interface Scenario {
  readonly size: number;
  readonly latencyMs: number;
  readonly msPerSkippedRow: number;
  /** Also run the collector paging by nextLink (offsets grow with the hour: only on the smallest size). */
  readonly nextLink: boolean;
}

/** Mean gap between consecutive page starts over the first and the last tenth of the pages served. */
function pageGaps(pages: readonly { startedMs: number }[]): { first: number; last: number } {
  const gaps = pages.slice(1).map((p, i) => p.startedMs - (pages[i]?.startedMs ?? p.startedMs));
  const tenth = Math.max(1, Math.floor(gaps.length / 10));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return { first: mean(gaps.slice(0, tenth)), last: mean(gaps.slice(-tenth)) };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** s3rver's continuation tokens use DES, which Node ≥ 17 only has with `--openssl-legacy-provider`. */
function desAvailable(): boolean {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

/** Rows published on disk by s3rver under the entity's prefix: one NDJSON line per row. */
const publishedRows = (s3Dir: string) => rowsOnDisk(join(s3Dir, BUCKET, PREFIX, ENTITY));

/** The environment of a child measuring one run: the stand-in's tenant, the hour and the entity. */
function childEnv(standin: Standin, hour: number, baseEnv: Record<string, string>): Record<string, string> {
  return {
    ...baseEnv,
    API_BASE: standin.url,
    CITRIX_CUSTOMER_ID: standin.customerId,
    CITRIX_CLIENT_ID: standin.clientId,
    CITRIX_CLIENT_SECRET: standin.clientSecret,
    PAGE_SIZE: String(PAGE_SIZE),
    BENCH_HOUR: new Date(hour).toISOString().replace('.000Z', 'Z'),
    BENCH_ENTITY: ENTITY,
    BENCH_KEY: KEY,
  };
}

/** Runs the collector (by key or by nextLink) into a fresh S3, and checks the rows it published there. */
async function runCollector(
  kind: Exclude<Kind, 'baseline'>,
  common: Record<string, string>,
  expected: number,
): Promise<ChildResult> {
  // A fresh bucket per run: a second run of the same hour would find it published and fetch nothing.
  const dir = mkdtempSync(join(tmpdir(), 'citrix-collector-bench-'));
  const s3 = await startLocalS3(dir, BUCKET);
  try {
    const result = await runChild('collector-run.ts', {
      env: {
        ...common,
        ...s3.env,
        S3_BUCKET: BUCKET,
        S3_PREFIX: PREFIX,
        ENTITIES: ENTITY,
        ...(kind === 'nextlink' ? { NEXTLINK_PAGING: ENTITY } : {}),
      },
      heapMB,
      schema: childResult,
    });
    const onDisk = publishedRows(dir);
    if (onDisk.rows !== expected) {
      throw new Error(
        `the collector reported ${result.rows} rows but ${onDisk.rows} rows (${onDisk.objects} objects) are published; expected ${expected}`,
      );
    }
    return result;
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Throws unless the stand-in served the run one call at a time, none of them throttled. */
function checkOneCallAtATime(kind: Kind, stats: Standin['stats']): void {
  if (stats.maxInFlight > 1 || stats.throttled > 0) {
    throw new Error(
      `${kind}: ${stats.maxInFlight} calls in flight at once, ${stats.throttled} answered 429: not one call at a time`,
    );
  }
}

/** What each run of a scenario is measured against. */
interface Measuring {
  /** The stand-in serving the scenario's hour. */
  readonly standin: Standin;
  /** The hour collected, its start in epoch ms. */
  readonly hour: number;
  /** The rows the stand-in holds for the hour: what every run must deliver. */
  readonly expected: number;
  /** The environment every child starts from. */
  readonly baseEnv: Record<string, string>;
}

async function measure(kind: Kind, { standin, hour, expected, baseEnv }: Measuring): Promise<Run> {
  const common = childEnv(standin, hour, baseEnv);
  standin.resetStats();
  const result =
    kind === 'baseline'
      ? await runChild('bare-fetch.ts', { env: common, heapMB, schema: childResult })
      : await runCollector(kind, common, expected);
  if (result.rows !== expected) throw new Error(`${kind}: ${result.rows} rows, expected ${expected}`);
  const { stats } = standin;
  checkOneCallAtATime(kind, stats);
  const gaps = pageGaps(stats.pages);
  return {
    ...result,
    kind,
    requests: stats.dataRequests,
    rowsPerSecond: result.rows / result.seconds,
    firstPagesMs: gaps.first,
    lastPagesMs: gaps.last,
  };
}

function describe(run: Run): string {
  const fetchPhase =
    run.fetchSeconds === undefined
      ? ''
      : `, last page staged at ${run.fetchSeconds.toFixed(2)} s (${fmt(run.rows / run.fetchSeconds)} rows/s)`;
  return `${run.kind.padEnd(9)} ${fmt(run.rowsPerSecond).padStart(8)} rows/s  ${run.seconds.toFixed(2).padStart(6)} s${fetchPhase}; ${run.requests} requests, ${run.pages} objects, page every ${run.firstPagesMs.toFixed(0)} → ${run.lastPagesMs.toFixed(0)} ms, peak RSS ${run.maxRssMB} MB, CPU ${run.cpuSeconds.toFixed(1)} s`;
}

interface Row {
  readonly scenario: Scenario;
  readonly baseline: Run;
  readonly collector: Run;
  readonly nextlink?: Run;
  readonly collectorRssMB: number;
  readonly baselineRssMB: number;
}

/** How a scenario is run: how many times each kind, on which hour, from which environment. */
interface ScenarioRuns {
  /** Runs of each kind. */
  readonly runs: number;
  /** The hour collected, its start in epoch ms. */
  readonly hour: number;
  /** The environment every child starts from. */
  readonly baseEnv: Record<string, string>;
  /** Said after the scenario's heading line (the warm-up's). */
  readonly note?: string;
}

async function runScenario(
  scenario: Scenario,
  { runs, hour, baseEnv, note = '' }: ScenarioRuns,
): Promise<Row> {
  const standin = await startStandin({
    rowsPerHour: scenario.size,
    serverPageSize: PAGE_SIZE,
    latencyMs: scenario.latencyMs,
    msPerSkippedRow: scenario.msPerSkippedRow,
  });
  try {
    const expected = standin.countFor(ENTITY, { fromMs: hour, toMs: hour + HOUR_MS });
    console.log(
      `\n${fmt(expected)} rows of ${ENTITY}, hour ${new Date(hour).toISOString()}, stand-in latency ${scenario.latencyMs} ms/request + ${(scenario.msPerSkippedRow * 1000).toFixed(3)} ms per 1000 rows skipped${note}`,
    );
    const done: Run[] = [];
    const kinds: Kind[] = scenario.nextLink
      ? ['baseline', 'collector', 'nextlink']
      : ['baseline', 'collector'];
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? kinds : [...kinds].reverse();
      for (const kind of order) {
        const run = await measure(kind, { standin, hour, expected, baseEnv });
        console.log(`  run ${i + 1} ${describe(run)}`);
        done.push(run);
      }
    }
    const best = (kind: Kind) =>
      done.filter((r) => r.kind === kind).reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
    const peak = (kind: Kind) => Math.max(...done.filter((r) => r.kind === kind).map((r) => r.maxRssMB));
    return {
      scenario,
      baseline: best('baseline'),
      collector: best('collector'),
      nextlink: scenario.nextLink ? best('nextlink') : undefined,
      collectorRssMB: peak('collector'),
      baselineRssMB: peak('baseline'),
    };
  } finally {
    await standin.stop();
  }
}

const perPage = (run: Run | undefined) =>
  run ? `${run.firstPagesMs.toFixed(0)} → ${run.lastPagesMs.toFixed(0)} ms` : '';

function table(rows: readonly Row[]): string {
  const head = [
    'rows/hour',
    'latency',
    'bare key fetch rows/s',
    'collector by key rows/s',
    'ratio',
    'collector by nextLink rows/s',
    'page time by key (first → last)',
    'page time by nextLink',
    'collector peak RSS',
    'baseline peak RSS',
  ];
  const body = rows.map((r) => [
    fmt(r.scenario.size),
    `${r.scenario.latencyMs} ms`,
    fmt(r.baseline.rowsPerSecond),
    fmt(r.collector.rowsPerSecond),
    `${((100 * r.collector.rowsPerSecond) / r.baseline.rowsPerSecond).toFixed(1)} %`,
    r.nextlink ? fmt(r.nextlink.rowsPerSecond) : '',
    perPage(r.collector),
    perPage(r.nextlink),
    `${r.collectorRssMB} MB`,
    `${r.baselineRssMB} MB`,
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((line) => (line[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c] ?? 0)).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

interface Options {
  readonly sizes: readonly number[];
  readonly runs: number;
  readonly latencyMs: number;
  readonly msPerSkippedRow: number;
  readonly stressSize: number;
  readonly heapMB: number;
  readonly tenants: number;
  readonly realSpeed: number;
  readonly windows: readonly number[];
}

const USAGE =
  'Usage: npm run bench -- [--sizes 100000,1000000] [--runs 2] [--latency-ms 50] [--skip-cost-ms N] [--stress-size 100000] [--tenants 20] [--real-speed 35] [--windows 5,15,60 or 0]';

/** The command line's options, or undefined if one is out of range. */
function parseOptions(): Options | undefined {
  const read = readOptions({
    sizes: listOption([100_000, 1_000_000], whole(PAGE_SIZE)),
    runs: numberOption(2, atLeast(1)),
    latencyMs: numberOption(50, atLeast(0)),
    skipCostMs: optionalNumberOption(atLeast(0)),
    stressSize: numberOption(100_000, whole(0)),
    heapMB: numberOption(128, atLeast(16)),
    tenants: numberOption(20, whole(0)),
    realSpeed: numberOption(35, atLeast(0)),
    windows: listOrNoneOption([5, 15, 60], oneOf(WINDOW_SIZES)),
  });
  if (!read) return undefined;
  const { skipCostMs, ...options } = read;
  return {
    ...options,
    // Page time ×2.7 over 300,000 skipped rows, the shape measured on Citrix Cloud (35 → 13 rows/s).
    msPerSkippedRow: skipCostMs === undefined ? (1.7 * options.latencyMs) / 300_000 : skipCostMs / 1000,
  };
}

/** The measured scenarios: each size at the given latency (nextLinks on the smallest), and the stress row. */
function scenariosOf(options: Options): Scenario[] {
  const smallestSize = Math.min(...options.sizes);
  const { latencyMs, msPerSkippedRow, stressSize } = options;
  const scenarios: Scenario[] = options.sizes.map((size) => ({
    size,
    latencyMs,
    msPerSkippedRow,
    nextLink: size === smallestSize,
  }));
  if (stressSize > 0 && latencyMs > 0)
    scenarios.push({ size: stressSize, latencyMs: 0, msPerSkippedRow: 0, nextLink: false });
  return scenarios;
}

/** Runs the warm-up, untimed, then each scenario; their rows. */
async function runScenarios(options: Options, hour: number, baseEnv: Record<string, string>): Promise<Row[]> {
  // Untimed: warms this process's stand-in code, which serves every measured run.
  await runScenario(
    { size: Math.min(...options.sizes), latencyMs: 0, msPerSkippedRow: 0, nextLink: false },
    { runs: 1, hour, baseEnv, note: ' (warm-up, not counted)' },
  );
  const rows: Row[] = [];
  for (const scenario of scenariosOf(options))
    rows.push(await runScenario(scenario, { runs: options.runs, hour, baseEnv }));
  return rows;
}

/** The nextLink comparison, on the headline row that has it. */
function printByNextLink(headline: readonly Row[]): void {
  const offsets = headline.find((r) => r.nextlink);
  if (!offsets?.nextlink) return;
  const n = offsets.nextlink;
  console.log(
    `By nextLink: ${fmt(n.rowsPerSecond)} rows/s vs ${fmt(offsets.collector.rowsPerSecond)} rows/s by key at ${fmt(offsets.scenario.size)} rows; a page every ${n.firstPagesMs.toFixed(0)} ms over the first tenth, ${n.lastPagesMs.toFixed(0)} ms over the last, as $skip grows (and a row lost for every delivered row that changes meanwhile).`,
  );
}

/** The table of the fastest runs, and the verdicts on throughput, page time and memory. */
function printVerdicts(rows: readonly Row[], latencyMs: number): void {
  const headline = rows.filter((r) => r.scenario.latencyMs === latencyMs);
  const stress = rows.find((r) => r.scenario.latencyMs === 0 && latencyMs > 0);
  const ratios = headline.map((r) => r.collector.rowsPerSecond / r.baseline.rowsPerSecond);
  const smallest = headline.reduce((a, b) => (b.scenario.size < a.scenario.size ? b : a));
  const largest = headline.reduce((a, b) => (b.scenario.size > a.scenario.size ? b : a));
  const growth = largest.collectorRssMB / smallest.collectorRssMB - 1;
  const throughputOk = ratios.every((r) => r >= 0.9);
  const memoryOk = growth <= 0.25;
  // Flat: the last tenth of the pages comes no more than 10 % slower than the first tenth.
  const flat = headline.map((r) => r.collector.lastPagesMs / r.collector.firstPagesMs);
  const flatOk = flat.every((f) => f <= 1.1);
  console.log(
    `\nFastest run of each kind (rows/s: rows over the child's wall time; collector: state machine start to hour published;`,
  );
  console.log(
    `"collector fetch" stops at the last staged page, before publishing). Peak RSS: the highest of the runs.\n`,
  );
  console.log(table(rows));
  console.log(
    `\nThroughput: ${throughputOk ? 'PASS' : 'FAIL'}, collector at ${ratios.map((r) => `${(100 * r).toFixed(1)} %`).join(', ')} of the bare key-paged fetch with ${latencyMs} ms per page (target ≥ 90 % at every size).`,
  );
  console.log(
    `Page time:  ${flatOk ? 'PASS' : 'FAIL'}, paging by key the last tenth of the pages took ${flat.map((f) => `${(100 * f).toFixed(0)} %`).join(', ')} of the time of the first tenth (target ≤ 110 %: flat).`,
  );
  printByNextLink(headline);
  if (stress) {
    console.log(
      `Stress:     collector at ${((100 * stress.collector.rowsPerSecond) / stress.baseline.rowsPerSecond).toFixed(1)} % of the bare fetch with 0 ms per page: there the stand-in, s3rver and the collector share this machine's cores, and encoding and signing the S3 writes cost CPU the bare fetch does not spend.`,
    );
  }
  console.log(
    `Memory:     ${memoryOk ? 'PASS' : 'FAIL'}, collector peak RSS ${largest.collectorRssMB} MB at ${fmt(largest.scenario.size)} rows vs ${smallest.collectorRssMB} MB at ${fmt(smallest.scenario.size)} rows (${growth >= 0 ? '+' : ''}${(100 * growth).toFixed(1)} %, target ≤ +25 %).`,
  );
}

async function main(): Promise<number> {
  const options = parsedOrUsage('Bench', parseOptions);
  if (typeof options === 'string') {
    console.error(options);
    return 2;
  }
  if (!options) {
    console.error(USAGE);
    return 2;
  }
  heapMB = options.heapMB;
  if (Math.max(...options.sizes, options.stressSize) > 1000 * PAGE_SIZE && !desAvailable()) {
    console.error(
      'More than 1000 pages stage more than 1000 objects, and listing them makes s3rver fail (HTTP 500) unless Node runs with NODE_OPTIONS=--openssl-legacy-provider.',
    );
    return 2;
  }
  const { runs, latencyMs, tenants, realSpeed, windows } = options;
  // An hour well inside the stand-in's data span (the 72 hours before the current one) and long due.
  const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 3 * HOUR_MS;
  // Children get no inherited configuration (S3_PREFIX, AWS_PROFILE, NODE_OPTIONS, …) that could skew them.
  const baseEnv: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ROOT };
  console.log(
    `Collector vs bare serial fetch: ${ENTITY}, ${PAGE_SIZE}-row pages, one call at a time; Node ${process.version}, V8 heap limit ${heapMB} MB in both, ${runs} run(s) of each, alternating.`,
  );
  const started = Date.now();
  printVerdicts(await runScenarios(options, hour, baseEnv), latencyMs);
  if (tenants > 0) await runTenantBench({ tenants, latencyMs, heapMB });
  if (realSpeed > 0) await runRealSpeedBench({ rowsPerSecond: realSpeed });
  if (windows.length > 0)
    await runWindowsBench({ minutes: [...windows], rowsPerSecond: realSpeed || undefined });
  console.log(`Bench time: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? `Bench failed: ${err.message}` : err);
    process.exit(1);
  },
);
