/**
 * `npm run bench:catch-up`: what one tenant a week behind costs its child execution, at each window size
 * (5, 15, 60 minutes) and MAX_HOURS_PER_RUN (1 to 168), measured on the real ASL under the quotas the local
 * runner enforces as AWS does (packages/testkit/src/aws-limits.ts): the history events of the tenant's child, the largest
 * state output of the run, the windows the run took on, and the scheduled runs that catch the week up
 * (the first run is measured; the count of runs follows from the windows per run, and
 * test/catch-up/week.test.ts runs them all for 5- and 15-minute windows). Prints the table of docs/many-tenants.md.
 */
import { HISTORY_EVENTS_LIMIT, PAYLOAD_LIMIT_BYTES } from '@citrix-monitor/testkit/aws-limits';
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { collectorFromEnv } from '../../../functions/adapters/collectors.ts';
import type { Collector } from '../../../functions/domain/collector.ts';
import { loadLayout } from '../../../functions/domain/config.ts';
import { BadConfiguration } from '../../../functions/domain/errors.ts';
import { runsToCatchUp, WEEK_MS } from './catch-up-runs.ts';
import { BUCKET, HOUR_MS, STATE_KEY, stateBefore, withServers } from './servers.ts';

const WINDOWS = [5, 15, 60];
const MAX_HOURS = [1, 6, 24, 72, 168];

interface Row {
  readonly window: number;
  readonly maxHours: number;
  readonly windows: number;
  readonly events: number;
  readonly largestBytes: number;
  readonly runs: number;
  /** The configuration's refusal, for a setting that cannot catch up. */
  readonly refused?: string;
}

/** The row of a setting the configuration refuses, or undefined when it is accepted. */
function refusal(window: number, maxHours: number): Row | undefined {
  try {
    loadLayout({ S3_BUCKET: BUCKET, WINDOW_MINUTES: String(window), MAX_HOURS_PER_RUN: String(maxHours) });
    return undefined;
  } catch (err) {
    if (!(err instanceof BadConfiguration)) throw err;
    return { window, maxHours, windows: 0, events: 0, largestBytes: 0, runs: 0, refused: err.name };
  }
}

/** One scheduled run of a tenant a week behind, at `now`, measured (servers.ts's stand-in and s3rver). */
function firstRun(window: number, maxHours: number, now: number): Promise<Row> {
  const first = Math.floor(now / HOUR_MS) * HOUR_MS - WEEK_MS;
  const standin = { rowsPerHour: 4, dataFromMs: first - HOUR_MS, dataToMs: now };
  return withServers({ standinOptions: standin, hour: first }, async ({ standin: citrix, env, store }) => {
    const settings = { WINDOW_MINUTES: String(window), MAX_HOURS_PER_RUN: String(maxHours) };
    const collector: Collector = {
      ...collectorFromEnv({ env: { ...citrix.collectorEnv(), ...env, ...settings } }),
      now: () => now,
    };
    await store.put(STATE_KEY, stateBefore(first));
    const outcome = await runExecution(collector, { startTime: now, retryIntervalMs: 1 });
    if (outcome.status !== 'SUCCEEDED')
      throw new Error(`W=${window} H=${maxHours}: ${outcome.error}: ${outcome.cause}`);
    const windows = outcome.output?.windows.length ?? 0;
    return {
      window,
      maxHours,
      windows,
      events: Math.max(...outcome.history.children),
      largestBytes: outcome.largestOutputBytes,
      runs: runsToCatchUp(window, windows),
    };
  });
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The table of docs/many-tenants.md, one line per setting. */
function table(rows: readonly Row[]): string {
  const head = [
    '| `WINDOW_MINUTES` | `MAX_HOURS_PER_RUN` | windows per run | history events of the child | largest state output | runs to catch up a week |',
    '|---|---|---|---|---|---|',
  ];
  const lines = rows.map((r) =>
    r.refused
      ? `| ${r.window} | ${r.maxHours} | refused (${r.refused}: one window a run never catches up) | | | |`
      : `| ${r.window} | ${r.maxHours} | ${fmt(r.windows)} | ${fmt(r.events)} (${Math.round((100 * r.events) / HISTORY_EVENTS_LIMIT)} %) | ${(r.largestBytes / 1024).toFixed(1)} KiB (${Math.round((100 * r.largestBytes) / PAYLOAD_LIMIT_BYTES)} %) | ${Number.isFinite(r.runs) ? fmt(r.runs) : 'never'} |`,
  );
  return [...head, ...lines].join('\n');
}

async function main(): Promise<void> {
  const now = Date.now();
  const rows: Row[] = [];
  for (const window of WINDOWS) {
    for (const maxHours of MAX_HOURS) {
      const started = performance.now();
      rows.push(refusal(window, maxHours) ?? (await firstRun(window, maxHours, now)));
      const took = ((performance.now() - started) / 1000).toFixed(1);
      process.stderr.write(`W=${window} MAX_HOURS_PER_RUN=${maxHours}: measured in ${took} s\n`);
    }
  }
  console.log(
    `One tenant a week behind, five entities, its first scheduled run (quotas: ${fmt(HISTORY_EVENTS_LIMIT)} events per execution, ${PAYLOAD_LIMIT_BYTES / 1024} KiB per state):\n`,
  );
  console.log(table(rows));
}

await main();
