/**
 * `citrix-monitor <command> [options]`: the operator's tool for the deployed collector. Parses the
 * arguments, builds the clients, runs one domain function (status.ts, backfill.ts, redrive.ts), prints
 * its report as text or JSON, and returns the exit code scripts rely on (see USAGE).
 */
import { parseArgs } from 'node:util';
import { SFNClient } from '@aws-sdk/client-sfn';
import { s3ClientFromEnv } from '../functions/adapters/collectors.ts';
import { s3Store } from '../functions/adapters/s3-store.ts';
import {
  loadLayout,
  type StorageLayout,
  tenantLayout,
  wholeNumber as wholeNumberSetting,
} from '../functions/domain/config.ts';
import { parseHour } from '../functions/domain/hours.ts';
import type { ObjectStore } from '../functions/domain/ports.ts';
import { lagAlarmHours, type WholeNumberOptions } from '../functions/domain/settings/readers.ts';
import { LAG_ALARM_HOURS, SETTLE_MINUTES, WINDOW_MINUTES } from '../functions/domain/settings/registry.ts';
import { type Fleet, readTenantList } from '../functions/domain/tenants.ts';
import { newestDueEnd } from '../functions/domain/windows.ts';
import { backfill, backfillHours, MAX_HOURS_WITHOUT_YES, newestDueHourOf } from './backfill.ts';
import { aws, isCliError, UnknownTenant, UsageError } from './errors.ts';
import { findStateMachine, stateMachineName } from './executions.ts';
import { EXIT, exitCodeOfError } from './exit-codes.ts';
import {
  backfillProgress,
  formatBackfill,
  formatFleetStatus,
  formatRedrive,
  formatStatus,
  type Output,
} from './format.ts';
import { commitRecords, tenantRecords } from './records.ts';
import { redriveFailed } from './redrive.ts';
import { type ExecutionsPart, fleetStatusReport, statusReport } from './status.ts';

const TARGET_HELP = `Where (status, backfill, redrive):
  --stage NAME               deployment stage (default prod): state machine ${stateMachineName('NAME')}
  --region REGION            AWS region (default AWS_REGION)
  --state-machine-arn ARN    use this state machine, no lookup by stage
  --json                     print one JSON document on stdout instead of text
  -h, --help                 this help`;

const EXIT_HELP = `Exit codes (the same for npm start and npm run collect; docs/operating.md, "Exit codes"):
  0  success; for status: healthy (lag within LAG_ALARM_HOURS, no failed execution left to redrive)
  1  failed, and a retry would not cure it: status unhealthy; backfill: an hour failed; redrive: an
     execution could not be redriven and its hour is not published; a state file or commit record
     that cannot be read
  2  bad usage or configuration, including no state machine for the stage in the region, a --tenant
     not in the tenant list, credentials Citrix refused, AWS credentials missing, expired or refused
  3  busy or unavailable, try later: an AWS API call failed (permissions, throttling, network; the
     message names the call), another run holds a window, Citrix or S3 could not be reached
`;

const USAGE = `Usage: citrix-monitor <command> [options]

Operates the collector deployed as the Step Functions state machine citrix-monitor-collector-<stage>.

Commands:
  status      the state, the lag in minutes, the next window, the last executions, the failed ones and
              whether they can be redriven
  backfill    collects the hours --from H1 --to H2: one execution per hour, for the windows of the
              hour not yet published; skips hours whose every window is published
  redrive     redrives failed executions; says what to do for those that cannot be

${TARGET_HELP}

Many tenants: with a tenant list in the work bucket (TENANTS_KEY, default WORK_PREFIX/tenants.json),
status, backfill and redrive take --tenant ID for one listed tenant; without it, they cover every tenant.

Configuration, from the environment as for the collector (docs/configuration.md):
  S3_BUCKET (required), WORK_BUCKET, S3_PREFIX, WORK_PREFIX, STATE_KEY, TENANTS_KEY,
  WINDOW_MINUTES (${WINDOW_MINUTES.default}; 5, 10, 15, 20 or 30): the windows collected and published at once,
  SETTLE_MINUTES (${SETTLE_MINUTES.default}): a window is due that many minutes after its end,
  LAG_ALARM_HOURS (${LAG_ALARM_HOURS.default}): status is unhealthy when a state's lag is above that many hours (${Number(LAG_ALARM_HOURS.default) * 60} minutes).
  AWS credentials and region come from the usual AWS chain (AWS_PROFILE, AWS_REGION, ...).

${EXIT_HELP}
citrix-monitor <command> --help describes a command.
`;

