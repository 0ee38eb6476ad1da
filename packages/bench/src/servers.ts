/**
 * What the benches of a scheduled run share (tenants.ts, real-speed.ts): a Citrix stand-in, a fresh s3rver in
 * a temporary folder behind a counting proxy (s3-counter.ts), and the environment of a child that collects
 * one hour on the schedule's clock. Everything is stopped and removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Standin, type StandinOptions, startStandin } from '@citrix-monitor/testkit/citrix-standin';
import { startLocalS3 } from '@citrix-monitor/testkit/s3';
import { s3ClientFromEnv } from '../../../functions/adapters/collectors.ts';
import { s3Store } from '../../../functions/adapters/s3-store.ts';
import type { ObjectStore } from '../../../functions/domain/ports.ts';
import { rowsOnDisk } from './result.ts';
import { type S3Counter, startS3Counter } from './s3-counter.ts';

export const HOUR_MS = 3_600_000;
export const ENTITIES = ['Machines', 'Sessions', 'Connections', 'Applications', 'Users'];
export const BUCKET = 'citrix-monitor-bench';
export const PREFIX = 'citrix_monitor';
export const WORK_PREFIX = `collector-work/${PREFIX}`;
/** The environment's one tenant's state file (no tenant list). */
export const STATE_KEY = `${WORK_PREFIX}/state.json`;
/** PAGE_SIZE as deployed (serverless.yml params.pageSize). */
export const PAGE_SIZE = 1000;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** An hour as the collector names it, `2026-11-24T10:00:00Z`. */
export const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 13)}:00:00Z`;

/** A state file whose last published hour is the one before `hour`: a scheduled run collects `hour`. */
export const stateBefore = (hour: number) => JSON.stringify({ last_hour_utc: iso(hour - HOUR_MS) });

/** Puts the environment's one tenant's state file: a scheduled run collects `hour`. */
export const putStateBefore = (store: ObjectStore, hour: number) =>
  store.put(STATE_KEY, stateBefore(hour), 'application/json');

/** The published objects and rows s3rver holds in `s3Dir`, of one listed tenant or (no id) of them all. */
export const publishedOnDisk = (s3Dir: string, tenantId = '') =>
  rowsOnDisk(join(s3Dir, BUCKET, PREFIX, tenantId));

/** The tenant list of a bench with many tenants, in the work bucket (TENANTS_KEY's default). */
export const LIST_KEY = `${WORK_PREFIX}/tenants.json`;

/** `n` listed tenants' ids: t01, t02, … (t001, … from 100 tenants on). */
export const tenantIds = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `t${String(i + 1).padStart(Math.max(2, String(n).length), '0')}`);

/** A listed tenant as the stand-in serves it: a customer of its own, its own client and secret, its own data. */
export const standinTenant = (id: string, index: number) => ({
  customerId: `${id}cust`,
  clientId: `${id}-client`,
  clientSecret: `${id}-secret`,
  seed: index + 1,
});

/**
 * Writes the tenant list of `ids` and each tenant's state file, its last published hour the one before
 * `hour` (a scheduled run collects `hour`); returns the collector's environment for their secrets.
 */
export async function putTenants(
  store: ObjectStore,
  ids: readonly string[],
  hour: number,
): Promise<Record<string, string>> {
  const secretEnv = (id: string) => `${id.toUpperCase()}_SECRET`;
  const list = ids.map((id) => ({
    id,
    customerId: `${id}cust`,
    clientId: `${id}-client`,
    clientSecretEnv: secretEnv(id),
  }));
  await store.put(LIST_KEY, JSON.stringify({ tenants: list }), 'application/json');
  for (const id of ids) {
    await store.put(`${WORK_PREFIX}/tenants/${id}/state.json`, stateBefore(hour), 'application/json');
  }
  return Object.fromEntries(ids.map((id) => [secretEnv(id), `${id}-secret`]));
}

export interface BenchServers {
  readonly standin: Standin;
  /** s3rver's folder. */
  readonly dir: string;
  /** The bucket, straight to s3rver: what is written here for the setup is not counted. */
  readonly store: ObjectStore;
  /** Counts what the child sends; reset it once the setup is written. */
  readonly counter: S3Counter;
  /**
   * The child's environment: PATH and HOME only of this process's, S3 through the counter, the bucket and
   * prefix, the stand-in's API_BASE, the five entities, and BENCH_CLOCK_MS, the schedule's clock.
   */
  readonly env: Record<string, string>;
}

/**
 * Throws unless the stand-in served one Citrix call at a time and throttled none, and the child ran one
 * handler invocation at a time (so each invocation's CPU is its own). `what` heads the message.
 */
export function checkOneAtATime(standin: Standin, childMaxInFlight: number, what = ''): void {
  const { stats } = standin;
  if (stats.maxInFlight > 1 || stats.throttled > 0 || childMaxInFlight !== 1) {
    throw new Error(
      `${what}${stats.maxInFlight} Citrix calls at once, ${stats.throttled} answered 429, ${childMaxInFlight} handler invocations at once: not one at a time`,
    );
  }
}

/** The servers of a run: the stand-in's options, the hour collected and where s3rver keeps its files. */
export interface ServersSetup {
  /** The Citrix stand-in's options. */
  readonly standinOptions: StandinOptions;
  /** The hour the run collects, its start in epoch ms: the schedule's clock is set from it. */
  readonly hour: number;
  /** The folder s3rver's temporary folder is made in (default the system's temporary folder). */
  readonly under?: string;
}

/**
 * Starts the servers for a run that collects `hour`, gives them to `run`, then stops and removes them.
 * `under`: the folder s3rver's temporary folder is made in (default the system's temporary folder).
 */
export async function withServers<T>(
  { standinOptions, hour, under = tmpdir() }: ServersSetup,
  run: (servers: BenchServers) => Promise<T>,
): Promise<T> {
  const standin = await startStandin(standinOptions);
  const dir = mkdtempSync(join(under, 'citrix-bench-'));
  const s3 = await startLocalS3(dir, BUCKET);
  const counter = await startS3Counter(s3.endpoint);
  try {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? ROOT,
      ...s3.env,
      AWS_ENDPOINT_URL_S3: counter.endpoint,
      S3_BUCKET: BUCKET,
      S3_PREFIX: PREFIX,
      API_BASE: standin.url,
      ENTITIES: ENTITIES.join(','),
      // The schedule's clock (cron 20 * * * ?): 20 past the hour after the hour to collect.
      BENCH_CLOCK_MS: String(hour + HOUR_MS + 20 * 60_000),
    };
    return await run({ standin, dir, store: s3Store(s3ClientFromEnv(s3.env), BUCKET), counter, env });
  } finally {
    await counter.stop();
    await s3.stop();
    await standin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
