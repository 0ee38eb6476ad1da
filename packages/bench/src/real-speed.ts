/**
 * The real-speed part of `npm run bench`, also runnable alone: `npx tsx packages/bench/src/real-speed.ts`.
 * What a tenant-hour costs when the Citrix API is as slow as it really is, and the smallest memory each
 * function needs.
 *
 * 1. Real speed: one tenant, 5 entities × 1,000 rows per entity-hour (a 5,000-row tenant-hour), the stand-in
 *    serving 35 rows/s, the rate third-party measurements give for the real Monitor API: 100-row pages at
 *    2,857 ms each. PAGE_SIZE stays 1000 as deployed; the stand-in caps its pages at 100 rows and sends a
 *    nextLink, and its last page of an entity-hour is short, so the hour takes the 143 s of 5,000 rows at
 *    35 rows/s. (1,000-row pages at 28.6 s would add an empty 28.6-s page per entity: a full last page says
 *    more rows may follow.) One scheduled run (the state one hour behind) of the real state machine with the
 *    real handlers in a child process (real-speed-run.ts), s3rver behind a counting proxy: each handler
 *    invocation's wall time and CPU time, the S3 requests, the state transitions.
 * 2. Fetch CPU: the same run at 0 ms per page over a 100,000-row hour (1,000-row pages), once per memory
 *    size with that size's V8 heap limit (90 % of it, as Lambda's Node.js runtime sets it): CPU seconds per
 *    1,000 rows and the child's peak resident set.
 * 3. Footprint (footprint.ts): each function's bundle loaded as a cold start loads it.
 *
 * Then GB-s per tenant-hour by function at each memory size, the smallest memory that keeps each function's
 * CPU off the critical path and its memory with headroom, and the cost per tenant-month at today's sizes
 * (serverless.yml) beside the chosen ones. Exit 0 whatever the verdict; 1 if a run failed.
 *
 * Options: --rows-per-second 35  --rows 1000 (per entity-hour)  --server-page-size 100
 *          --cpu-rows 100000 (0 to skip)  --memory 128,256,512,1024.
 */
import { loadDefinition } from '@citrix-monitor/testkit/workflow';
import {
  billable,
  derivedEntered,
  EXPRESS_MEMORY_CHUNK_MB,
  EXPRESS_PER_GB_SECOND,
  EXPRESS_PER_REQUEST,
  expressGbSeconds,
  FUNCTION,
  HOURS_PER_MONTH,
  heapFor,
  LAMBDA_PER_GB_SECOND,
  LAMBDA_PER_REQUEST,
  memorySizes,
  ONE_VCPU_MB,
  SFN_PER_TRANSITION,
  s3Tiers,
  stretch,
  sum,
  table,
} from './cost.ts';
import { type Footprint, footprints } from './footprint.ts';
import { above, listOption, numberOption, readOptions, whole } from './options.ts';
import { type Call, type RealSpeedRunResult, realSpeedRunResult } from './real-speed-run.ts';
import { runChild, runIfMain } from './result.ts';
import type { S3Requests } from './s3-counter.ts';
import {
  checkOneAtATime,
  ENTITIES,
  HOUR_MS,
  iso,
  PAGE_SIZE,
  publishedOnDisk,
  putStateBefore,
  withServers,
} from './servers.ts';
import { childDurations, stateScopes } from './windows-cost.ts';

/** Encoding is off the critical path while the CPU of a page, at the memory's CPU share, stays under this share of the page's wait. */
const CPU_SHARE_OF_WAIT = 0.1;
/** Memory must hold the estimated peak resident set this many times over. */
const HEADROOM = 1.5;

/** An invocation's billed duration at `memoryMB`: its wall time, its CPU time stretched, rounded up to 1 ms. */
const billedMs = (call: Call, memoryMB: number) =>
  Math.ceil(call.endedMs - call.startedMs + call.cpuMs * stretch(memoryMB));

interface Setup {
  readonly rowsPerSecond: number;
  /** Rows per entity-hour. */
  readonly rows: number;
  readonly serverPageSize: number;
  readonly cpuRows: number;
  readonly memory: readonly number[];
}

