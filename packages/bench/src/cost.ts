/**
 * What the benches' cost figures are made of (tenants.ts, real-speed.ts, windows.ts): us-east-1 list prices,
 * the function that serves each Task state and its memory in serverless.yml, S3's request tiers, what an
 * Express child is billed, and the states an execution enters as its handler invocations imply them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ExecutionOutcome, TASKS } from '@citrix-monitor/testkit/workflow';
import type { PlannedWindow } from '../../../functions/domain/collector.ts';
import { REQUEST_KINDS, type S3Requests } from './s3-counter.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

// Prices, us-east-1, from the AWS pricing pages (no free tier):
// https://aws.amazon.com/step-functions/pricing/ : Standard workflows, $0.025 per 1,000 state transitions,
// retries included. https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html
// ("Transitions in Distributed Map"): a Distributed Map is charged one state transition for each child
// workflow execution it starts (an inline Map's iterations are not), on top of the transitions of the
// children themselves when they are Standard executions.
export const SFN_PER_TRANSITION = 0.025 / 1000;
// https://aws.amazon.com/step-functions/pricing/ : Express workflows, $1.00 per 1M requests (a request each
// time a workflow starts executing: each Express child is one) and, for duration, $0.06000 per GB-hour for
// the first 1,000 GB-hours a month ($0.00001667 per GB-second; $0.03 and $0.01642 per GB-hour above). Duration
// runs from the start of the execution to its end, rounded up to the nearest 100 ms; memory is billed in
// 64-MB chunks.
export const EXPRESS_PER_REQUEST = 1 / 1_000_000;
export const EXPRESS_PER_GB_SECOND = 0.00001667;
export const EXPRESS_DURATION_STEP_MS = 100;
export const EXPRESS_MEMORY_CHUNK_MB = 64;
/**
 * The same page's memory estimate (its pricing example): "Workflow memory utilized = 50 MB + state machine
 * definition size + execution data size x Number of Parallel or Map Steps", billed in 64-MB chunks.
 */
export const EXPRESS_BASE_MB = 50;

/** An Express child's billed memory, MB, by the pricing page's estimate, in whole 64-MB chunks. */
export function expressMemoryMB(
  definitionBytes: number,
  dataBytes: number,
  mapOrParallelSteps: number,
): number {
  const mb = EXPRESS_BASE_MB + (definitionBytes + dataBytes * mapOrParallelSteps) / 1_048_576;
  return Math.ceil(mb / EXPRESS_MEMORY_CHUNK_MB) * EXPRESS_MEMORY_CHUNK_MB;
}

/** An Express child's billed GB-s: its duration rounded up to 100 ms, at `memoryMB`. */
export const expressGbSeconds = (durationMs: number, memoryMB: number): number =>
  ((Math.ceil(durationMs / EXPRESS_DURATION_STEP_MS) * EXPRESS_DURATION_STEP_MS) / 1000) * (memoryMB / 1024);
// https://aws.amazon.com/lambda/pricing/ : arm64 $0.0000133334 per GB-second (x86 $0.0000166667; the
// stack is arm64, serverless.yml provider.architecture), and $0.20 per 1M requests.
export const LAMBDA_PER_GB_SECOND = 0.0000133334;
export const LAMBDA_PER_REQUEST = 0.2 / 1_000_000;
// https://aws.amazon.com/s3/pricing/ : S3 Standard, PUT, COPY, POST, LIST requests $0.005 per 1,000;
// GET, SELECT and all other requests $0.0004 per 1,000; DELETE and CANCEL requests are free. A
// DeleteObjects (multi-object delete) is an HTTP POST: priced here with POST, which can only overstate.
export const S3_TIER1 = 0.005 / 1000;
export const S3_TIER2 = 0.0004 / 1000;
/** The prices above, as a sentence of the benches' notes. */
export const PRICES = `Prices: Step Functions Standard $${(SFN_PER_TRANSITION * 1000).toFixed(3)} per 1,000 transitions; Express $${(EXPRESS_PER_REQUEST * 1e6).toFixed(2)} per 1M requests + $${EXPRESS_PER_GB_SECOND} per GB-s (first tier); Lambda arm64 $${LAMBDA_PER_GB_SECOND} per GB-s + $${(LAMBDA_PER_REQUEST * 1e6).toFixed(2)} per 1M requests; S3 $${(S3_TIER1 * 1000).toFixed(4)} per 1,000 PUT-tier and $${(S3_TIER2 * 1000).toFixed(4)} per 1,000 GET-tier requests (us-east-1, no free tier; Secrets Manager, CloudWatch and storage not included).`;
/**
 * Lambda gives CPU in proportion to memory: "at 1,769 MB, a function has the equivalent of one vCPU"
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
 */
