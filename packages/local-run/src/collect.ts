/**
 * `npm run collect -- [--hour 2026-11-24T10:00:00Z]`: runs the state machine locally against whatever the
 * environment names (API_BASE: the real Citrix API or a compatible server; AWS_ENDPOINT_URL_S3 and
 * S3_FORCE_PATH_STYLE for any S3). Without --hour it does what the hourly schedule does.
 * The configuration is checked before any execution starts. Exit codes (cli/exit-codes.ts): 0 every hour
 * published and the state committed; 1 an hour failed; 2 bad usage or configuration; 3 busy or
 * unavailable: another live run holds an hour (the output says until when and who), or Citrix or S3 could
 * not be reached. A run killed on this machine holds nothing once it is gone: the next run takes its
 * hours over at once.
 */
import { thisProcess } from '@citrix-monitor/testkit/lease-owner';
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { UsageError } from '../../../cli/errors.ts';
import { fleetFromEnv } from '../../../functions/adapters/lambda.ts';
import { jsonLinesTelemetry, silentTelemetry } from '../../../functions/adapters/telemetry.ts';
import { wholeNumber } from '../../../functions/domain/config.ts';
import { parseHour } from '../../../functions/domain/hours.ts';
import { checkConfiguration, checkHour, commandOptions, reportFailure } from './preflight.ts';
import { describeOutcome, exitCode } from './report.ts';

const USAGE = `Usage: npm run collect -- [--hour YYYY-MM-DDTHH:00:00Z] [--retry-interval-ms MS] [--verbose]
  Collects the due hours (or the one --hour) from API_BASE into S3_BUCKET. See docs/configuration.md.
  --hour HOUR              one whole UTC hour with a due window (it ended SETTLE_MINUTES ago)
  --retry-interval-ms MS   wait between the state machine's retries of a failed step (default 1000), and
                           the base of the Citrix client's backoff (default 500): smaller gives up sooner.
  --verbose                the collector's JSON log lines on stderr (auth failures and retries included)
  -h, --help               this help
Exit codes (docs/operating.md, "Exit codes"): 0 done; 1 an hour failed (a retry would not cure it); 2 bad
usage or configuration, said before any execution starts, or credentials refused; 3 busy or unavailable
(another run holds a window, Citrix or S3 unreachable or throttling): run again later.`;

/** The help a usage error points at. */
const HELP = 'npm run collect -- --help';

async function main(): Promise<number> {
  const args = commandOptions({
    hour: { type: 'string' },
    'retry-interval-ms': { type: 'string' },
    verbose: { type: 'boolean' },
  });
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const hour = args.hour === undefined ? undefined : parseHour(args.hour);
  if (hour === null)
    throw new UsageError(
      `--hour ${JSON.stringify(args.hour)} is not a whole UTC hour: expected e.g. 2026-11-24T10:00:00Z.`,
    );
  const retryIntervalMs = wholeNumber(args['retry-interval-ms'], {
    what: '--retry-interval-ms',
    fallback: -1,
    min: 0,
    max: 600_000,
    fail: (message) => new UsageError(message),
  });
  const tuning = retryIntervalMs < 0 ? {} : { backoffMs: retryIntervalMs };
  const telemetry = args.verbose ? jsonLinesTelemetry((line) => process.stderr.write(line)) : silentTelemetry;
  const fleet = fleetFromEnv({ env: process.env, telemetry, inAws: false, tuning, overrides: thisProcess() });
  if (hour !== undefined) checkHour(hour, fleet.settings);
  await checkConfiguration(fleet);
  const started = Date.now();
  const outcome = await runExecution(fleet, {
    input: args.hour ? { hour: args.hour } : {},
    ...(retryIntervalMs < 0 ? {} : { retryIntervalMs }),
  });
  console.log(
    describeOutcome(outcome, {
      configOf: (t) => fleet.collector(t).config,
      seconds: (Date.now() - started) / 1000,
    }),
  );
  return exitCode(outcome);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(reportFailure(err, HELP)),
);
