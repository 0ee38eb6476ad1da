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
import { type Standin, startStandin } from '@citrix-monitor/testkit/citrix-standin';
import {
  type ExecutionOutcome,
  type Invocation,
  type RunOptions,
  runExecution,
} from '@citrix-monitor/testkit/workflow';
import { s3ClientFromEnv } from '../../functions/adapters/collectors.ts';
import { collectorFromEnv } from '../../functions/adapters/lambda.ts';
import { s3Store } from '../../functions/adapters/s3-store.ts';
import { silentTelemetry } from '../../functions/adapters/telemetry.ts';
import type { Collector } from '../../functions/domain/collector.ts';
import type { ObjectStore } from '../../functions/domain/ports.ts';

import { HOUR, iso, MINUTE, minute, SETTLE_MINUTES } from '../fixtures/time.ts';

export { HOUR, iso, MINUTE, minute, SETTLE_MINUTES } from '../fixtures/time.ts';
export const PREFIX = 'citrix_monitor/';
export const STATE_KEY = 'collector-work/citrix_monitor/state.json';
const KEY: Record<string, string> = { Sessions: 'SessionKey' };
/** Rows the stand-in changes after each page it serves, among those it just delivered. */
const CHANGED_ROWS_PER_PAGE = 1;
const rowKey = (entity: string, row: Record<string, unknown>) => String(row[KEY[entity] ?? 'Id']);
/** A published object's key: entity, hour folder, and the window stamp of its name (`…T10` or `…T1005`). */
const PUBLISHED =
  /^citrix_monitor\/(\w+)\/year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})\/(\w+?)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})?_\d{5}\.ndjson$/;
/** The first few of a list, for messages. */
const some = (items: string[], n = 10) =>
  items.length > n ? `${items.slice(0, n).join(' ')} …` : items.join(' ');
/** A row version: its key and the time field it was published with (a change moves ModifiedDate on). */
const versionOf = (entity: string, row: Record<string, unknown>) =>
  `${rowKey(entity, row)}@${String(row.ModifiedDate)}`;