export const ONE_VCPU_MB = 1769;
/** How much longer CPU work takes at `memoryMB` than on one vCPU, less the one: 0 from 1,769 MB up. */
export const stretch = (memoryMB: number): number => Math.max(0, ONE_VCPU_MB / memoryMB - 1);
/** V8's heap limit under Lambda's Node.js runtime: --max-old-space-size of memory − memory/10. */
export const heapFor = (memoryMB: number): number => memoryMB - Math.floor(memoryMB / 10);
/** Hours in a month, as AWS's pricing examples count them. */
export const HOURS_PER_MONTH = 730;

export type TaskState = keyof ExecutionOutcome['invocations'];
export const TASK_STATES: TaskState[] = [
  'Tenants',
  'Plan',
  'FetchPages',
  'Commit',
  'Failed',
  'HandOn',
  'Report',
];
/** Task state → the serverless.yml function that serves it. */
export const FUNCTION: Record<TaskState, string> = TASKS;

/** The serverless.yml text. */
export const serverlessYml = (): string => readFileSync(join(ROOT, 'serverless.yml'), 'utf8');

/** A function of serverless.yml: its memory in MB (its own memorySize, else the provider's) and handler. */
export interface FunctionSettings {
  readonly memoryMB: number;
  /** `functions/fetch-page.handler`: the module path, then the export. */
  readonly handler: string;
}

/** Each function's settings, from serverless.yml. */
export function functionSettings(): Record<string, FunctionSettings> {
  const lines = serverlessYml().split('\n');
  const found: Record<string, { memoryMB?: number; handler?: string }> = {};
  let section = '';
  let fn = '';
  let providerDefault = 0;
  for (const line of lines) {
    const top = /^(\w+):/.exec(line);
    if (top?.[1]) {
      section = top[1];
      fn = '';
      continue;
    }
    const memory = /^\s+memorySize:\s*(\d+)/.exec(line);
    if (section === 'provider' && memory?.[1] && /^ {2}\S/.test(line)) providerDefault = Number(memory[1]);
    if (section !== 'functions') continue;
    const name = /^ {2}(\w+):\s*$/.exec(line);
    const handler = /^ {4}handler:\s*(\S+)/.exec(line);
    if (name?.[1]) fn = name[1];
    else if (fn && memory?.[1]) found[fn] = { ...found[fn], memoryMB: Number(memory[1]) };
    else if (fn && handler?.[1]) found[fn] = { ...found[fn], handler: handler[1] };
  }
  if (!providerDefault) throw new Error('serverless.yml: no provider.memorySize');
  const out: Record<string, FunctionSettings> = {};
  for (const f of Object.values(FUNCTION)) {
    const handler = found[f]?.handler;
    if (!handler) throw new Error(`serverless.yml: no handler for function ${f}`);
    out[f] = { memoryMB: found[f]?.memoryMB ?? providerDefault, handler };
  }
  return out;
}

/** Each function's memory in MB, from serverless.yml (its own memorySize, else the provider's). */
export function memorySizes(): Record<string, number> {
  return Object.fromEntries(Object.entries(functionSettings()).map(([f, s]) => [f, s.memoryMB]));
}

/** The deployed functions' NODE_OPTIONS (serverless.yml, provider.environment). */
export function deployedNodeOptions(): string {
  return /^ {4}NODE_OPTIONS:\s*(.+)$/m.exec(serverlessYml())?.[1]?.trim() ?? '';
}

/** Requests that reached the S3 server less those it failed with 5xx (the SDK's retries of its own faults). */
export function billable(counts: S3Requests, serverErrors: S3Requests): S3Requests {
  const out = { ...counts };
  for (const kind of REQUEST_KINDS) out[kind] -= serverErrors[kind];
  return out;
}

