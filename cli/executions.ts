import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type ExecutionStatus,
  paginateListStateMachines,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { describeFailures, type Failures, parseFailures } from '../functions/domain/failures.ts';
import { formatHour, parseHour } from '../functions/domain/hours.ts';
import { aws, StateMachineNotFound } from './errors.ts';

/** Step Functions allows a redrive for 14 days after an execution stopped. */
export const REDRIVE_WINDOW_MS = 14 * 24 * 3_600_000;

export const FAILED_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const satisfies ExecutionStatus[];

const failedStatuses: readonly string[] = FAILED_STATUSES;

export const isFailed = (status: string | undefined): boolean => failedStatuses.includes(status ?? '');

export const stateMachineName = (stage: string): string => `citrix-monitor-collector-${stage}`;

/** An execution as listed, with the fields the SDK types as optional made definite. */
export interface Listed {
  readonly name: string;
  readonly arn: string;
  readonly status: string;
  readonly startDate: Date;
  readonly stopDate: Date | null;
  readonly redriveCount: number;
}

export const listed = (e: ExecutionListItem): Listed => ({
  name: e.name ?? '',
  arn: e.executionArn ?? '',
  status: e.status ?? 'UNKNOWN',
  startDate: e.startDate ?? new Date(0),
  stopDate: e.stopDate ?? null,
  redriveCount: e.redriveCount ?? 0,
});

/** The ARN of the execution `name` of a state machine (Step Functions derives it, so it is known before start). */
export const executionArn = (stateMachineArn: string, name: string): string =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/** Finds the deployed state machine `citrix-monitor-collector-<stage>` in the client's region. */
export async function findStateMachine(sfn: SFNClient, stage: string, region: string): Promise<string> {
  const wanted = stateMachineName(stage);
  const ours: string[] = [];
  const found = await aws(`Step Functions ListStateMachines in ${region}`, async () => {
    for await (const page of paginateListStateMachines({ client: sfn, pageSize: 1000 }, {})) {
      for (const machine of page.stateMachines ?? []) {
        if (machine.name === wanted && machine.stateMachineArn) return machine.stateMachineArn;
        if (machine.name?.startsWith('citrix-monitor-collector-')) ours.push(machine.name);
      }
    }
    return null;
  });
  if (found) return found;
  const others = ours.length ? ` Found there: ${ours.join(', ')} (choose one with --stage).` : '';
  throw new StateMachineNotFound(
    `No state machine ${wanted} for stage "${stage}" in region ${region}.${others} Deploy it with \`npx serverless deploy --stage ${stage} --region ${region}\`, or name another deployment with --stage / --region, or pass --state-machine-arn ARN.`,
  );
}

export async function describeExecution(
  sfn: SFNClient,
  arn: string,
): Promise<DescribeExecutionCommandOutput> {
  return aws(`Step Functions DescribeExecution ${arn}`, () =>
    sfn.send(new DescribeExecutionCommand({ executionArn: arn })),
  );
}

/** A stopped execution that did not succeed, and whether Step Functions will still redrive it. */
export interface FailedExecution {
  readonly name: string;
  readonly arn: string;
  readonly status: string;
  readonly startDate: string;
  readonly stopDate: string | null;
  /** The hour it collected: its input's `hour`, or for a scheduled run the hour its failure names. */
  readonly hour: string | null;
  readonly error: string | null;
  readonly cause: string | null;
  /** The tenants its input named (`"tenants"`, as `backfill --tenant` starts it); null: every tenant. */
  readonly tenants: readonly string[] | null;
  /** For a `TenantsFailed` execution, each tenant its failure names; null for any other failure. */
  readonly failedTenants: readonly TenantFailure[] | null;
  readonly redrivable: boolean;
  /** Why it cannot be redriven (null when it can). */
  readonly reason: string | null;
}

/** One failed tenant of a `TenantsFailed` execution, as its Cause's failures document names it. */
export interface TenantFailure {
  readonly tenant: string;
  /** The tenant's own error (`CitrixAuthFailed`, …), and its message. */
  readonly error: string | null;
  readonly cause: string;
  /** The hour it failed: the execution input's `hour`, or the hour of the window its failure names. */
  readonly hour: string | null;
}

/** A Lambda's failure as Step Functions records it in a Cause: `{"errorType", "errorMessage", "trace"}`. */
const lambdaErrorSchema = z.looseObject({ errorMessage: z.string() });

/**
 * The error message in a Cause: the Lambda's `errorMessage` when the Cause is the Lambda's error JSON
 * (the stack trace is left out), or the Cause itself (a States.* error's plain text).
 */
export function causeMessage(cause: string | undefined): string | null {
  if (!cause) return null;
  let json: unknown;
  try {
    json = JSON.parse(cause);
  } catch {
    return cause; // Not JSON: a States.* error's plain text.
  }
  const parsed = lambdaErrorSchema.safeParse(json);
  return parsed.success ? parsed.data.errorMessage : cause;
}

/**
 * The cause as a person reads it: the error message of the Cause, and for the Report step's failures
 * document (functions/domain/failures.ts), the readable text made from it.
 */
export function readableCause(cause: string | undefined): string | null {
  const message = causeMessage(cause);
  return message === null ? null : describeFailures(message);
}

/** The execution input, as far as the CLI reads it: its `hour` and `tenants`, each when well formed. */
const executionInputSchema = z.looseObject({
  hour: z.unknown().optional(),
  tenants: z.unknown().optional(),
});
const tenantIdsSchema = z.array(z.string());