const COMMAND_USAGE = {
  status: `Usage: citrix-monitor status [--tenant ID] [--limit N] [--stage NAME] [--region REGION] [--json]

The state (last_hour_utc of the state file, and last_window_end within the hour after it), the lag in
minutes (the end of the newest due window - the end of the last window published; a window of
WINDOW_MINUTES is due SETTLE_MINUTES after its end), the next window to collect (from where the state
ends to the next point of the WINDOW_MINUTES grid) and when it is due, the windows being published, the
last N executions (default 10) with status, start time and duration, and the failed ones (FAILED,
TIMED_OUT, ABORTED) split into those Step Functions can still redrive and those it cannot, with the
reason.

With a tenant list (TENANTS_KEY), without --tenant: a line per listed tenant (its last_hour_utc, next
window and lag), then the executions and the failed ones as above. With --tenant ID: all of the above
for that tenant's storage (its state file, its commit records, its published prefix S3_PREFIX/ID), the
failed executions being those whose failure names the tenant.

Exit 0 when healthy: a state file, a lag within LAG_ALARM_HOURS hours (default ${LAG_ALARM_HOURS.default}: ${Number(LAG_ALARM_HOURS.default) * 60} minutes), and
no listed failed execution that can still be redriven (with a tenant list: for every tenant). Exit 1
when not (the output says why); 2 bad usage or configuration, or a --tenant that is not in the tenant
list; 3 an AWS API call failed. When Step Functions cannot be reached but S3 can, status still prints
the state, lag and next window it read, says which call failed instead of the executions, and exits 3
(1 if what it read is already unhealthy).

  --tenant ID                one tenant of the tenant list
  --limit N                  executions to list, 1 to 1000 (default 10)
${TARGET_HELP}
`,
  backfill: `Usage: citrix-monitor backfill --from HOUR --to HOUR [--tenant ID] [--concurrency N] [--yes] [--stage NAME] [--json]

Collects every hour from --from to --to inclusive (e.g. 2026-11-24T10:00:00Z), oldest first: one
execution per hour with the input {"hour": HOUR}, named backfill-YYYY-MM-DDTHH so that Step Functions
itself refuses a second start of the same hour ("already started"). The execution collects the windows
of the hour (WINDOW_MINUTES) that are due and not published yet; an hour is skipped only when its commit
records say every window of it is published. Watches each execution until it ends; progress on stderr;
a summary at the end, with the rows of the windows each execution published.

With a tenant list (TENANTS_KEY): --tenant ID collects that tenant alone, with the input
{"hour": HOUR, "tenants": ["ID"]} and executions named backfill-ID-YYYY-MM-DDTHH; without --tenant,
every listed tenant (input {"hour": HOUR}), an hour being skipped only when every tenant published it.

  --from HOUR, --to HOUR     whole UTC hours; --to must have a due window: its first window
                             (WINDOW_MINUTES) ended SETTLE_MINUTES ago
  --tenant ID                one tenant of the tenant list (default: every listed tenant)
  --concurrency N            executions running at once, 1 to 10 (default 2; Citrix allows one call
                             per tenant at a time, so more mostly adds retried 429s)
  --yes                      allow more than ${MAX_HOURS_WITHOUT_YES} hours (31 days)
${TARGET_HELP}

Exit 0 when no hour failed; 1 when an execution failed (each with its cause); 2 bad usage or
configuration, or a --tenant that is not in the tenant list; 3 an AWS API call failed (executions
already started keep running).
`,
  redrive: `Usage: citrix-monitor redrive [--tenant ID] [--since DATE] [--stage NAME] [--region REGION] [--json]

Redrives every failed execution (FAILED, TIMED_OUT, ABORTED) that stopped since DATE (default 14 days
ago): it re-runs only what failed, from where it stopped, and publishes the hour once. For one that
Step Functions will not redrive (it stopped more than 14 days ago, or its own reason) it says why and
what to run instead (citrix-monitor backfill --from H --to H for its hour), or that nothing is left
to do because its hour has been published since.

With a tenant list (TENANTS_KEY), --tenant ID redrives only the failed executions whose failure names
that tenant (TenantsFailed: ... tenant "ID": ...), or that were started for it alone (backfill --tenant
ID). A redrive re-runs every failed tenant of its execution, not only ID, and only the failed ones:
tenants that committed their hours are not collected again. Without --tenant, every failed execution.

  --tenant ID                one tenant of the tenant list
  --since DATE               2026-11-20 or 2026-11-20T08:00:00Z
${TARGET_HELP}

Exit 0 when every failed execution found was redriven, or its hour published since (or there was
none); 1 when one could not be redriven and its hour is not published; 2 bad usage or configuration,
or a --tenant that is not in the tenant list; 3 an AWS API call failed.
`,
} as const;