/** Requests by price tier: PUT, COPY, POST, LIST (and DeleteObjects); GET and the rest; free (DELETE). */
export function s3Tiers(s3: S3Requests): { tier1: number; tier2: number; free: number; dollars: number } {
  const tier1 = s3.put + s3.copy + s3.post + s3.list + s3.deleteObjects;
  const tier2 = s3.get + s3.head + s3.other;
  return { tier1, tier2, free: s3.delete, dollars: tier1 * S3_TIER1 + tier2 * S3_TIER2 };
}

/** One tenant as its Plan saw it: the windows planned and the entities, and whether the tenant failed. */
export interface PlannedTenant {
  readonly windows: readonly PlannedWindow[];
  readonly entities: readonly string[];
  readonly failed: boolean;
  /** The name of the Plan state that planned it: "Plan" (a Standard child) or "Plan (on time)". */
  readonly plan?: string;
  /** The type of the child execution that planned it. */
  readonly execution?: 'PARENT' | 'STANDARD' | 'EXPRESS';
  /** The tenant's id; none for the environment's one tenant. */
  readonly tenant?: string;
}

/**
 * What the handler invocations and the map iterations imply each state was entered, by state name, in a run
 * whose tenants all succeed: each Task entry one successful invocation of that state (`ok`, by state name);
 * at the top, "Any on time?" and "Any behind?" once per Tenants, "Collect on time" once per HandOn, "Collect
 * tenants" once if a tenant was behind (and again for each Report pass after the first), Collected, "Again?"
 * once per Report; in each child (its states suffixed as its Plan is), Tenant once, Windows once per Plan,
 * "Already published?" once per window, "Nothing to fetch" per window already published, Entities per other
 * window, "More pages?" once per FetchPages, "Entity fetched" once per entity-window.
 */
export function derivedEntered(
  ok: (stateName: string) => number,
  tenants: readonly PlannedTenant[],
  succeeded: boolean,
): { entered: Record<string, number>; iterations: number } {
  const entered: Record<string, number> = {};
  const add = (name: string, n: number) => {
    if (n > 0) entered[name] = (entered[name] ?? 0) + n;
  };
  const passes = ok('Report');
  let behind = 0;
  let iterations = 0;
  for (const t of tenants) {
    const suffix = (t.plan ?? 'Plan').slice('Plan'.length);
    const windows = t.windows.length;
    const publishedBefore = t.windows.filter((w) => w.published).length;
    const entityWindows = (windows - publishedBefore) * t.entities.length;
    if (!suffix) behind += 1;
    add(`Tenant${suffix}`, 1);
    add(`Windows${suffix}`, 1);
    add(`Already published?${suffix}`, windows);
    add(`Nothing to fetch${suffix}`, publishedBefore);
    add(`Entities${suffix}`, windows - publishedBefore);
    add(`Entity fetched${suffix}`, entityWindows);
    iterations += windows + entityWindows;
  }
  const tasks = [...new Set(tenants.map((t) => (t.plan ?? 'Plan').slice('Plan'.length)))].flatMap((suffix) =>
    ['Plan', 'FetchPages', 'Commit', 'Failed'].map((task) => `${task}${suffix}`),
  );
  for (const name of ['Tenants', 'HandOn', 'Report', ...tasks]) add(name, ok(name));
  for (const name of Object.keys(entered).filter((n) => n.startsWith('FetchPages'))) {
    add(`More pages?${name.slice('FetchPages'.length)}`, ok(name));
  }
  add('Any on time?', ok('Tenants'));
  add('Collect on time', ok('HandOn'));
  add('Any behind?', ok('Tenants'));
  add('Collect tenants', (behind > 0 ? 1 : 0) + Math.max(0, passes - 1));
  add('Collected', passes);
  add('Again?', passes);
  add('Done', succeeded ? 1 : 0);
  return { entered, iterations };
}

export const sum = (xs: Iterable<number>): number => {
  let n = 0;
  for (const x of xs) n += x;
  return n;
};

/** A text table: the first column left-aligned, the others right-aligned. */
export function table(rows: Array<[string, ...string[]]>, head: string[]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
