/**
 * The freshness-against-cost part of `npm run bench`, also runnable alone: `npx tsx local/bench/windows.ts`.
 * What windows shorter than an hour cost per tenant-hour, counted from runs, beside how fresh they make
 * the data.
 *
 * For each window size W (default 5, 15 and 60, the hour being the baseline): one tenant, 5 entities ×
 * 1,000 rows per entity-hour (5,000 rows per tenant-hour), the tenant's state at the start of an hour H0,
 * and the executions W's schedule starts (serverless.yml `custom.schedules`) from the one that publishes
 * the window [H0, H0 + W) to the one that publishes the window ending H0 + 1 h: each execution at its
 * simulated start time (the plan's clock), one after another, in a child process (windows-run.ts) running
 * the real state machine and handlers; the stand-in serving 100-row pages (as the real-speed bench) at a
 * small fixed latency; a fresh s3rver behind a counting proxy. The hour's data, every window published once
 * with every row, checked on disk.
 *
 * Counted from the runs: executions; states entered (aws-local-stepfunctions' event log, StateEntered,
 * checked against what the handler invocations imply: cost.ts derivedEntered); Lambda invocations by
 * function; S3 requests by price tier; Citrix requests. Lambda GB-s at each function's memory
 * (serverless.yml) and at the real Citrix speed (35 rows/s: a 100-row page takes 2,857 ms): an invocation
 * bills its measured wall time, each of its Citrix requests' stand-in latency replaced by 2,857 ms, plus
 * its CPU time stretched to the memory's CPU share as in real-speed.ts. Then dollars per tenant-month.
 * Exit 0 whatever the figures; 1 if a run failed or the hour was not published exactly.
 *
 * Options: --minutes 5,15,60  --latency-ms 10  --rows 1000 (per entity-hour)  --server-page-size 100
 *          --rows-per-second 35 (the real speed the GB-s are modelled at).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMinute, MINUTE_MS, WINDOW_SIZES } from '../../functions/domain/windows.ts';
import type { PageLogEntry } from '../citrix-standin/index.ts';
import {
  billable,
  derivedEntered,
  FUNCTION,
  HOURS_PER_MONTH,
  heapFor,
  LAMBDA_PER_GB_SECOND,
  LAMBDA_PER_REQUEST,
  memorySizes,
  S3_TIER1,
  S3_TIER2,
  SFN_PER_TRANSITION,
  s3Tiers,
  serverlessYml,
  stretch,
  sum,
  TASK_STATES,
  table,
} from './cost.ts';
import type { Call } from './metered-execution.ts';
import { rowsOnDisk, runChild, runIfMain } from './result.ts';
import type { S3Requests } from './s3-counter.ts';
import {
  BUCKET,
  checkOneAtATime,
  ENTITIES,
  HOUR_MS,
  PAGE_SIZE,
  PREFIX,
  STATE_KEY,
  stateBefore,
  withServers,
} from './servers.ts';
import type { WindowsRunResult } from './windows-run.ts';

/** SETTLE_MINUTES as deployed: serverless.yml leaves settleMinutes and lookbackMinutes empty, the config's 15. */
const SETTLE_MINUTES = 15;
const BASELINE = 60;
/** A Citrix page's start may be logged by the stand-in this long outside the invocation that asked for it. */
const CLOCK_SLACK_MS = 5;

export interface WindowsOptions {
  readonly minutes?: readonly number[];
  readonly latencyMs?: number;
  /** Rows per entity-hour. */
  readonly rows?: number;
  readonly serverPageSize?: number;
  readonly rowsPerSecond?: number;
}

type Setup = Required<WindowsOptions>;

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
function* fires(hourStart: number, minutes: readonly number[], from: number): Generator<number> {
  for (let hour = hourStart; ; hour += HOUR_MS) {
    for (const m of minutes) {
      const t = hour + m * MINUTE_MS;
      if (t >= from) yield t;
    }
  }
}

/**
 * The executions of one hour of data, from the state at `h0`: the schedule's times from the first at which
 * the window [h0, h0 + W) is due (its end plus the settle) to the first at which the window ending h0 + 1 h
 * is due; and, for each window of that hour, the time it is due and the execution that publishes it.
 */