type Command = keyof typeof COMMAND_USAGE;

const TARGET_OPTIONS = {
  stage: { type: 'string' },
  region: { type: 'string' },
  'state-machine-arn': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const OPTIONS = {
  status: { ...TARGET_OPTIONS, tenant: { type: 'string' }, limit: { type: 'string' } },
  backfill: {
    ...TARGET_OPTIONS,
    tenant: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    concurrency: { type: 'string' },
    yes: { type: 'boolean' },
  },
  redrive: { ...TARGET_OPTIONS, tenant: { type: 'string' }, since: { type: 'string' } },
} as const;

/** The options as `parseArgs` gives them; read through {@link text} and {@link flag}, which check their type. */
type Values = Readonly<Record<string, unknown>>;
type Env = Record<string, string | undefined>;

/** What the CLI talks to; tests pass a mocked Step Functions client, an s3rver environment and a fixed clock. */
export interface CliIo {
  readonly env?: Env;
  readonly stdout?: Output;
  readonly stderr?: Output;
  /** Step Functions client; by default `new SFNClient({ region })`. */
  readonly sfn?: SFNClient;
  readonly now?: () => number;
  /** Between two DescribeExecution calls while a backfill watches an execution (default 10 s). */
  readonly pollMs?: number;
}

interface Context {
  readonly values: Values;
  readonly env: Env;
  readonly io: CliIo;
  readonly now: () => number;
}

const text = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};

const flag = (values: Values, name: string): boolean => values[name] === true;

const wholeNumber = (raw: string | undefined, options: Omit<WholeNumberOptions, 'fail'>) =>
  wholeNumberSetting(raw, { ...options, fail: (message) => new UsageError(message) });

function hourOption(values: Values, name: string): number {
  const raw = text(values, name);
  if (raw === undefined)
    throw new UsageError(`--${name} is required: a whole UTC hour, e.g. 2026-11-24T10:00:00Z.`);
  const hour = parseHour(raw);
  if (hour === null)
    throw new UsageError(
      `--${name} ${JSON.stringify(raw)} is not a whole UTC hour: expected e.g. 2026-11-24T10:00:00Z.`,
    );
  return hour;
}

interface Target {
  readonly region: string;
  readonly sfn: SFNClient;
  /** The flags to repeat in suggested commands (with a leading space), or ''. */
  readonly flags: string;
  stateMachineArn(): Promise<string>;
}

