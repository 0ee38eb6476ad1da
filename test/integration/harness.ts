import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type Standin, type StandinOptions, startStandin } from '@citrix-monitor/testkit/citrix-standin';
import { startLocalS3 } from '@citrix-monitor/testkit/s3';
import { s3ClientFromEnv } from '../../functions/adapters/collectors.ts';
import { collectorFromEnv } from '../../functions/adapters/lambda.ts';
import { s3Store } from '../../functions/adapters/s3-store.ts';
import { silentTelemetry } from '../../functions/adapters/telemetry.ts';
import type { Collector } from '../../functions/domain/collector.ts';
import type { ObjectStore, Telemetry } from '../../functions/domain/ports.ts';

export { HOUR, iso, pastHour } from '../fixtures/time.ts';
export const BUCKET = 'collector-test';
export const ENTITIES = ['Machines', 'Sessions', 'Connections', 'Applications', 'Users'];

/** The key column of each entity's rows, to compare rows by identity. */
const KEY: Record<string, string> = { Sessions: 'SessionKey' };
export const rowKey = (entity: string, row: Record<string, unknown>) => String(row[KEY[entity] ?? 'Id']);

export interface TestEnvironment {
  readonly standin: Standin;
  readonly store: ObjectStore;
  readonly env: Record<string, string>;
  /** A collector as the Lambdas build it, from `env` plus `extra`; fast client backoff for tests. */
  collector(extra?: Record<string, string>, telemetry?: Telemetry): Collector;
  /** Every published object under the prefix: key and parsed rows. */
  published(prefix?: string): Promise<Array<{ key: string; rows: Record<string, unknown>[] }>>;
  stop(): Promise<void>;
}

/** A Citrix Monitor stand-in and a real S3 server (s3rver) on 127.0.0.1, and the collector's environment for them. */
export async function startEnvironment(
  standinOptions: StandinOptions = {},
  extraEnv: Record<string, string> = {},
): Promise<TestEnvironment> {
  const dir = mkdtempSync(join(tmpdir(), 'citrix-collector-it-'));
  const standin = await startStandin(standinOptions);
  const s3 = await startLocalS3(dir, BUCKET);
  const env: Record<string, string> = {
    ...s3.env,
    S3_BUCKET: BUCKET,
    ...standin.collectorEnv(),
    ...extraEnv,
  };
  const store = s3Store(s3ClientFromEnv(env), BUCKET);
  return {
    standin,
    store,
    env,
    collector: (extra = {}, telemetry = silentTelemetry) =>
      collectorFromEnv({ env: { ...env, ...extra }, telemetry, inAws: false, tuning: { backoffMs: 5 } }),
    async published(prefix = 'citrix_monitor/') {
      const keys = await store.list(prefix);
      return Promise.all(
        keys.map(async (key) => {
          const found = await store.get(key);
          const body = key.endsWith('.gz')
            ? gunzipSync(found?.body ?? Buffer.alloc(0))
            : (found?.body ?? Buffer.alloc(0));
          const lines = body.toString('utf8').split('\n').filter(Boolean);
          return { key, rows: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
        }),
      );
    },
    async stop() {
      await s3.stop();
      await standin.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Published rows of one entity-hour, from the layout `{prefix}/{Entity}/year=/month=/day=/hour=/`. */
export function rowsOf(
  objects: Array<{ key: string; rows: Record<string, unknown>[] }>,
  entity: string,
  hourMs: number,
) {
  const d = new Date(hourMs).toISOString();
  const folder = `citrix_monitor/${entity}/year=${d.slice(0, 4)}/month=${d.slice(5, 7)}/day=${d.slice(8, 10)}/hour=${d.slice(11, 13)}/`;
  return objects.filter((o) => o.key.startsWith(folder)).flatMap((o) => o.rows);
}

/**
 * Counts the handler invocations of an execution as they end, so that a test can wait until every
 * invocation a killed execution started has ended: what it had in flight ends before a redrive, as a
 * killed Lambda's work would be gone (here the abandoned handlers run on). Pass `onInvocation` to the run.
 */
export function invocationsEnded() {
  let ended = 0;
  let wake: (() => void) | undefined;
  return {
    onInvocation(): void {
      ended += 1;
      wake?.();
    },
    /** Resolves once as many invocations ended as the outcome's (live) counts say started. */
    async all(outcome: { readonly invocations: Readonly<Record<string, number>> }): Promise<void> {
      const started = () => Object.values(outcome.invocations).reduce((a, b) => a + b, 0);
      while (ended < started())
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
    },
  };
}