export function hourOfRuns(
  h0: number,
  windowMinutes: number,
  settleMinutes: number,
  minutes: readonly number[],
): { starts: number[]; windows: Array<{ start: number; end: number; publishedAt: number }> } {
  const size = windowMinutes * MINUTE_MS;
  const settle = settleMinutes * MINUTE_MS;
  const firstAt = (t: number) => fires(h0, minutes, t).next().value as number;
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

interface SizeRun {
  readonly windowMinutes: number;
  readonly schedule: string;
  /** Executions the schedule starts per hour. */
  readonly perHour: number;
  readonly h0: number;
  readonly child: WindowsRunResult;
  /** Per execution, per call: the Citrix data requests made during it. */
  readonly requestsPerCall: readonly (readonly number[])[];
  readonly s3: S3Requests;
  readonly dataRequests: number;
  readonly tokenRequests: number;
  readonly rows: number;
  /** Windows published, and the objects they hold. */
  readonly windows: number;
  readonly objects: number;
  /** A row's delay from its change to the start of the execution that publishes it, min and max, minutes. */
  readonly freshness: { readonly min: number; readonly max: number };
  readonly seconds: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const usd = (x: number) => `$${x.toFixed(2)}`;
const at = (h0: number, t: number) => `H0+${(t - h0) / MINUTE_MS}`;
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The Citrix requests of each call, by the stand-in's log: each page started within one invocation. */
function requestsByCall(child: WindowsRunResult, pages: readonly PageLogEntry[]): number[][] {
  const counts = child.executions.map((e) => e.calls.map(() => 0));
  const spans = child.executions.flatMap((e, i) =>
    e.calls.map((c, j) => ({
      i,
      j,
      from: child.timeOriginMs + c.startedMs,
      to: child.timeOriginMs + c.endedMs,
      fetch: c.state === 'FetchPages',
    })),
  );
  const within = (t: number, slack: number) => spans.filter((s) => s.from - slack <= t && t <= s.to + slack);
  for (const page of pages) {
    const near = within(page.startedMs, CLOCK_SLACK_MS);
    const found = near.length > 1 ? within(page.startedMs, 0) : near;
    const call = found.length === 1 ? found[0] : undefined;
    if (!call?.fetch) {
      throw new Error(
        `a Citrix page (${page.entity}, skip ${page.skip}) started within ${found.length} handler invocations, not within one FetchPages`,
      );
    }
    const row = counts[call.i];
    if (row) row[call.j] = (row[call.j] ?? 0) + 1;
  }
  return counts;
}

/** The executions of one window size over one hour of data, counted. */
function measure(setup: Setup, windowMinutes: number, schedule: string, h0: number): Promise<SizeRun> {
  const minutes = cronMinutes(schedule);
  const plan = hourOfRuns(h0, windowMinutes, SETTLE_MINUTES, minutes);
  if (plan.starts.length !== minutes.length) {
    throw new Error(
      `W=${windowMinutes}: ${schedule} starts ${minutes.length} executions an hour, but ${plan.starts.length} publish the hour's windows: not one window per execution, so one hour of data is not one hour of executions`,
    );
  }
  const standinOptions = {
    rowsPerHour: setup.rows,
    serverPageSize: setup.serverPageSize,
    latencyMs: setup.latencyMs,
  };
  return withServers(standinOptions, h0, async ({ standin, dir, store, counter, env }) => {
    await store.put(STATE_KEY, stateBefore(h0), 'application/json');
    counter.reset();
    standin.resetStats();
    const started = Date.now();
    const child = await runChild<WindowsRunResult>(
      'windows-run.ts',
      {
        ...env,
        ...standin.collectorEnv(),
        PAGE_SIZE: String(PAGE_SIZE),
        WINDOW_MINUTES: String(windowMinutes),
        SETTLE_MINUTES: String(SETTLE_MINUTES),
        BENCH_STARTS_MS: plan.starts.join(','),
      },
      heapFor(memorySizes().fetchPage ?? 256),
    );
    const seconds = (Date.now() - started) / 1000;
    const failed = child.executions.find((e) => e.status !== 'SUCCEEDED');
    if (failed || child.executions.length !== plan.starts.length) {
      throw new Error(
        `W=${windowMinutes}: execution at ${at(h0, failed?.startMs ?? h0)} ${failed?.status}: ${failed?.error}: ${failed?.cause}`,
      );
    }
    // Every window of the hour published once, by the execution the schedule says, with every row.
    const published = child.executions.flatMap((e) => e.committed.map((c) => ({ ...c, by: e.startMs })));
    const expected = sum(ENTITIES.map((e) => standin.countFor(e, h0, h0 + HOUR_MS)));
    const onDisk = rowsOnDisk(join(dir, BUCKET, PREFIX));
    const wrong = plan.windows.filter((w, j) => {
      const c = published[j];
      return (
        c?.hour !== formatMinute(w.start) ||
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
        `W=${windowMinutes}: expected the ${plan.windows.length} windows of ${formatMinute(h0)} each published once by the first execution after it settled, ${expected} rows; committed ${JSON.stringify(published.map((c) => [c.hour, c.outcome, c.rows, at(h0, c.by)]))}, ${onDisk.rows} rows on disk`,
      );
    }
    checkOneAtATime(standin, child.maxInFlight, `W=${windowMinutes}: `);
    const { stats } = standin;
    if (stats.dataRequests !== stats.pages.length) {
      throw new Error(
        `W=${windowMinutes}: ${stats.dataRequests} Citrix data requests but ${stats.pages.length} pages answered: something failed and was retried`,
      );
    }
    const delays = plan.windows.flatMap((w) => [w.publishedAt - w.end, w.publishedAt - w.start]);
    return {
      windowMinutes,
      schedule,
      perHour: minutes.length,
      h0,
      child,
      requestsPerCall: requestsByCall(child, stats.pages),
      s3: billable(counter.counts, counter.serverErrors),
      dataRequests: stats.dataRequests,
      tokenRequests: stats.tokenRequests,
      rows: expected,
      windows: published.length,
      objects: onDisk.objects,
      freshness: { min: Math.min(...delays) / MINUTE_MS, max: Math.max(...delays) / MINUTE_MS },
      seconds,
    };
  });
}

interface Account {
  readonly executions: number;
  readonly enteredLog: number;
  readonly enteredDerived: number;
  readonly retries: number;
  /** Billed: the higher count of states entered, plus retries. */
  readonly transitions: number;
  readonly invocations: Record<string, number>;
  readonly gbSeconds: Record<string, number>;
  readonly s3: ReturnType<typeof s3Tiers>;
  /** The longest execution at real speed: its invocations' modelled durations, one after another, s. */
  readonly longestS: number;
  /** Per tenant-month. */
  readonly month: {
    readonly sfn: number;
    readonly lambda: number;
    readonly s3: number;
    readonly total: number;
  };
}

/** Everything per tenant-hour: the run collected one tenant's hour. */
function account(run: SizeRun, setup: Setup): Account {
  const memory = memorySizes();
  const realMs = (1000 * setup.serverPageSize) / setup.rowsPerSecond;
  /** An invocation at real speed and its memory's CPU share, billed rounded up to the ms. */
  const billedMs = (call: Call, requests: number) => {
    const wall = call.endedMs - call.startedMs + requests * (realMs - setup.latencyMs);
    return Math.ceil(wall + call.cpuMs * stretch(memory[FUNCTION[call.state]] ?? 0));
  };
  const invocations: Record<string, number> = {};
  const gbSeconds: Record<string, number> = {};
  let enteredLog = 0;
  let enteredDerived = 0;
  let retries = 0;
  let longestS = 0;
  for (const [i, e] of run.child.executions.entries()) {
    const ok = (name: string) => e.calls.filter((c) => c.stateName === name && !c.failed).length;
    enteredDerived += sum(Object.values(derivedEntered(ok, e.plans, true).entered));
    enteredLog += sum(Object.values(e.statesEntered));
    retries += Math.max(e.events.StateRetried ?? 0, e.calls.filter((c) => c.failed).length);
    let executionMs = 0;
    for (const [j, c] of e.calls.entries()) {
      const fn = FUNCTION[c.state];
      const ms = billedMs(c, run.requestsPerCall[i]?.[j] ?? 0);
      executionMs += ms;
      invocations[fn] = (invocations[fn] ?? 0) + 1;
      gbSeconds[fn] = (gbSeconds[fn] ?? 0) + (ms / 1000) * ((memory[fn] ?? 0) / 1024);
    }
    longestS = Math.max(longestS, executionMs / 1000);
  }
  const transitions = Math.max(enteredLog, enteredDerived) + retries;
  const s3 = s3Tiers(run.s3);
  const sfn = transitions * SFN_PER_TRANSITION;
  const lambda =
    sum(Object.values(gbSeconds)) * LAMBDA_PER_GB_SECOND +
    sum(Object.values(invocations)) * LAMBDA_PER_REQUEST;
  const month = (x: number) => HOURS_PER_MONTH * x;
  return {
    executions: run.child.executions.length,
    enteredLog,
    enteredDerived,
    retries,
    transitions,
    invocations,
    gbSeconds,
    s3,
    longestS,
    month: {
      sfn: month(sfn),
      lambda: month(lambda),
      s3: month(s3.dollars),
      total: month(sfn + lambda + s3.dollars),
    },
  };
}

/** Runs the bench for each window size and prints the table; throws when a run fails. */
export async function runWindowsBench(options: WindowsOptions = {}): Promise<void> {
  const started = Date.now();
  const setup: Setup = {
    minutes: [...new Set([...(options.minutes ?? [5, 15]), BASELINE])].sort((a, b) => a - b),
    latencyMs: options.latencyMs ?? 10,
    rows: options.rows ?? 1000,
    serverPageSize: options.serverPageSize ?? 100,
    rowsPerSecond: options.rowsPerSecond ?? 35,
  };
  const all = schedules();
  for (const w of setup.minutes) {
    if (!all[w]) throw new Error(`serverless.yml custom.schedules has no schedule for ${w}-minute windows`);
  }
  // An hour inside the stand-in's data span (the 72 hours before the current one) whose executions,
  // up to 80 minutes after it starts, are all in the past.
  const h0 = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 3 * HOUR_MS;
  const realMs = (1000 * setup.serverPageSize) / setup.rowsPerSecond;
  const memory = memorySizes();
  const functions = TASK_STATES.map((s) => FUNCTION[s]);
  console.log(
    `\nFreshness against cost: 1 tenant × ${ENTITIES.length} entities × ${fmt(setup.rows)} rows per entity-hour (${fmt(setup.rows * ENTITIES.length)} rows per tenant-hour). For each window size W, the tenant's state at H0 = ${formatMinute(h0)} and the executions W's schedule (serverless.yml custom.schedules) starts from the one that publishes [H0, H0+W) to the one that publishes the window ending H0+60, each at its simulated start time (SETTLE_MINUTES ${SETTLE_MINUTES}), one after another, in a child process running the real state machine and handlers; the stand-in serving ${setup.serverPageSize}-row pages at ${setup.latencyMs} ms each (PAGE_SIZE ${PAGE_SIZE} as deployed); s3rver behind a counting proxy.`,
  );
  const runs: SizeRun[] = [];
  for (const w of setup.minutes) {
    const schedule = all[w] ?? '';
    const run = await measure(setup, w, schedule, h0);
    const starts = run.child.executions.map((e) => e.startMs);
    const when = starts.map((t) => at(h0, t));
    console.log(
      `  W=${w}: ${schedule}, ${plural(starts.length, 'execution')} (${when.length > 2 ? `${when[0]}, ${when[1]} … ${when.at(-1)}` : when.join(', ')} min), ${fmt(run.rows)} rows in ${plural(run.windows, 'window')}, each published once by the first execution after it settled (${run.objects} objects); ${run.dataRequests} Citrix data requests; ${run.seconds.toFixed(1)} s.`,
    );
    runs.push(run);
  }
  const accounts = runs.map((r) => account(r, setup));
  const base = accounts[runs.findIndex((r) => r.windowMinutes === BASELINE)];
  const column = (f: (r: SizeRun, a: Account) => string) => runs.map((r, i) => f(r, accounts[i] as Account));
  const byFunction = (f: (a: Account, fn: string) => number, digits: number) =>
    functions.map((fn): [string, ...string[]] => [
      `  ${fn} (${memory[fn]} MB)`,
      ...column((_r, a) => f(a, fn).toFixed(digits)),
    ]);
  const rows: Array<[string, ...string[]]> = [
    ['schedule', ...column((r) => r.schedule)],
    ['a row reaches S3 after its change (min)', ...column((r) => `${r.freshness.min}–${r.freshness.max}`)],
    ['  + the execution at real speed, longest (s)', ...column((_r, a) => a.longestS.toFixed(0))],
    ['executions per hour', ...column((r) => String(r.perHour))],
    ['per tenant-hour:', ...column(() => '')],
    ['state transitions', ...column((_r, a) => fmt(a.transitions))],
    [
      '  states entered: event log / from invocations',
      ...column((_r, a) => `${fmt(a.enteredLog)} / ${fmt(a.enteredDerived)}`),
    ],
    ['  retries', ...column((_r, a) => fmt(a.retries))],
    ['Lambda invocations', ...column((_r, a) => fmt(sum(Object.values(a.invocations))))],
    ...byFunction((a, fn) => a.invocations[fn] ?? 0, 0),
    [
      `Lambda GB-s (at ${setup.rowsPerSecond} rows/s)`,
      ...column((_r, a) => sum(Object.values(a.gbSeconds)).toFixed(1)),
    ],
    ...byFunction((a, fn) => a.gbSeconds[fn] ?? 0, 2),
    ['S3 PUT-tier requests', ...column((_r, a) => fmt(a.s3.tier1))],
    ['S3 GET-tier requests', ...column((_r, a) => fmt(a.s3.tier2))],
    ['S3 DELETE requests (free)', ...column((_r, a) => fmt(a.s3.free))],
    ['Citrix data requests', ...column((r) => fmt(r.dataRequests))],
    ['  Citrix token requests', ...column((r) => fmt(r.tokenRequests))],
    [`per tenant-month (${HOURS_PER_MONTH} h):`, ...column(() => '')],
    ['Step Functions', ...column((_r, a) => usd(a.month.sfn))],
    ['Lambda (GB-s + requests)', ...column((_r, a) => usd(a.month.lambda))],
    ['S3 requests', ...column((_r, a) => usd(a.month.s3))],
    ['total', ...column((_r, a) => usd(a.month.total))],
    [
      `× W=${BASELINE}`,
      ...column((_r, a) => (base ? `${(a.month.total / base.month.total).toFixed(2)}×` : '')),
    ],
  ];
  console.log('');
  console.log(
    table(rows, [
      '',
      ...runs.map((r) =>
        r.windowMinutes === BASELINE ? `W=${BASELINE} (baseline)` : `W=${r.windowMinutes}`,
      ),
    ]),
  );
  console.log(
    `\nFreshness, from the schedule and checked against the runs: a window [s, e) is due at e + ${SETTLE_MINUTES} min and published by the first execution the schedule starts from then, at p; a row changed at c in [s, e) reaches S3 p − c after its change, between p − e and p − s, plus that execution's time to its Commit. The longest execution at real speed is its invocations' modelled durations (below) one after another; Step Functions' own time between states not included.`,
  );
  console.log(
    `State transitions: states entered, counted from aws-local-stepfunctions' event log (StateEntered) and from what the handler invocations imply (each Task one successful invocation, "More pages?" once per FetchPages, "Entity fetched" once per entity-window, 3 states per tenant and per window, 6 at the top), the higher of the two (the log can drop the last events of a map iteration), plus retries.`,
  );
  console.log(
    `Lambda GB-s: each invocation bills its measured wall time, each Citrix request's ${setup.latencyMs} ms at the stand-in replaced by ${fmt(realMs)} ms (the real-speed bench's ${setup.serverPageSize}-row page at ${setup.rowsPerSecond} rows/s: every request its own latency, however few rows it brings), plus its CPU time × (1769/M − 1) for its memory M, rounded up to the ms; the other functions' wall time is against s3rver on this machine (real S3 answers slower). Cold starts not counted (not measured here; the real-speed bench prints what loading the bundles costs). Prices: Step Functions $${(SFN_PER_TRANSITION * 1000).toFixed(3)} per 1,000 transitions, Lambda arm64 $${LAMBDA_PER_GB_SECOND} per GB-s + $${(LAMBDA_PER_REQUEST * 1e6).toFixed(2)} per 1M requests, S3 $${(S3_TIER1 * 1000).toFixed(4)} per 1,000 PUT-tier and $${(S3_TIER2 * 1000).toFixed(4)} per 1,000 GET-tier requests (us-east-1, no free tier; Secrets Manager, CloudWatch and storage not included).`,
  );
  console.log(`Windows bench time: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

/** The command line's options, or the usage. */
function parseOptions(): WindowsOptions | string {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '5,15,60' },
      'latency-ms': { type: 'string', default: '10' },
      rows: { type: 'string', default: '1000' },
      'server-page-size': { type: 'string', default: '100' },
      'rows-per-second': { type: 'string', default: '35' },
    },
  });
  const options = {
    minutes: values.minutes.split(',').map(Number),
    latencyMs: Number(values['latency-ms']),
    rows: Number(values.rows),
    serverPageSize: Number(values['server-page-size']),
    rowsPerSecond: Number(values['rows-per-second']),
  };
  if (
    !options.minutes.every((m) => (WINDOW_SIZES as readonly number[]).includes(m)) ||
    !(options.latencyMs >= 0) ||
    !(Number.isInteger(options.rows) && options.rows >= 1) ||
    !(
      Number.isInteger(options.serverPageSize) &&
      options.serverPageSize >= 1 &&
      options.serverPageSize <= PAGE_SIZE
    ) ||
    !(options.rowsPerSecond > 0)
  ) {
    return `Usage: npx tsx local/bench/windows.ts [--minutes 5,15,60 (of ${WINDOW_SIZES.join(', ')}; 60 always runs, the baseline)] [--latency-ms 10] [--rows 1000] [--server-page-size 100] [--rows-per-second 35]`;
  }
  return options;
}

runIfMain(import.meta.url, 'Windows bench', parseOptions, runWindowsBench);