function target(ctx: Context): Target {
  const stage = text(ctx.values, 'stage') ?? 'prod';
  if (!/^[A-Za-z0-9-]+$/.test(stage))
    throw new UsageError(`--stage ${JSON.stringify(stage)} is invalid: expected e.g. prod.`);
  const arn = text(ctx.values, 'state-machine-arn');
  const arnRegion =
    arn && /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:stateMachine:[A-Za-z0-9_-]+$/.exec(arn)?.[1];
  if (arn && !arnRegion)
    throw new UsageError(
      `--state-machine-arn ${JSON.stringify(arn)} is not a state machine ARN: expected arn:aws:states:REGION:ACCOUNT:stateMachine:NAME.`,
    );
  const region = text(ctx.values, 'region') || arnRegion || ctx.env.AWS_REGION || ctx.env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('No AWS region: pass --region REGION or set AWS_REGION.');
  const flags = [
    text(ctx.values, 'stage') ? ` --stage ${stage}` : '',
    text(ctx.values, 'region') ? ` --region ${region}` : '',
    arn ? ` --state-machine-arn ${arn}` : '',
  ].join('');
  const sfn = ctx.io.sfn ?? new SFNClient({ region });
  return { region, sfn, flags, stateMachineArn: async () => arn || findStateMachine(sfn, stage, region) };
}

function workStore(ctx: Context, config: StorageLayout, region: string) {
  return s3Store(s3ClientFromEnv({ ...ctx.env, AWS_REGION: region }), config.workBucket);
}

/** The tenant list as the command sees it, and its `--tenant`, checked against the list. */
interface Tenancy {
  /** The ids of the tenant list; null without one (the environment's one tenant). */
  readonly listed: readonly string[] | null;
  /** Where the list is, or would be: `s3://WORK_BUCKET/TENANTS_KEY`. */
  readonly location: string;
  /** `--tenant`: a listed id, or null. */
  readonly tenant: string | null;
}

/**
 * Reads the tenant list as the collector does (functions/domain/tenants.ts) and checks `--tenant`
 * against it: a tenant that is not listed, or any `--tenant` without a list, is {@link UnknownTenant}.
 */
async function tenancy(ctx: Context, config: StorageLayout, work: ObjectStore): Promise<Tenancy> {
  const location = `s3://${work.bucket}/${config.tenantsKey}`;
  const fleet: Fleet = {
    settings: config,
    work,
    log: () => {},
    collector: () => {
      throw new Error('the CLI reads the tenant list only');
    },
  };
  const list = await aws(`S3 GetObject ${location}`, () => readTenantList(fleet));
  const listed = list?.map((t) => t.id) ?? null;
  const tenant = text(ctx.values, 'tenant') ?? null;
  if (tenant !== null && listed === null)
    throw new UnknownTenant(
      `--tenant ${JSON.stringify(tenant)}: there is no tenant list at ${location}, so this deployment collects the one tenant of its environment. Leave out --tenant, or put the tenant list there (TENANTS_KEY; docs/many-tenants.md, "The tenant list").`,
    );
  if (tenant !== null && !listed?.includes(tenant))
    throw new UnknownTenant(
      `--tenant ${JSON.stringify(tenant)}: no such tenant in the tenant list ${location}. Listed: ${listed?.join(', ')}.`,
    );
  return { listed, location, tenant };
}

function print(ctx: Context, report: unknown, human: string): void {
  (ctx.io.stdout ?? process.stdout).write(
    flag(ctx.values, 'json') ? `${JSON.stringify(report, null, 2)}\n` : human,
  );
}