/** The S3 endpoint with conditional writes, started by packages/testkit/ceph/start-rgw.sh (npm run test:faults). */
export function rgwEnv(): Record<string, string> {
  const { RGW_ENDPOINT, RGW_ACCESS_KEY, RGW_SECRET_KEY } = process.env;
  if (!RGW_ENDPOINT || !RGW_ACCESS_KEY || !RGW_SECRET_KEY) {
    throw new Error(
      'RGW_ENDPOINT, RGW_ACCESS_KEY and RGW_SECRET_KEY are not set: run these tests with `npm run test:faults`, which starts Ceph RGW (packages/testkit/ceph/start-rgw.sh).',
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
  /** Trials whose world ran with WINDOW_MINUTES=5 (the others with 60). */
  fiveMinuteTrials: number;
  executions: number;
  faults: Record<string, number>;
  /** Windows compared row by row with the stand-in's data (each for every entity of its trial). */
  windowsChecked: number;
  rowsExpected: number;
  rowsLost: number;
  rowsDuplicated: number;
  keysRewritten: number;
  stateBackwards: number;
  /** Child executions of each kind the executions started (a tenant on time: Express; behind: Standard). */
  children: { express: number; standard: number };
  /**
   * Tenants an Express child handed on to a Standard child of the same run: `all` of them, and `timeBox`,
   * those whose time box closed mid-window (their Commit kept what was fetched and raised TimeBoxClosed).
   */
  handedOn: { all: number; timeBox: number };
}

export function newTally(): Tally {
  return {
    trials: 0,
    fiveMinuteTrials: 0,
    executions: 0,
    faults: {},
    windowsChecked: 0,
    rowsExpected: 0,
    rowsLost: 0,
    rowsDuplicated: 0,
    keysRewritten: 0,
    stateBackwards: 0,
    children: { express: 0, standard: 0 },
    handedOn: { all: 0, timeBox: 0 },
  };
}

export class World {
  clock: number;
  private executions = 0;
  /** Successful writes per published key, across every execution (a second one is a rewrite). */
  readonly publishedWrites = new Map<string, number>();
  /** Every position the state file took (the end of its last window), in order. */
  readonly stateHistory: number[] = [];
  /** What is wrong with state files the collector wrote (a missing or inconsistent `last_window_end`). */
  private readonly stateProblems: string[] = [];
  /** What the feed ingested: per key and ETag version, the key and its rows (SecOps ingests an object again only if it changed). */
  private readonly ingested = new Map<string, { key: string; rows: Record<string, unknown>[] }>();
  /** WINDOW_MINUTES of every execution in this world. */
  readonly windowMinutes: number;
  /** The runner's limit on an Express child (default AWS's 5 minutes). */
  expressTimeoutMs: number | undefined;
  /** The account's Lambda concurrency the runner enforces (default its own). */
  accountConcurrency: number | undefined;

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
    windowMinutes: number,
  ) {
    this.windowMinutes = windowMinutes;
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
    /** WINDOW_MINUTES (default 60); windows settle SETTLE_MINUTES either way. */
    windowMinutes?: 5 | 60;
    /**
     * A time box that closes mid-window: EXPRESS_FETCH_SECONDS for the Express children (default 240), and
     * the stand-in's latency per request, which makes a window's fetch outlast it.
     */
    timeBox?: { fetchSeconds: number; latencyMs: number };
    /** The account's Lambda concurrency (default the runner's, a new account's 10): 1 throttles. */
    accountConcurrency?: number;
  }): Promise<World> {
    const windowMinutes = options.windowMinutes ?? 60;
    const env = {
      ...rgwEnv(),
      S3_BUCKET: options.name,
      // Ceph RGW 16 stops enforcing conditional writes on a versioned bucket, so the state, the commit
      // records and the staging area live in an unversioned bucket of their own (WORK_BUCKET), as they
      // may in a deployment; the feed's bucket is versioned, as the deployed stack creates it.
      WORK_BUCKET: `${options.name}-work`,
      ENTITIES: options.entities.join(','),
      // Hourly worlds fetch two entities at once, as a deployment may (the stand-in answers the second
      // call of a tenant with 429, sometimes with Retry-After: 1). Five-minute worlds have twelve times the
      // calls: they fetch one at a time, as deployed by default, or their 429 waits would make the suite
      // five times longer; the 429s of hourly worlds and the injected ones keep that path tested.
      MAX_CONCURRENCY: windowMinutes === 60 ? '2' : '1',
      WINDOW_MINUTES: String(windowMinutes),
      SETTLE_MINUTES: String(SETTLE_MINUTES),
      ...(options.timeBox ? { EXPRESS_FETCH_SECONDS: String(options.timeBox.fetchSeconds) } : {}),
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
      ...(options.timeBox ? { latencyMs: options.timeBox.latencyMs } : {}),
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
      windowMinutes,
    );
    // An Express child with a short time box must still end well inside AWS's limit, which the runner
    // enforces here at the box plus the 60 s AWS leaves the last write and the commit, shortened alike.
    if (options.timeBox) world.expressTimeoutMs = (options.timeBox.fetchSeconds + 9) * 1000;
    world.accountConcurrency = options.accountConcurrency;
    return world;
  }

  fault(kind: string): void {
    this.tally.faults[kind] = (this.tally.faults[kind] ?? 0) + 1;
  }

  get windowMs(): number {
    return this.windowMinutes * MINUTE;
  }

  /**
   * The end of the newest window due at the current clock: windows lie on the grid of WINDOW_MINUTES and
   * are due SETTLE_MINUTES after they end. A scheduled run started now publishes up to here.
   */
  dueEnd(): number {
    return Math.floor((this.clock - SETTLE_MINUTES * MINUTE) / this.windowMs) * this.windowMs;
  }

  /** How the collector names the window that starts at `start` in its messages. */
  describeWindow(start: number): string {
    const end = start + this.windowMs;
    return this.windowMinutes === 60
      ? `Hour ${iso(start)}`
      : `Window ${minute(start)}..${minute(end).slice(11)}`;
  }

  /**
   * Sets the state to `end` (the end of the last window published): with `last_window_end`, or, as a
   * file written before windows, with `last_hour_utc` alone (then `end` is on the hour).
   */
  async setState(end: number, legacy: boolean): Promise<void> {
    if (legacy && end % HOUR !== 0)
      throw new Error(`a state file before windows ends on the hour, not ${minute(end)}`);
    const lastHour = iso(Math.floor(end / HOUR) * HOUR - HOUR);
    const file = legacy
      ? { last_hour_utc: lastHour }
      : { last_hour_utc: lastHour, last_window_end: minute(end) };
    await this.work.put(STATE_KEY, JSON.stringify(file), 'application/json');
    this.stateHistory.push(end);
  }

  /** Where the state is: the end of the last window published (`last_window_end`), or null without a state file. */
  async stateEnd(): Promise<number | null> {
    const found = await this.work.get(STATE_KEY);
    return found ? this.positionOf(found.body.toString(), null) : null;
  }

  /**
   * The position a state file gives: `last_window_end`; in a file without it (one the test wrote as before
   * windows) the end of `last_hour_utc`. With `problems`, a file the collector wrote: it must have
   * `last_window_end`, on the window grid, and `last_hour_utc` the last whole hour before it.
   */
  private positionOf(text: string, problems: string[] | null): number {
    const file = JSON.parse(text) as { last_hour_utc?: string; last_window_end?: string };
    const lastHour = Date.parse(file.last_hour_utc ?? '');
    if (file.last_window_end === undefined) {
      problems?.push(`the collector wrote a state without last_window_end: ${text}`);
      return lastHour + HOUR;
    }
    const end = Date.parse(file.last_window_end);
    if (
      problems &&
      (Number.isNaN(end) || end % this.windowMs !== 0 || Math.floor(end / HOUR) * HOUR - HOUR !== lastHour)
    )
      problems.push(
        `the collector wrote a state off the window grid or with last_hour_utc not the last whole hour before last_window_end: ${text}`,
      );
    return end;
  }

  /** One execution of the real state machine, its S3 view crashing as `crash` says. */
  async run(options: RunOptions & { crash?: CrashPlan } = {}): Promise<ExecutionOutcome> {
    this.executions += 1;
    this.tally.executions += 1;
    const kill = new AbortController();
    const process = this.process(options.crash, kill);
    const collector: Collector = {
      ...collectorFromEnv({
        env: this.env,
        telemetry: silentTelemetry,
        inAws: false,
        tuning: { backoffMs: 2, maxAttempts: 3 },
      }),
      feed: process.view(this.store),
      work: process.view(this.work),
      now: () => this.clock,
    };
    if (options.crash) this.fault(`crash ${options.crash.kind} ${options.crash.when} write`);
    const outcome = await runExecution(collector, {
      executionName: options.executionName ?? `exec-${this.executions}`,
      // The plan's clock: the execution starts at the world's now (a redrive keeps its run's start time,
      // which its input carries).
      startTime: this.clock,
      retryIntervalMs: 1,
      kill: kill.signal,
      ...(this.expressTimeoutMs ? { expressTimeoutMs: this.expressTimeoutMs } : {}),
      // Throttled invocations retry about a second apart (the runner's default), long enough for the
      // invocation that holds the one slot to end, as AWS's minutes-long throttling retrier is.
      ...(this.accountConcurrency ? { accountConcurrency: this.accountConcurrency } : {}),
      ...options,
      onInvocation: (invocation) => {
        options.onInvocation?.(invocation);
        this.tallyHandedOn(invocation);
      },
    });
    if (outcome.lambda.throttles > 0)
      this.tally.faults['Lambda invocations throttled'] =
        (this.tally.faults['Lambda invocations throttled'] ?? 0) + outcome.lambda.throttles;
    // The time box closes in the first execution; the recovery runs at full speed.
    if (this.expressTimeoutMs) this.standin.setLatency(0);
    this.tally.children.express += outcome.express.children;
    this.tally.children.standard += outcome.history.children.length;
    return outcome;
  }

  /** Counts the tenants the HandOn step was given, and the Express commits a closed time box stopped. */
  private tallyHandedOn({ state, stateName, event, failed }: Invocation): void {
    if (state === 'HandOn') {
      const { handedOn = [] } = event as { handedOn?: Array<{ h?: number | null }> };
      this.tally.handedOn.all += handedOn.filter((o) => o.h !== undefined).length;
    }
    const { fetched = [] } = event as { fetched?: Array<{ timeBoxClosed?: boolean }> };
    if (stateName === 'Commit (on time)' && failed && fetched.some((f) => f.timeBoxClosed))
      this.tally.handedOn.timeBox += 1;
  }

  /** The feed: ingests every published object it has not seen (or that changed), then maybe deletes it. */
  async feed(deleteAfterTransfer: boolean): Promise<void> {
    for (const key of await this.store.list(PREFIX)) {
      const found = await this.store.get(key);
      if (!found) continue;
      const version = `${key} ${found.etag}`;
      if (!this.ingested.has(version)) {
        const rows = found.body.toString('utf8').split('\n').filter(Boolean);
        this.ingested.set(version, {
          key,
          rows: rows.map((line) => JSON.parse(line) as Record<string, unknown>),
        });
      }
      if (deleteAfterTransfer) await this.store.deleteAll([key]);
    }
  }

  /**
   * Ends a trial: the feed takes what is left, then every window of `ranges` (each [from, to), on the
   * window grid) is compared row by row with the stand-in's data as it is now. Each row is expected in the
   * window its ModifiedDate now lies in (the objects named by that window, in its hour's folder), in its
   * current version; no key may be published twice in a window, and no row version in two windows. A row
   * that changed while its window was paged has left that window (its ModifiedDate moved on to the world's
   * now, a window not due yet): it is expected in its new window, and in the old one at most once. Nothing
   * may be published outside the windows checked. Returns what went wrong, empty when nothing did.
   */
  async check(ranges: ReadonlyArray<readonly [number, number]>, entities: string[]): Promise<string[]> {
    await this.feed(false);
    const changed = this.standin.changes().length;
    if (changed > 0)
      this.tally.faults['Citrix rows changed under the pager'] =
        (this.tally.faults['Citrix rows changed under the pager'] ?? 0) + changed;
    const problems: string[] = [];
    const W = this.windowMs;
    // The rows of each window, by entity and window start, from the name of every object the feed took.
    const got = new Map<string, Record<string, unknown>[]>();
    const windowsOfVersion = new Map<string, Set<number>>();
    for (const { key, rows } of this.ingested.values()) {
      const m = PUBLISHED.exec(key);
      const [, entity = '', y, mo, d, h, named, ny, nmo, nd, nh, mm] = m ?? [];
      const start = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mm ?? 0));
      if (
        !m ||
        named !== entity ||
        `${ny}${nmo}${nd}${nh}` !== `${y}${mo}${d}${h}` ||
        (this.windowMinutes === 60 ? mm !== undefined : mm === undefined || start % W !== 0)
      ) {
        problems.push(`unexpected object under the published prefix: ${key}`);
        continue;
      }
      const slot = `${entity} ${start}`;
      got.set(slot, [...(got.get(slot) ?? []), ...rows]);
      for (const row of rows) {
        const version = `${entity} ${versionOf(entity, row)}`;
        windowsOfVersion.set(version, (windowsOfVersion.get(version) ?? new Set()).add(start));
      }
    }
    const checked = new Set<string>();
    for (const [from, to] of ranges) {
      if (from % W !== 0 || to % W !== 0)
        problems.push(`checked range ${minute(from)}..${minute(to)} is off the grid`);
      for (let start = from; start < to; start += W) {
        this.tally.windowsChecked += 1;
        for (const entity of entities) {
          const slot = `${entity} ${start}`;
          checked.add(slot);
          const rows = got.get(slot) ?? [];
          const versions = new Set(rows.map((r) => versionOf(entity, r)));
          const expected = this.standin.rowsFor(entity, { fromMs: start, toMs: start + W });
          this.tally.rowsExpected += expected.length;
          const lost = expected
            .filter((r) => !versions.has(versionOf(entity, r)))
            .map((r) => rowKey(entity, r));
          const counts = new Map<string, number>();
          for (const r of rows) counts.set(rowKey(entity, r), (counts.get(rowKey(entity, r)) ?? 0) + 1);
          const twice = [...counts].filter(([, c]) => c > 1);
          const duplicated = twice.reduce((n, [, c]) => n + c - 1, 0);
          this.tally.rowsLost += lost.length;
          this.tally.rowsDuplicated += duplicated;
          if (lost.length || duplicated)
            problems.push(
              `${entity} ${this.describeWindow(start)}: ${lost.length} rows lost [${some(lost)}], ${duplicated} duplicated [${some(twice.map(([k, c]) => `${k}×${c}`))}]`,
            );
        }
      }
    }
    for (const [slot, rows] of got) {
      if (checked.has(slot)) continue;
      const [entity = '', start = '0'] = slot.split(' ');
      problems.push(
        `${entity} ${this.describeWindow(Number(start))}: ${rows.length} rows published outside the windows checked`,
      );
    }
    // One row version in two windows (windows that overlap, a row on a boundary published on both sides).
    for (const [version, starts] of windowsOfVersion) {
      if (starts.size < 2) continue;
      this.tally.rowsDuplicated += starts.size - 1;
      problems.push(
        `${version} published in ${starts.size} windows: ${[...starts].map((s) => minute(s)).join(', ')}`,
      );
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
    const rewrittenKeys = new Set([
      ...[...this.publishedWrites].filter(([, n]) => n > 1).map(([k]) => k),
      ...[...versions].filter(([, n]) => n > 1).map(([k]) => k),
    ]);
    this.tally.keysRewritten += rewrittenKeys.size;
    if (rewrittenKeys.size)
      problems.push(
        `${rewrittenKeys.size} published keys written more than once: ${[...rewrittenKeys].join(' ')}`,
      );
    let backwards = 0;
    for (let i = 1; i < this.stateHistory.length; i++) {
      if ((this.stateHistory[i] ?? 0) < (this.stateHistory[i - 1] ?? 0)) backwards++;
    }
    this.tally.stateBackwards += backwards;
    if (backwards)
      problems.push(
        `the state moved backwards ${backwards} times: ${this.stateHistory.map((e) => minute(e)).join(' → ')}`,
      );
    problems.push(...this.stateProblems);
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
        deleteEach: (keys) =>
          write(
            () => inner.deleteEach(keys),
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
                this.stateHistory.push(this.positionOf(body.toString(), this.stateProblems));
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
