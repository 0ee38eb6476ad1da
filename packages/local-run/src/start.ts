/**
 * `npm start`: the whole collector on this machine with no configuration. Starts the bundled Citrix
 * Monitor stand-in and an embedded S3 server (s3rver, data under .local-data/), runs the real state
 * machine for the due hours, prints what it did, and exits 0 only if every hour was published and the
 * state committed. `npm start -- --tenants N` does the same for N tenants listed in a tenant list, side by
 * side, in a bucket of their own.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Standin, type StandinOptions, startStandin } from '@citrix-monitor/testkit/citrix-standin';
import { thisProcess } from '@citrix-monitor/testkit/lease-owner';
import { ensureLoopback } from '@citrix-monitor/testkit/loopback';
import { type LocalS3, startLocalS3 } from '@citrix-monitor/testkit/s3';
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { UsageError } from '../../../cli/errors.ts';
import { fleetFromEnv } from '../../../functions/adapters/lambda.ts';
import { jsonLinesTelemetry } from '../../../functions/adapters/telemetry.ts';
import { wholeNumber } from '../../../functions/domain/config.ts';
import { BadConfiguration } from '../../../functions/domain/errors.ts';
import { parseAs } from '../../../functions/domain/settings/readers.ts';
import { WINDOW_MINUTES } from '../../../functions/domain/settings/registry.ts';
import type { Fleet } from '../../../functions/domain/tenants.ts';
import { checkConfiguration, commandOptions, reportFailure } from './preflight.ts';
import { describeOutcome, exitCode } from './report.ts';

const DATA_DIR = resolve('.local-data');
const USAGE = `Usage: npm start [-- --tenants N] [--window M]
  Runs the whole collector on this machine: a Citrix Monitor stand-in, an embedded S3 server (data in
  .local-data/) and the real state machine, for the due hours. Needs no configuration.
  --tenants N   a tenant list of N stand-in customers, 1 to 40 (default: the one tenant of the environment)
  --window M    WINDOW_MINUTES: 5, 10, 15, 20, 30 or 60 (default 60)
  -h, --help    this help
Exit codes (docs/operating.md, "Exit codes"): 0 every hour published; 1 an hour failed; 2 bad usage or
configuration; 3 busy or unavailable (another run holds a window): run again later.`;

const HELP = 'npm start -- --help';

/**
 * `--window M`, checked as WINDOW_MINUTES is but named as the user typed it: a refusal is a UsageError
 * about `--window`, not a BadConfiguration of a variable the user never set.
 */
function windowOption(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    return String(parseAs({ name: '--window', raw: raw.trim() }, WINDOW_MINUTES.parse));
  } catch (err) {
    if (err instanceof BadConfiguration) throw new UsageError(err.message);
    throw err;
  }
}

/** `--tenants N` (0: the one tenant of the environment) and `--window M` (becomes WINDOW_MINUTES). */
function options(): { tenants: number; window: string | undefined; help: boolean } {
  const values = commandOptions({ tenants: { type: 'string' }, window: { type: 'string' } });
  const fail = (message: string) => new UsageError(message);
  return {
    tenants: wholeNumber(values.tenants, { what: '--tenants', fallback: 0, min: 1, max: 40, fail }),
    window: windowOption(values.window),
    help: values.help === true,
  };
}

/** What one `npm start` runs on: the stand-in, the embedded S3 server and its bucket, the tenants. */
interface LocalRun {
  readonly standin: Standin;
  readonly s3: LocalS3;
  readonly bucket: string;
  /** The tenant list's ids: none for the one tenant of the environment. */
  readonly ids: readonly string[];
  readonly window: string | undefined;
}

async function main(): Promise<number> {
  const { tenants, window, help } = options();
  if (help) {
    console.log(USAGE);
    return 0;
  }
  // A tenant list changes what the bucket's runs collect: the many-tenant demo keeps a bucket of its own.
  const bucket = tenants ? 'citrix-monitor-local-tenants' : 'citrix-monitor-local';
  mkdirSync(DATA_DIR, { recursive: true });
  await ensureLoopback();
  const ids = Array.from({ length: tenants }, (_, i) => `tenant${i + 1}`);
  const standin = await startStandin(standinOptions(ids));
  const s3 = await startLocalS3(resolve(DATA_DIR, 's3'), bucket);
  try {
    return await collect({ standin, s3, bucket, ids, window });
  } finally {
    await s3.stop();
    await standin.stop();
  }
}