async function status(ctx: Context): Promise<number> {
  const limit = wholeNumber(text(ctx.values, 'limit'), { what: '--limit', fallback: 10, min: 1, max: 1000 });
  const alarmHours = lagAlarmHours(ctx.env);
  const config = loadLayout(ctx.env);
  const where = target(ctx);
  const work = workStore(ctx, config, where.region);
  const { listed, location, tenant } = await tenancy(ctx, config, work);
  if (listed !== null && tenant === null) {
    const report = await fleetStatusReport({
      sfn: where.sfn,
      work,
      layout: config,
      tenants: listed,
      tenantList: location,
      stateMachineArn: where.stateMachineArn,
      now: ctx.now(),
      limit,
      lagAlarmHours: alarmHours,
    });
    print(ctx, report, formatFleetStatus(report, where.flags));
    return statusExitCode(report);
  }
  const layout = tenant === null ? config : tenantLayout(config, tenant);
  const report = await statusReport({
    sfn: where.sfn,
    work,
    records: commitRecords(layout, work),
    config: layout,
    stateMachineArn: where.stateMachineArn,
    now: ctx.now(),
    limit,
    lagAlarmHours: alarmHours,
    ...(tenant === null
      ? {}
      : { tenant: { id: tenant, published: `s3://${config.bucket}/${layout.prefix}/` } }),
  });
  print(ctx, report, formatStatus(report, where.flags));
  return statusExitCode(report);
}

/**
 * 1 when what status read shows a problem; else 3 when the executions could not be read (Step Functions
 * unreachable: try later), printed after what S3 showed; else 0.
 */
const statusExitCode = (report: ExecutionsPart): number =>
  report.problems.length ? EXIT.failed : report.executionsUnreadable ? EXIT.unavailable : EXIT.done;

async function backfillCommand(ctx: Context): Promise<number> {
  const config = loadLayout(ctx.env);
  const hours = backfillHours({
    from: hourOption(ctx.values, 'from'),
    to: hourOption(ctx.values, 'to'),
    newestDue: newestDueHourOf(newestDueEnd(ctx.now(), config.windowMinutes, config.settleMinutes)),
    yes: flag(ctx.values, 'yes'),
  });
  const concurrency = wholeNumber(text(ctx.values, 'concurrency'), {
    what: '--concurrency',
    fallback: 2,
    min: 1,
    max: 10,
  });
  const where = target(ctx);
  const work = workStore(ctx, config, where.region);
  const { listed, tenant } = await tenancy(ctx, config, work);
  const records = tenantRecords(config, work, listed);
  const collected = listed === null ? [null] : tenant === null ? listed : [tenant];
  const report = await backfill({
    sfn: where.sfn,
    records: (hour) => records(hour, tenant === null ? null : [tenant]),
    committed: (hour) =>
      Promise.all(
        collected.map(async (id) => ({
          tenant: id,
          records: await commitRecords(id === null ? config : tenantLayout(config, id), work)(hour),
        })),
      ),
    stateMachineArn: await where.stateMachineArn(),
    tenant,
    listed,
    hours,
    concurrency,
    now: ctx.now,
    pollMs: ctx.io.pollMs ?? 10_000,
    onProgress: backfillProgress(ctx.io.stderr ?? process.stderr, hours.length),
  });
  print(ctx, report, formatBackfill(report, where.flags));
  return report.summary.failed ? 1 : 0;
}

async function redrive(ctx: Context): Promise<number> {
  const raw = text(ctx.values, 'since');
  const since = raw === undefined ? ctx.now() - 14 * 24 * 3_600_000 : Date.parse(raw);
  if (
    raw !== undefined &&
    (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2}))?$/.test(raw) || Number.isNaN(since))
  )
    throw new UsageError(
      `--since ${JSON.stringify(raw)} is not a date: expected e.g. 2026-11-20 or 2026-11-20T08:00:00Z.`,
    );
  const config = loadLayout(ctx.env);
  const where = target(ctx);
  const work = workStore(ctx, config, where.region);
  const { listed, tenant } = await tenancy(ctx, config, work);
  const report = await redriveFailed({
    sfn: where.sfn,
    records: tenantRecords(config, work, listed),
    stateMachineArn: await where.stateMachineArn(),
    tenant,
    since,
    now: ctx.now(),
    targetFlags: where.flags,
  });
  print(ctx, report, formatRedrive(report));
  return report.notRedrivable.some((f) => !f.published) ? 1 : 0;
}