/** The execution input's `hour` and `tenants`, as far as they are there and well formed. */
function inputOf(described: DescribeExecutionCommandOutput): {
  hour: string | null;
  tenants: string[] | null;
} {
  let json: unknown;
  try {
    json = JSON.parse(described.input ?? '{}');
  } catch {
    return { hour: null, tenants: null }; // An input that is not JSON names no hour and no tenant.
  }
  const input = executionInputSchema.safeParse(json);
  const hour = input.success && typeof input.data.hour === 'string' ? parseHour(input.data.hour) : null;
  const tenants = tenantIdsSchema.safeParse(input.success ? input.data.tenants : undefined);
  return { hour: hour === null ? null : formatHour(hour), tenants: tenants.success ? tenants.data : null };
}

/**
 * The failed listed tenants of a `TenantsFailed` execution, from its Cause's failures document: each
 * with its error, cause, and hour (the input's `hour`, or the hour its failure names). Null for any
 * other error.
 */
export function tenantFailures(
  error: string | null,
  failures: Failures | null,
  inputHour: string | null = null,
): TenantFailure[] | null {
  if (error !== 'TenantsFailed' || !failures) return null;
  return failures.tenants.flatMap((t) =>
    t.tenant === null
      ? []
      : [{ tenant: t.tenant, error: t.error, cause: t.cause, hour: inputHour ?? t.hour }],
  );
}

/**
 * Whether a failed execution is tenant `id`'s: its failures document names the tenant (as
 * `TenantsFailed` does), or its input named that tenant alone (`backfill --tenant id`).
 */
export function concernsTenant(f: FailedExecution, id: string): boolean {
  return (
    Boolean(f.failedTenants?.some((t) => t.tenant === id)) || (f.tenants?.length === 1 && f.tenants[0] === id)
  );
}

/** A failed execution as tenant `id` sees it: the hour it failed for that tenant, and its failure alone. */
export function forTenant<F extends FailedExecution>(f: F, id: string): F {
  const own = f.failedTenants?.filter((t) => t.tenant === id) ?? null;
  return { ...f, hour: own?.[0]?.hour ?? f.hour, failedTenants: own };
}

/**
 * Whether Step Functions will still redrive a stopped execution, and if not, why: its own
 * `redriveStatusReason`, or the 14 days after the execution stopped, past which it never redrives.
 */
export function redrivability(
  described: Pick<DescribeExecutionCommandOutput, 'redriveStatus' | 'redriveStatusReason' | 'stopDate'>,
  now: number,
): { redrivable: boolean; reason: string | null } {
  const stopped = described.stopDate;
  const given = described.redriveStatusReason;
  const own = given?.endsWith('.') ? given.slice(0, -1) : given;
  let reason: string | null = null;
  if (described.redriveStatus === 'REDRIVABLE_BY_MAP_RUN') {
    reason = `${own ?? 'it is a Map Run child execution'}: redrive its parent execution`;
  } else if (stopped && now - stopped.getTime() > REDRIVE_WINDOW_MS) {
    reason = `${own ? `${own}: ` : ''}it stopped on ${stopped.toISOString()}, more than 14 days ago; Step Functions redrives an execution only within 14 days after it stopped`;
  } else if (described.redriveStatus !== 'REDRIVABLE') {
    reason = own ?? 'Step Functions reports it as not redrivable';
  }
  return { redrivable: reason === null, reason };
}

/** Describes a failed execution and decides whether it can be redriven, and if not, why. */
export async function describeFailed(sfn: SFNClient, item: Listed, now: number): Promise<FailedExecution> {
  const described = await describeExecution(sfn, item.arn);
  const stopped = described.stopDate ?? item.stopDate ?? undefined;
  const input = inputOf(described);
  const error = described.error ?? null;
  const message = causeMessage(described.cause);
  // The Report step's failures document: the failed tenants, and the hour of each, as data.
  const failures = parseFailures(message);
  return {
    name: item.name,
    arn: item.arn,
    status: described.status ?? item.status,
    startDate: item.startDate.toISOString(),
    stopDate: stopped?.toISOString() ?? null,
    hour: input.hour ?? failures?.tenants[0]?.hour ?? null,
    error,
    cause: message === null ? null : describeFailures(message),
    tenants: input.tenants,
    failedTenants: tenantFailures(error, failures, input.hour),
    ...redrivability({ ...described, stopDate: stopped }, now),
  };
}

/** What to run instead of a redrive that Step Functions refuses. */
export function instead(hour: string | null, targetFlags: string): string {
  return hour
    ? `citrix-monitor backfill --from ${hour} --to ${hour}${targetFlags}`
    : `nothing: the scheduled runs collect every hour after the state on their own; check with citrix-monitor status${targetFlags}`;
}

/**
 * What to run instead of redriving a failed execution: {@link instead} for its hour, per failed tenant
 * (`--tenant`) when it failed with `TenantsFailed` or was started for one tenant.
 */
export function insteadOf(f: FailedExecution, targetFlags: string): string {
  if (f.failedTenants?.length)
    return f.failedTenants.map((t) => instead(t.hour, ` --tenant ${t.tenant}${targetFlags}`)).join('; ');
  if (f.tenants?.length === 1) return instead(f.hour, ` --tenant ${f.tenants[0]}${targetFlags}`);
  return instead(f.hour, targetFlags);
}
