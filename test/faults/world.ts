/**
 * A small world for the exactly-once tests: the Citrix stand-in, a bucket on Ceph RGW (which, unlike
 * s3rver, enforces S3 conditional writes), a clock, a SecOps feed that ingests and may delete what is
 * published, and an S3 view per execution that can crash the way a killed Lambda or process does.
 * Nothing here re-implements the collector: executions run the real ASL with the real handlers.
 */
import {
  CreateBucketCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { collectorFromEnv } from '../../functions/adapters/lambda.ts';
import { s3ClientFromEnv, s3Store } from '../../functions/adapters/s3-store.ts';
import { silentTelemetry } from '../../functions/adapters/telemetry.ts';
import type { Collector } from '../../functions/domain/collector.ts';
import type { ObjectStore } from '../../functions/domain/ports.ts';
import { type Standin, startStandin } from '../../local/citrix-standin/index.ts';
import { type ExecutionOutcome, type RunOptions, runExecution } from '../../local/workflow.ts';

export const HOUR = 3_600_000;
export const PREFIX = 'citrix_monitor/';
export const STATE_KEY = 'collector-work/citrix_monitor/state.json';
const KEY: Record<string, string> = { Sessions: 'SessionKey' };
/** Rows the stand-in changes after each page it serves, among those it just delivered. */
const CHANGED_ROWS_PER_PAGE = 1;
const rowKey = (entity: string, row: Record<string, unknown>) => String(row[KEY[entity] ?? 'Id']);
export const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 13)}:00:00Z`;

/** The S3 endpoint with conditional writes, started by local/ceph/start-rgw.sh (npm run test:faults). */
export function rgwEnv(): Record<string, string> {
  const { RGW_ENDPOINT, RGW_ACCESS_KEY, RGW_SECRET_KEY } = process.env;
  if (!RGW_ENDPOINT || !RGW_ACCESS_KEY || !RGW_SECRET_KEY) {
    throw new Error(
      'RGW_ENDPOINT, RGW_ACCESS_KEY and RGW_SECRET_KEY are not set: run these tests with `npm run test:faults`, which starts Ceph RGW (local/ceph/start-rgw.sh).',
    );
  }
  return {
    AWS_ENDPOINT_URL_S3: RGW_ENDPOINT,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: RGW_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: RGW_SECRET_KEY,
  };
}

/** Where an execution's S3 view crashes: at its n-th write, before or after the write lands. */
export interface CrashPlan {
  readonly atWrite: number;
  readonly when: 'before' | 'after';
  /** `process`: the whole execution dies (killed process); `lambda`: one invocation dies and Step Functions retries it. */
  readonly kind: 'process' | 'lambda';
}

class Crash extends Error {
  override readonly name = 'Sandbox.Timedout';
}

export interface Tally {
  trials: number;
  executions: number;
  faults: Record<string, number>;
  rowsExpected: number;
  rowsLost: number;
  rowsDuplicated: number;
  keysRewritten: number;
  stateBackwards: number;
}

export function newTally(): Tally {
  return {
    trials: 0,
    executions: 0,
    faults: {},
    rowsExpected: 0,
    rowsLost: 0,
    rowsDuplicated: 0,
    keysRewritten: 0,
    stateBackwards: 0,
  };
}

export class World {
  clock: number;
  private executions = 0;
  /** Successful writes per published key, across every execution (a second one is a rewrite). */
  readonly publishedWrites = new Map<string, number>();
  /** Every value the state file took, in order. */
  readonly stateHistory: string[] = [];
  /** What the feed ingested: per key and ETag version, the rows (SecOps ingests an object again only if it changed). */
  private readonly ingested = new Map<string, Record<string, unknown>[]>();

  readonly standin: Standin;
  /** The feed's bucket (versioned). */
  readonly store: ObjectStore;
  /** The work bucket: state, commit records, staging. */
  readonly work: ObjectStore;
  readonly env: Record<string, string>;
  readonly tally: Tally;
  private readonly client: S3Client;

  private constructor(
    standin: Standin,
    store: ObjectStore,
    work: ObjectStore,
    env: Record<string, string>,
    tally: Tally,
    clock: number,
    client: S3Client,
  ) {
    this.standin = standin;
    this.store = store;
    this.work = work;
    this.env = env;
    this.tally = tally;
    this.clock = clock;
    this.client = client;
  }

  /** A fresh bucket (versioned, as the deployed stack creates it) and a fresh stand-in. */
  static async create(options: {
    name: string;
    tally: Tally;
    clock: number;
    rowsPerHour: number;
    serverPageSize: number;
    seed: number;
    entities: string[];
    versioned?: boolean;
  }): Promise<World> {
    const env = {
      ...rgwEnv(),
      S3_BUCKET: options.name,
      // Ceph RGW 16 stops enforcing conditional writes on a versioned bucket, so the state, the commit
      // records and the staging area live in an unversioned bucket of their own (WORK_BUCKET), as they
      // may in a deployment; the feed's bucket is versioned, as the deployed stack creates it.
      WORK_BUCKET: `${options.name}-work`,
      ENTITIES: options.entities.join(','),
      MAX_CONCURRENCY: '2',
    };
    const client: S3Client = s3ClientFromEnv(env);
    await client.send(new CreateBucketCommand({ Bucket: options.name }));
    await client.send(new CreateBucketCommand({ Bucket: `${options.name}-work` }));
    if (options.versioned !== false) {
      await client.send(
        new PutBucketVersioningCommand({
          Bucket: options.name,
          VersioningConfiguration: { Status: 'Enabled' },
        }),
      );
    }
    let world: World | undefined;
    const standin = await startStandin({
      rowsPerHour: options.rowsPerHour,
      serverPageSize: options.serverPageSize,
      seed: options.seed,
      dataFromMs: options.clock - 100 * HOUR,
      dataToMs: options.clock + 2 * HOUR,
      // Live data: delivered rows change while their hour is paged, their ModifiedDate moving to this
      // world's now (an hour that is not due yet), as on the real Monitor Service.
      churn: { entities: options.entities, rowsPerPage: CHANGED_ROWS_PER_PAGE, seed: options.seed },
      now: () => world?.clock ?? options.clock,
    });
    Object.assign(env, {
      ...standin.collectorEnv(),
    });
    world = new World(
      standin,
      s3Store(client, options.name),
      s3Store(client, `${options.name}-work`),
      env,
      options.tally,
      options.clock,
      client,
    );
    return world;
  }

  fault(kind: string): void {
    this.tally.faults[kind] = (this.tally.faults[kind] ?? 0) + 1;
  }

  /** The newest hour a scheduled run may collect at the current clock (LOOKBACK_MINUTES=75). */
  newestDue(): number {
    return Math.floor((this.clock - 75 * 60_000) / HOUR) * HOUR;
  }

  async setState(hour: number): Promise<void> {
    await this.work.put(STATE_KEY, JSON.stringify({ last_hour_utc: iso(hour) }), 'application/json');
    this.stateHistory.push(iso(hour));
  }

  async state(): Promise<string | null> {
    const found = await this.work.get(STATE_KEY);
    return found ? (JSON.parse(found.body.toString()) as { last_hour_utc: string }).last_hour_utc : null;
  }

  /** One execution of the real state machine, its S3 view crashing as `crash` says. */
  async run(options: RunOptions & { crash?: CrashPlan } = {}): Promise<ExecutionOutcome> {
    this.executions += 1;
    this.tally.executions += 1;
    const kill = new AbortController();
    const process = this.process(options.crash, kill);
    const collector: Collector = {
      ...collectorFromEnv(this.env, silentTelemetry, false, { backoffMs: 2, maxAttempts: 3 }),
      feed: process.view(this.store),
      work: process.view(this.work),
      now: () => this.clock,
    };
    if (options.crash) this.fault(`crash ${options.crash.kind} ${options.crash.when} write`);
    return runExecution(collector, {
      executionName: options.executionName ?? `exec-${this.executions}`,
      retryIntervalMs: 1,
      kill: kill.signal,
      ...options,
    });
  }

  /** The feed: ingests every published object it has not seen (or that changed), then maybe deletes it. */
  async feed(deleteAfterTransfer: boolean): Promise<void> {
    for (const key of await this.store.list(PREFIX)) {
      const found = await this.store.get(key);
      if (!found) continue;
      const version = `${key} ${found.etag}`;
      if (!this.ingested.has(version)) {
        const rows = found.body.toString('utf8').split('\n').filter(Boolean);
        this.ingested.set(
          version,
          rows.map((line) => JSON.parse(line) as Record<string, unknown>),
        );
      }
      if (deleteAfterTransfer) await this.store.deleteAll([key]);
    }
  }

  /**
   * Ends a trial: the feed takes what is left, then every due hour up to the state is compared row by
   * row with the stand-in's data as it is now. A row that changed while its hour was paged has left that
   * hour (its ModifiedDate moved on): it is expected in its new hour, and in the old one at most once.
   * Returns a description of what went wrong, empty when nothing did.
   */
  async check(fromHour: number, entities: string[], toHour?: number): Promise<string[]> {
    await this.feed(false);
    const changed = this.standin.changes().length;
    if (changed > 0)
      this.tally.faults['Citrix rows changed under the pager'] =
        (this.tally.faults['Citrix rows changed under the pager'] ?? 0) + changed;
    const problems: string[] = [];
    const state = await this.state();
    const last = toHour ?? (state ? Date.parse(state) : fromHour - HOUR);
    const got = new Map<string, Map<string, number>>();
    for (const [version, rows] of this.ingested) {
      const m = /^citrix_monitor\/(\w+)\/year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})\//.exec(
        version,
      );
      if (!m) {
        problems.push(`unexpected object under the published prefix: ${version}`);
        continue;
      }
      const [, entity = '', y, mo, d, h] = m;
      const slot = `${entity} ${y}-${mo}-${d}T${h}`;
      const counts = got.get(slot) ?? new Map<string, number>();
      for (const row of rows) counts.set(rowKey(entity, row), (counts.get(rowKey(entity, row)) ?? 0) + 1);
      got.set(slot, counts);
    }
    for (let hour = fromHour; hour <= last; hour += HOUR) {
      for (const entity of entities) {
        const expected = this.standin.rowsFor(entity, hour, hour + HOUR).map((r) => rowKey(entity, r));
        const counts = got.get(`${entity} ${iso(hour).slice(0, 13)}`) ?? new Map<string, number>();
        this.tally.rowsExpected += expected.length;
        const lost = expected.filter((k) => !counts.has(k)).length;
        const duplicated = [...counts.values()].reduce((n, c) => n + c - 1, 0);
        this.tally.rowsLost += lost;
        this.tally.rowsDuplicated += duplicated;
        if (lost || duplicated)
          problems.push(`${entity} ${iso(hour)}: ${lost} rows lost, ${duplicated} duplicated`);
      }
    }
    // Two witnesses of a rewrite: the writes this world saw, and the bucket's own version history.
    const versions = new Map<string, number>();
    let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
    for (;;) {
      const page = await this.client.send(
        new ListObjectVersionsCommand({ Bucket: this.store.bucket, Prefix: PREFIX, ...marker }),
      );
      for (const v of page.Versions ?? []) if (v.Key) versions.set(v.Key, (versions.get(v.Key) ?? 0) + 1);
      if (!page.IsTruncated) break;
      marker = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
    }
    const rewritten = new Set([
      ...[...this.publishedWrites].filter(([, n]) => n > 1).map(([k]) => k),
      ...[...versions].filter(([, n]) => n > 1).map(([k]) => k),
    ]).size;
    this.tally.keysRewritten += rewritten;
    if (rewritten) problems.push(`${rewritten} published keys written more than once`);
    let backwards = 0;
    for (let i = 1; i < this.stateHistory.length; i++) {
      if ((this.stateHistory[i] ?? '') < (this.stateHistory[i - 1] ?? '')) backwards++;
    }
    this.tally.stateBackwards += backwards;
    if (backwards)
      problems.push(`the state moved backwards ${backwards} times: ${this.stateHistory.join(' → ')}`);
    return problems;
  }

  async stop(): Promise<void> {
    await this.standin.stop();
  }

  /**
   * S3 as one execution sees it: records published writes and state values, and crashes at the
   * planned write (counted across both buckets). After a `process` crash every later call fails too,
   * as nothing of a killed process runs on; a `lambda` crash fails that one invocation, which Step
   * Functions retries.
   */
  private process(crash: CrashPlan | undefined, kill: AbortController) {
    let writes = 0;
    let dead = false;
    const guard = () => {
      if (dead) throw new Crash('the process was killed');
    };
    const read = async <T>(action: () => Promise<T>): Promise<T> => {
      guard();
      return action();
    };
    const write = async <T>(land: () => Promise<T>, record: (result: T) => void): Promise<T> => {
      guard();
      writes += 1;
      const crashing = crash !== undefined && writes === crash.atWrite;
      const die = () => {
        if (crash?.kind === 'process') {
          dead = true;
          kill.abort();
        }
        throw new Crash(`simulated crash ${crash?.when} write ${writes}`);
      };
      if (crashing && crash.when === 'before') die();
      const result = await land();
      record(result);
      if (crashing) die();
      return result;
    };
    return {
      view: (inner: ObjectStore): ObjectStore => ({
        bucket: inner.bucket,
        get: (key) => read(() => inner.get(key)),
        list: (prefix) => read(() => inner.list(prefix)),
        everWritten: (key) => read(() => inner.everWritten(key)),
        put: (key, body, type) =>
          write(
            () => inner.put(key, body, type),
            () => {},
          ),
        deleteAll: (keys) =>
          write(
            () => inner.deleteAll(keys),
            () => {},
          ),
        putIf: (key, body, condition) =>
          write(
            () => inner.putIf(key, body, condition),
            (outcome) => {
              if (!outcome.written) return;
              if (inner === this.store)
                this.publishedWrites.set(key, (this.publishedWrites.get(key) ?? 0) + 1);
              if (key === STATE_KEY)
                this.stateHistory.push(
                  (JSON.parse(body.toString()) as { last_hour_utc: string }).last_hour_utc,
                );
            },
          ),
        copyIfAbsent: (fromBucket, from, to) =>
          write(
            () => inner.copyIfAbsent(fromBucket, from, to),
            (outcome) => {
              if (outcome === 'written')
                this.publishedWrites.set(to, (this.publishedWrites.get(to) ?? 0) + 1);
            },
          ),
      }),
    };
  }
}