/**
 * Live data, as on the real Monitor Service: after each page of Sessions and Machines, one row it
 * delivered changes and leaves the hour (its ModifiedDate moves to now). With `ids`, one customer each.
 */
function standinOptions(ids: readonly string[]): StandinOptions {
  return {
    rowsPerHour: 1500,
    serverPageSize: 500,
    nextLinkStyle: 'alternate',
    churn: { entities: ['Sessions', 'Machines'], rowsPerPage: 1 },
    // Rows up to the end of the current hour, so that windows shorter than an hour (--window) have some.
    dataToMs: (Math.floor(Date.now() / 3_600_000) + 1) * 3_600_000,
    ...(ids.length > 0
      ? {
          tenants: ids.map((id) => ({
            customerId: `${id}cust`,
            clientId: `${id}-client`,
            clientSecret: `${id}-secret`,
          })),
        }
      : {}),
  };
}

/** The collector's environment: this process's, pointed at the stand-in and the embedded S3 server. */
function collectorEnv(run: LocalRun): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...run.s3.env,
    S3_BUCKET: run.bucket,
    ...run.standin.collectorEnv(),
    // A few hours at most per local run, so a first run stays quick.
    MAX_HOURS_PER_RUN: process.env.MAX_HOURS_PER_RUN ?? '3',
    ...(run.window === undefined ? {} : { WINDOW_MINUTES: run.window }),
  };
  for (const id of run.ids) env[`${id.toUpperCase()}_SECRET`] = `${id}-secret`;
  return env;
}

/** Writes the tenant list of `ids` where the fleet reads it (nothing for the environment's one tenant). */
async function writeTenantList(fleet: Fleet, run: LocalRun): Promise<void> {
  if (run.ids.length === 0) return;
  const list = run.ids.map((id) => ({
    id,
    customerId: `${id}cust`,
    clientId: `${id}-client`,
    clientSecretEnv: `${id.toUpperCase()}_SECRET`,
  }));
  await fleet.work.put(fleet.settings.tenantsKey, JSON.stringify({ tenants: list }, null, 2));
  console.log(
    `Tenant list:             s3://${run.bucket}/${fleet.settings.tenantsKey} (${run.ids.join(', ')})`,
  );
}

/** Runs the state machine once against the stand-in and the embedded S3 server, and says what it did. */
async function collect(run: LocalRun): Promise<number> {
  const { standin, s3, bucket, ids } = run;
  const logFile = resolve(DATA_DIR, 'collector.log');
  const telemetry = jsonLinesTelemetry((line) => appendFileSync(logFile, line));
  const fleet = fleetFromEnv({ env: collectorEnv(run), telemetry, inAws: false, overrides: thisProcess() });
  await writeTenantList(fleet, run);
  await checkConfiguration(fleet);
  console.log(
    `Citrix Monitor stand-in: ${standin.url} (${ids.length > 0 ? `${ids.length} customers` : `customer ${standin.customerId}`})`,
  );
  console.log(`Embedded S3 (s3rver):    ${s3.endpoint}, bucket ${bucket}, data in ${DATA_DIR}/s3`);
  const started = Date.now();
  const outcome = await runExecution(fleet, { retryIntervalMs: 200 });
  console.log(
    describeOutcome(outcome, {
      configOf: (t) => fleet.collector(t).config,
      seconds: (Date.now() - started) / 1000,
    }),
  );
  printAfterwords(run, fleet, logFile);
  return exitCode(outcome);
}

/** What the run leaves behind: the stand-in's live changes, the files and the log, and what to do next. */
function printAfterwords(run: LocalRun, fleet: Fleet, logFile: string): void {
  const changed = run.standin.tenants.reduce((sum, t) => sum + t.changes().length, 0);
  if (changed > 0) {
    console.log(
      `Live data: the stand-in changed ${changed} delivered rows of Sessions and Machines while their hours were paged (each left its hour, as rows do on the real service); the integration tests check that no other row is lost.`,
    );
  }
  console.log(
    `Files on disk: ${DATA_DIR}/s3/${run.bucket}/${fleet.settings.prefix}/${run.ids.length > 0 ? '<tenant>/' : ''}   Log: ${logFile}`,
  );
  console.log(
    `Run again to collect the ${run.window && run.window !== '60' ? 'windows' : 'hours'} that have become due since; delete ${DATA_DIR} to start over.`,
  );
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(reportFailure(err, HELP)),
);