const COMMANDS: Record<Command, (ctx: Context) => Promise<number>> = {
  status,
  backfill: backfillCommand,
  redrive,
};

const isCommand = (name: string): name is Command => Object.hasOwn(COMMANDS, name);

/** The exit code of an expected failure (exit-codes.ts); null for any other error, which is a bug. */
function exitCodeOf(err: unknown): number | null {
  if (isCliError(err)) return err.exitCode;
  if (err instanceof Error && (err.name === 'BadConfiguration' || err.name === 'StateCorrupt'))
    return exitCodeOfError(err.name);
  return null;
}

/** A command line read: the command and its options, or the exit code once help or a usage error is written. */
type CommandLine = { readonly command: Command; readonly values: Values } | { readonly exitCode: number };

/** Reads the command and its options; writes the usage for `--help` and for an unknown command or option. */
function readCommandLine(argv: readonly string[], stdout: Output, stderr: Output): CommandLine {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') {
    stdout.write(USAGE);
    return { exitCode: 0 };
  }
  if (command === undefined || !isCommand(command)) {
    stderr.write(
      `${command === undefined ? 'No command given.' : `Unknown command ${JSON.stringify(command)}.`}\n\n${USAGE}`,
    );
    return { exitCode: 2 };
  }
  let values: Values;
  try {
    values = parseArgs({
      args: [...rest],
      options: OPTIONS[command],
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${COMMAND_USAGE[command]}`);
    return { exitCode: 2 };
  }
  if (flag(values, 'help')) {
    stdout.write(COMMAND_USAGE[command]);
    return { exitCode: 0 };
  }
  return { command, values };
}

/** A command line that failed, and where its failure is written. */
interface FailedCommand {
  readonly command: Command;
  /** The command's options as parsed (with `--json`, the failure is also written on stdout). */
  readonly values: Values;
  readonly stdout: Output;
  readonly stderr: Output;
}

/**
 * Writes why `command` failed (with `--json`, also as JSON on stdout) and returns the exit code: the
 * error's own for an expected failure, 1 for anything else.
 */
function reportFailure(err: unknown, { command, values, stdout, stderr }: FailedCommand): number {
  const code = exitCodeOf(err);
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  if (code === null) {
    // Not one of the expected failures: a bug, so the stack helps whoever reports it.
    stderr.write(
      `citrix-monitor ${command}: unexpected error: ${err instanceof Error ? err.stack : message}\n`,
    );
  } else {
    // One line: the error's name, what is wrong and what to do.
    const help = err instanceof UsageError ? ` See citrix-monitor ${command} --help.` : '';
    stderr.write(`citrix-monitor ${command}: ${name}: ${message}${help}\n`);
  }
  if (flag(values, 'json'))
    stdout.write(`${JSON.stringify({ error: { name, message }, exitCode: code ?? 1 }, null, 2)}\n`);
  return code ?? 1;
}

/**
 * Runs one command line (without the program name) and returns its exit code. Never throws and never
 * exits: what a user sees is what was written to `stdout` / `stderr`.
 */
export async function runCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const line = readCommandLine(argv, stdout, stderr);
  if ('exitCode' in line) return line.exitCode;
  const { command, values } = line;
  try {
    return await COMMANDS[command]({ values, env: io.env ?? process.env, io, now: io.now ?? Date.now });
  } catch (err) {
    return reportFailure(err, { command, values, stdout, stderr });
  }
}

/** The program: `citrix-monitor …` (cli/bin.ts) or `npm run cli -- …`. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await runCli(argv);
}