interface Measured {
  readonly child: RealSpeedRunResult;
  readonly rows: number;
  /** Requests that reached s3rver less those it failed with 5xx. */
  readonly s3: S3Requests;
  /** Citrix pages, and the first page's start to the last page's end, ms. */
  readonly pages: number;
  readonly citrixMs: number;
  /** CPU of the FetchPages invocations per 1,000 rows, ms. */
  readonly fetchCpuPer1000Ms: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const usd = (x: number, digits = 4) => `$${x.toFixed(digits)}`;

/** One measured run: the stand-in's rows, pages and latency, and the child's heap limit. */
interface MeasureOptions {
  /** Rows the stand-in holds per entity per hour. */
  readonly rowsPerEntity: number;
  /** Rows per page the stand-in serves at most. */
  readonly serverPageSize: number;
  /** The stand-in's time per request, in ms. */
  readonly latencyMs: number;
  /** V8's heap limit in the child, in MB. */
  readonly heapMB: number;
}

/** One scheduled run of one tenant, due exactly `hour`, in a child with V8's heap limit `heapMB`. */
function measure(
  hour: number,
  { rowsPerEntity, serverPageSize, latencyMs, heapMB }: MeasureOptions,
): Promise<Measured> {
  const standinOptions = { rowsPerHour: rowsPerEntity, serverPageSize, latencyMs };
  return withServers({ standinOptions, hour }, async ({ standin, dir, store, counter, env }) => {
    await putStateBefore(store, hour);
    counter.reset();
    const child = await runChild('real-speed-run.ts', {
      env: { ...env, ...standin.collectorEnv(), PAGE_SIZE: String(PAGE_SIZE) },
      heapMB,
      schema: realSpeedRunResult,
    });
    if (child.status !== 'SUCCEEDED') throw new Error(`run ${child.status}: ${child.error}: ${child.cause}`);
    // The hour published, once, with every row: else the figures mean nothing.
    const expected = sum(ENTITIES.map((e) => standin.countFor(e, { fromMs: hour, toMs: hour + HOUR_MS })));
    const commit = child.committed[0];
    const onDisk = publishedOnDisk(dir).rows;
    if (
      child.committed.length !== 1 ||
      commit?.start !== iso(hour) ||
      commit.outcome !== 'published' ||
      commit.rows !== expected ||
      onDisk !== expected
    ) {
      throw new Error(
        `expected hour ${iso(hour)} published with ${expected} rows; committed ${JSON.stringify(child.committed)}, ${onDisk} rows on disk`,
      );
    }
    checkOneAtATime(standin, child.maxInFlight);
    const { stats } = standin;
    const fetches = child.calls.filter((c) => c.state === 'FetchPages');
    return {
      child,
      rows: expected,
      s3: billable(counter.counts, counter.serverErrors),
      pages: stats.pages.length,
      citrixMs: (stats.pages.at(-1)?.endedMs ?? 0) - (stats.pages[0]?.startedMs ?? 0),
      fetchCpuPer1000Ms: (1000 * sum(fetches.map((c) => c.cpuMs))) / expected,
    };
  });
}

/** Each function's invocations in the run. */
const callsOf = (run: Measured, fn: string) =>
  run.child.calls.filter((c) => FUNCTION[c.state] === fn && !c.failed);
const wallS = (calls: readonly Call[]) => sum(calls.map((c) => c.endedMs - c.startedMs)) / 1000;
const cpuS = (calls: readonly Call[]) => sum(calls.map((c) => c.cpuMs)) / 1000;
const gbSeconds = (calls: readonly Call[], memoryMB: number) =>
  sum(calls.map((c) => (billedMs(c, memoryMB) / 1000) * (memoryMB / 1024)));

interface Judgement {
  readonly ok: boolean;
  readonly cpuOk: boolean;
  readonly rssOk: boolean;
  /** The figures behind each rule. */
  readonly cpu: string;
  readonly rss: string;
}

export interface RealSpeedOptions {
  readonly rowsPerSecond?: number;
  readonly rows?: number;
  readonly serverPageSize?: number;
  readonly cpuRows?: number;
  readonly memory?: readonly number[];
}

/** What the bench measured, and what its tables are figured from. */
interface Runs {
  readonly setup: Setup;
  /** The real-speed run's page latency, ms; and the API's time to serve a PAGE_SIZE page at real speed. */
  readonly latencyMs: number;
  readonly pageWaitMs: number;
  /** The smallest memory size considered, MB. */
  readonly smallest: number;
  /** serverless.yml's memory sizes, by function. */
  readonly today: Record<string, number>;
  readonly functions: readonly string[];
  readonly footprint: Record<string, Footprint>;
  readonly real: Measured;
  /** The 0-ms runs by memory size (none with --cpu-rows 0). */
  readonly fast: ReadonlyMap<number, Measured>;
}

/** The bench's setup: the options given, the defaults for the others. */
function setupOf(options: RealSpeedOptions): Setup {
  return {
    rowsPerSecond: options.rowsPerSecond ?? 35,
    rows: options.rows ?? 1000,
    serverPageSize: options.serverPageSize ?? 100,
    cpuRows: options.cpuRows ?? 100_000,
    memory: [...(options.memory ?? [128, 256, 512, 1024])].sort((a, b) => a - b),
  };
}

/** Runs the real-speed bench and prints its tables and choices; throws when a run fails. */
export async function runRealSpeedBench(options: RealSpeedOptions = {}): Promise<void> {
  const started = Date.now();
  const runs = await measureAll(setupOf(options));
  printRun(runs);
  printFetchCpu(runs);
  printFootprint(runs);
  printGbSeconds(runs);
  const choices = chooseMemory(runs);
  printCost(runs, choices);
  console.log(`Real-speed bench time: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

/** The footprints, the real-speed run and the 0-ms run at each memory size. */
async function measureAll(setup: Setup): Promise<Runs> {
  // An hour inside the stand-in's data span (the 72 hours before the current one) and long finished.
  const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;
  const latencyMs = (1000 * setup.serverPageSize) / setup.rowsPerSecond;
  const smallest = setup.memory[0] ?? 128;
  console.log(
    `\nReal speed: 1 tenant × ${ENTITIES.length} entities × ${fmt(setup.rows)} rows per entity-hour (${fmt(setup.rows * ENTITIES.length)} rows in the tenant-hour), the stand-in serving ${setup.rowsPerSecond} rows/s (third-party measurements give about 35 on the real Citrix API): pages of ${setup.serverPageSize} rows (its cap, with a nextLink; the collector asks for ${PAGE_SIZE} as deployed) at ${fmt(latencyMs)} ms each. One scheduled run (state one hour behind) of the real state machine and handlers in a child process (V8 heap limit ${heapFor(smallest)} MB, as at ${smallest} MB), s3rver behind a counting proxy.`,
  );
  const footprint: Record<string, Footprint> = await footprints();
  const real = await measure(hour, {
    rowsPerEntity: setup.rows,
    serverPageSize: setup.serverPageSize,
    latencyMs,
    heapMB: heapFor(smallest),
  });
  const fast = new Map<number, Measured>();
  if (setup.cpuRows > 0) {
    for (const memoryMB of setup.memory) {
      fast.set(
        memoryMB,
        await measure(hour, {
          rowsPerEntity: Math.round(setup.cpuRows / ENTITIES.length),
          serverPageSize: PAGE_SIZE,
          latencyMs: 0,
          heapMB: heapFor(memoryMB),
        }),
      );
    }
  }
  return {
    setup,
    latencyMs,
    pageWaitMs: (1000 * PAGE_SIZE) / setup.rowsPerSecond,
    smallest,
    today: memorySizes(),
    functions: Object.values(FUNCTION),
    footprint,
    real,
    fast,
  };
}

/** The real-speed run, invocation by invocation. */
function printRun({ real }: Runs): void {
  const { child } = real;
  const handlersCpuS = cpuS(child.calls);
  const invocationRows: Array<[string, ...string[]]> = child.calls.map((c) => [
    c.entity ? `${c.state} ${c.entity}` : c.state,
    (c.endedMs - c.startedMs).toFixed(0),
    c.cpuMs.toFixed(0),
    `${((100 * c.cpuMs) / (c.endedMs - c.startedMs)).toFixed(1)} %`,
    c.rows === undefined ? '' : fmt(c.rows),
  ]);
  console.log(
    `\n  Execution ${(child.wallMs / 1000).toFixed(1)} s; Citrix: ${real.pages} pages, ${fmt(real.rows)} rows from the first page's start to the last page's end in ${(real.citrixMs / 1000).toFixed(1)} s (${(real.rows / (real.citrixMs / 1000)).toFixed(1)} rows/s). Serial: at most ${child.maxInFlight} handler invocation in flight and 1 Citrix call, so each invocation's CPU (process.cpuUsage() around it) is its own.\n`,
  );
  console.log(table(invocationRows, ['invocation', 'wall ms', 'CPU ms', 'CPU/wall', 'rows']));
  console.log(
    `  CPU of the execution ${child.runCpuSeconds.toFixed(2)} s, of it ${handlersCpuS.toFixed(2)} s in the handlers and ${(child.runCpuSeconds - handlersCpuS).toFixed(2)} s in the local runner between them (Step Functions' side, not Lambda's). CPU above wall time: V8's and libuv's helper threads.`,
  );
}

/** Fetch CPU per 1,000 rows, at real speed and at each heap limit. */
function printFetchCpu({ setup, real, fast, smallest, latencyMs }: Runs): void {
  const { child } = real;
  const cpuRows: Array<[string, ...string[]]> = [
    [
      `real speed, ${fmt(real.rows)} rows, ${setup.serverPageSize}-row pages`,
      `${heapFor(smallest)} MB`,
      (real.fetchCpuPer1000Ms / 1000).toFixed(3),
      `${child.maxRssMB} MB (${child.rssBeforeMB} before the run)`,
    ],
  ];
  for (const [memoryMB, run] of fast) {
    cpuRows.push([
      `0 ms per page, ${fmt(run.rows)} rows, ${PAGE_SIZE}-row pages`,
      `${heapFor(memoryMB)} MB (as at ${memoryMB} MB)`,
      (run.fetchCpuPer1000Ms / 1000).toFixed(3),
      `${run.child.maxRssMB} MB (${run.child.rssBeforeMB} before the run)`,
    ]);
  }
  console.log(
    `\nFetch CPU per 1,000 rows: the CPU of the FetchPages invocations over the rows they staged (this machine's core taken as Lambda's one vCPU).\n`,
  );
  console.log(table(cpuRows, ['run', 'V8 heap limit', 'CPU s per 1,000 rows', 'child peak RSS']));
  const [first, ...others] = child.calls.filter((c) => c.state === 'FetchPages');
  if (first && others.length > 0) {
    const othersRows = sum(others.map((c) => c.rows ?? 0));
    console.log(
      `  At real speed the first FetchPages invocation took ${fmt(first.cpuMs)} ms of CPU for ${fmt(first.rows ?? 0)} rows (cold code, the token, the first S3 requests), the other ${others.length} invocations ${fmt((1e6 * cpuS(others)) / othersRows)} ms per 1,000 rows: ${setup.serverPageSize}-row pages mean ${PAGE_SIZE / setup.serverPageSize} requests per 1,000 rows, and the process idles ${fmt(latencyMs)} ms before each page. The 0-ms runs give the cost of the work itself, warm and back to back.`,
    );
  }
}

const growthOf = (run: Measured) => run.child.maxRssMB - run.child.rssBeforeMB;

/** Estimated peak RSS of a function at a memory size: its bundle loaded, plus what a run grew the child by. */
function peakRssMB({ footprint, fast, real }: Runs, fn: string, memoryMB: number): number | undefined {
  const loaded = footprint[fn]?.loadedRssMB ?? 0;
  // Without the fast runs (--cpu-rows 0), the fetch's estimate is the real-speed run's too.
  const run = fn === 'fetchPage' && fast.size > 0 ? fast.get(memoryMB) : real;
  return run ? loaded + growthOf(run) : undefined;
}

/** Each function's bundle loaded, and its estimated peak RSS at each memory size. */
function printFootprint(runs: Runs): void {
  const { footprint, fast, setup, functions } = runs;
  console.log(
    `\nFootprint: each function's handler bundled as serverless package bundles it (${(footprint.fetchPage?.bundleMB ?? 0).toFixed(1)} MB) and loaded by Node with the deployed NODE_OPTIONS (source maps on), as a cold start loads it. Estimated peak RSS = loaded + what a run grew its child by from the start of the execution (fetchPage: ${fast.size > 0 ? `the ${fmt(setup.cpuRows)}-row run at the memory's heap limit` : 'the real-speed run'}; the others: the real-speed run, every function's work in one process, so an upper bound).\n`,
  );
  console.log(
    table(
      functions.map((fn) => [
        fn,
        `${(footprint[fn]?.loadedRssMB ?? 0).toFixed(0)} MB`,
        `${(footprint[fn]?.loadCpuMs ?? 0).toFixed(0)} ms`,
        ...setup.memory.map((m) => {
          const peak = peakRssMB(runs, fn, m);
          return peak === undefined ? '' : `${peak.toFixed(0)} MB`;
        }),
      ]),
      ['function', 'loaded RSS', 'load CPU', ...setup.memory.map((m) => `est. peak at ${m} MB`)],
    ),
  );
}

/** Lambda GB-s per tenant-hour, by function and memory size. */
function printGbSeconds({ real, setup, functions }: Runs): void {
  const { child } = real;
  console.log(
    `\nGB-s per tenant-hour. Model: Lambda gives CPU in proportion to memory (${fmt(ONE_VCPU_MB)} MB is one vCPU), so an invocation at M MB lasts its measured wall time plus its CPU time × (${ONE_VCPU_MB}/M − 1) below ${fmt(ONE_VCPU_MB)} MB, billed rounded up to the ms; an upper bound for the fetch, whose encoding mostly overlaps the wait for the next page. Cold starts not counted.\n`,
  );
  const gbRows: Array<[string, ...string[]]> = functions.map((fn) => {
    const calls = callsOf(real, fn);
    return [
      fn,
      String(calls.length),
      wallS(calls).toFixed(2),
      cpuS(calls).toFixed(3),
      ...setup.memory.map((m) => gbSeconds(calls, m).toFixed(3)),
    ];
  });
  gbRows.push([
    'all functions',
    String(child.calls.length),
    wallS(child.calls).toFixed(2),
    cpuS(child.calls).toFixed(3),
    ...setup.memory.map((m) => sum(functions.map((fn) => gbSeconds(callsOf(real, fn), m))).toFixed(3)),
  ]);
  gbRows.push([
    'Lambda $ per tenant-month (GB-s + requests)',
    String(child.calls.length),
    '',
    '',
    ...setup.memory.map((m) =>
      usd(
        HOURS_PER_MONTH *
          (sum(functions.map((fn) => gbSeconds(callsOf(real, fn), m))) * LAMBDA_PER_GB_SECOND +
            child.calls.length * LAMBDA_PER_REQUEST),
      ),
    ),
  ]);
  console.log(
    table(gbRows, ['function', 'invocations', 'wall s', 'CPU s', ...setup.memory.map((m) => `${m} MB`)]),
  );
}

/** Both rules for one function at one memory size, each with its figures. */
function judge(runs: Runs, fn: string, m: number): Judgement {
  const { setup, real, fast, pageWaitMs } = runs;
  const citrixS = real.citrixMs / 1000;
  const peak = peakRssMB(runs, fn, m);
  const rssOk = peak !== undefined && HEADROOM * peak <= m;
  const rss =
    peak === undefined
      ? `no ${fmt(setup.cpuRows)}-row run at ${m} MB`
      : `est. peak RSS ${peak.toFixed(0)} MB × ${HEADROOM} = ${(HEADROOM * peak).toFixed(0)} MB ${rssOk ? '≤' : '>'} ${m} MB`;
  if (fn === 'fetchPage') {
    // The larger of the real-speed run's and the fast run's at this heap limit.
    const per1000 = Math.max(real.fetchCpuPer1000Ms, fast.get(m)?.fetchCpuPer1000Ms ?? 0);
    const stretched = per1000 * (1 + stretch(m));
    const cpuOk = stretched < CPU_SHARE_OF_WAIT * pageWaitMs;
    const cpu = `a ${fmt(PAGE_SIZE)}-row page's ${(per1000 / 1000).toFixed(3)} s of CPU take ${(stretched / 1000).toFixed(2)} s at ${m} MB's share, ${((100 * stretched) / pageWaitMs).toFixed(1)} % of the ${(pageWaitMs / 1000).toFixed(1)} s the API takes to serve the page (limit ${100 * CPU_SHARE_OF_WAIT} %)`;
    return { ok: cpuOk && rssOk, cpuOk, rssOk, cpu, rss };
  }
  const used = cpuS(callsOf(real, fn));
  const stretched = used * (1 + stretch(m));
  const cpuOk = stretched < CPU_SHARE_OF_WAIT * citrixS;
  const cpu = `its ${used.toFixed(3)} s of CPU per tenant-hour take ${stretched.toFixed(2)} s at ${m} MB's share, ${((100 * stretched) / citrixS).toFixed(1)} % of the tenant-hour's ${citrixS.toFixed(0)} s of Citrix time (limit ${100 * CPU_SHARE_OF_WAIT} %)`;
  return { ok: cpuOk && rssOk, cpuOk, rssOk, cpu, rss };
}

/** The smallest memory size meeting both rules, by function, printed with the figures. */
function chooseMemory(runs: Runs): Record<string, number> {
  const { setup, functions, today } = runs;
  const largest = setup.memory.at(-1) ?? 1024;
  const choices: Record<string, number> = {};
  console.log(
    `\nChosen memory: the smallest size whose CPU share keeps the CPU work off the critical path (fetchPage: a page's CPU at that share under ${100 * CPU_SHARE_OF_WAIT} % of the time the API takes to serve the page, so encoding hides in the wait; the others: their CPU per tenant-hour under ${100 * CPU_SHARE_OF_WAIT} % of its Citrix time) and that holds the estimated peak RSS ${HEADROOM} times.`,
  );
  for (const fn of functions) {
    const index = setup.memory.findIndex((m) => judge(runs, fn, m).ok);
    const memoryMB = index === -1 ? largest : (setup.memory[index] ?? largest);
    choices[fn] = memoryMB;
    const at = judge(runs, fn, memoryMB);
    console.log(
      `  ${fn} ${memoryMB} MB (today ${today[fn]} MB)${index === -1 ? ': no size considered meets both rules' : ''}`,
    );
    console.log(`    CPU ${at.cpuOk ? 'ok' : 'NOT ok'}: ${at.cpu}`);
    console.log(`    RSS ${at.rssOk ? 'ok' : 'NOT ok'}: ${at.rss}`);
    const below = index > 0 ? setup.memory[index - 1] : undefined;
    if (below !== undefined) {
      const no = judge(runs, fn, below);
      console.log(
        `    not ${below} MB: ${[no.cpuOk ? '' : no.cpu, no.rssOk ? '' : no.rss].filter(Boolean).join('; ')}`,
      );
    }
  }

  return choices;
}

/** Standard transitions of the real-speed run (billed), and its Express children. */
function transitionsOf(child: RealSpeedRunResult): { transitions: number; expressChildren: number } {
  const ok = (name: string) => child.calls.filter((c) => c.stateName === name && !c.failed).length;
  const derived = derivedEntered(ok, child.plans, true);
  // Billed per transition: the parent's and the Standard children's states, their retries, and one per child
  // the Distributed Maps started; an Express child (the tenant is on time) bills a request and its duration.
  const scopes = stateScopes(loadDefinition());
  const standard = (name: string) => scopes.get(name) !== 'EXPRESS';
  const retries = child.calls.filter((c) => c.failed && standard(c.stateName)).length;
  const childTypes = new Map(
    child.calls.filter((c) => c.execution.type !== 'PARENT').map((c) => [c.execution.name, c.execution.type]),
  );
  const expressChildren = [...childTypes.values()].filter((t) => t === 'EXPRESS').length;
  const transitions =
    sum(Object.entries(derived.entered).flatMap(([name, n]) => (standard(name) ? [n] : []))) +
    retries +
    childTypes.size;
  return { transitions, expressChildren };
}

/** What the real-speed run costs per tenant-hour at the memory sizes given. */
function accountAt({ real, functions }: Runs, memory: Record<string, number>, transitions: number) {
  const { child } = real;
  const s3 = s3Tiers(real.s3);
  const gb = sum(functions.map((fn) => gbSeconds(callsOf(real, fn), memory[fn] ?? 0)));
  const lambda = gb * LAMBDA_PER_GB_SECOND + child.calls.length * LAMBDA_PER_REQUEST;
  const modelled = child.calls.map((c) => billedMs(c, memory[FUNCTION[c.state]] ?? 0));
  const express = childDurations(child, modelled).filter((c) => c.type === 'EXPRESS');
  // 64 MB: the windows bench's estimate of an Express child's billed memory (AWS's formula, one chunk).
  const sfn =
    transitions * SFN_PER_TRANSITION +
    express.length * EXPRESS_PER_REQUEST +
    sum(express.map((c) => expressGbSeconds(c.ms, EXPRESS_MEMORY_CHUNK_MB))) * EXPRESS_PER_GB_SECOND;
  return { gb, lambda, sfn, s3: s3.dollars, total: lambda + sfn + s3.dollars };
}

/** The cost per tenant-hour and tenant-month at today's memory sizes and at the chosen ones. */
function printCost(runs: Runs, choices: Record<string, number>): void {
  const { real, functions, today, footprint } = runs;
  const { child } = real;
  const s3 = s3Tiers(real.s3);
  const { transitions, expressChildren } = transitionsOf(child);
  const sizes = { today, chosen: choices };
  const columns = [accountAt(runs, sizes.today, transitions), accountAt(runs, sizes.chosen, transitions)];
  const month = (x: number) => usd(HOURS_PER_MONTH * x);
  const rows: Array<[string, ...string[]]> = [
    [
      `memory MB (${functions.join('/')})`,
      ...[sizes.today, sizes.chosen].map((s) => functions.map((fn) => s[fn]).join('/')),
    ],
    [
      'fetchPage GB-s per tenant-hour',
      ...[sizes.today, sizes.chosen].map((s) =>
        gbSeconds(callsOf(real, 'fetchPage'), s.fetchPage ?? 0).toFixed(1),
      ),
    ],
    ['Lambda GB-s per tenant-hour', ...columns.map((a) => a.gb.toFixed(1))],
    ['Lambda per tenant-hour (GB-s + requests)', ...columns.map((a) => usd(a.lambda, 6))],
    [
      `Step Functions per tenant-hour (${transitions} Standard transitions, ${expressChildren} Express child${expressChildren === 1 ? '' : 'ren'})`,
      ...columns.map((a) => usd(a.sfn, 6)),
    ],
    [
      `S3 requests per tenant-hour (${s3.tier1} PUT-tier, ${s3.tier2} GET-tier)`,
      ...columns.map((a) => usd(a.s3, 6)),
    ],
    ['total per tenant-hour', ...columns.map((a) => usd(a.total, 6))],
    [`Lambda per tenant-month (${HOURS_PER_MONTH} h)`, ...columns.map((a) => month(a.lambda))],
    ['Step Functions per tenant-month', ...columns.map((a) => month(a.sfn))],
    ['S3 requests per tenant-month', ...columns.map((a) => month(a.s3))],
    ['total per tenant-month', ...columns.map((a) => month(a.total))],
  ];
  console.log(
    `\nCost at real speed, arm64, us-east-1 list prices (no free tier; Secrets Manager, CloudWatch and storage not included):\n`,
  );
  console.log(table(rows, ['', 'today (serverless.yml)', 'chosen']));
  const loadCpuS = sum(functions.map((fn) => footprint[fn]?.loadCpuMs ?? 0)) / 1000;
  console.log(
    `Not counted above: cold starts. Loading the five bundles took ${loadCpuS.toFixed(2)} s of CPU here; Lambda bills the init phase, and below ${fmt(ONE_VCPU_MB)} MB CPU-bound work costs the same GB-s at any memory (${loadCpuS.toFixed(2)} s × ${ONE_VCPU_MB}/1024 = ${((loadCpuS * ONE_VCPU_MB) / 1024).toFixed(2)} GB-s): ${month(((loadCpuS * ONE_VCPU_MB) / 1024) * LAMBDA_PER_GB_SECOND)} per tenant-month if all five start cold every hour.`,
  );
}

/** The command line's options, or the usage. */
function parseOptions(): RealSpeedOptions | string {
  const options = readOptions({
    rowsPerSecond: numberOption(35, above(0)),
    rows: numberOption(1000, whole(1)),
    serverPageSize: numberOption(100, whole(1, PAGE_SIZE)),
    cpuRows: numberOption(100_000, whole(0)),
    memory: listOption([128, 256, 512, 1024], whole(128, 10_240)),
  });
  return (
    options ??
    'Usage: npx tsx packages/bench/src/real-speed.ts [--rows-per-second 35] [--rows 1000] [--server-page-size 100] [--cpu-rows 100000] [--memory 128,256,512,1024]'
  );
}

runIfMain(import.meta.url, { name: 'Real-speed bench', parse: parseOptions, run: runRealSpeedBench });
