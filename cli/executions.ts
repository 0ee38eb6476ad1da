import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type ExecutionStatus,
  paginateListStateMachines,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { formatHour, parseHour } from '../functions/domain/hours.ts';
import { aws, StateMachineNotFound } from './errors.ts';

/** Step Functions allows a redrive for 14 days after an execution stopped. */
export const REDRIVE_WINDOW_MS = 14 * 24 * 3_600_000;

export const FAILED_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const satisfies ExecutionStatus[];

export const isFailed = (status: string | undefined): boolean =>
  (FAILED_STATUSES as readonly string[]).includes(status ?? '');

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

/** One failed tenant of a `TenantsFailed` execution, as its cause names it. */
export interface TenantFailure {
  readonly tenant: string;
  /** The tenant's own error (`CitrixAuthFailed`, …), and its message. */
  readonly error: string | null;
  readonly cause: string;
  /** The hour it failed: the execution input's `hour`, or the first hour its message names. */
  readonly hour: string | null;
}

/**
 * The cause as a person reads it. A Lambda's failure reaches Step Functions as JSON
 * (`{"errorType", "errorMessage", "trace"}`): its message is the cause; the stack trace is left out.
 */
export function readableCause(cause: string | undefined): string | null {
  if (!cause) return null;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: a States.* error's plain text.
  }
  return cause;
}

/** The execution input's `hour` and `tenants`, as far as they are there and well formed. */
function inputOf(described: DescribeExecutionCommandOutput): {
  hour: string | null;
  tenants: string[] | null;
} {
  try {
    const input = JSON.parse(described.input ?? '{}') as { hour?: unknown; tenants?: unknown } | null;
    const parsed = typeof input?.hour === 'string' ? parseHour(input.hour) : null;
    const tenants = input?.tenants;
    return {
      hour: parsed === null ? null : formatHour(parsed),
      tenants:
        Array.isArray(tenants) && tenants.every((t) => typeof t === 'string') ? (tenants as string[]) : null,
    };
  } catch {
    // An input that is not JSON names no hour and no tenant.
    return { hour: null, tenants: null };
  }
}

/** A failed hour's error names it (see functions/domain/errors.ts): the first whole hour in a text. */
const firstHour = (text: string): string | null => /\d{4}-\d{2}-\d{2}T\d{2}:00:00Z/.exec(text)?.[0] ?? null;

/**
 * The failed tenants of a `TenantsFailed` cause (functions/domain/tenants.ts, reportTenants):
 * `N of M tenants failed; the others committed their hours. tenant "a": Error: message | tenant "b": …. A
 * failed tenant's state has not moved: …`. Null for any other error.
 */
export function tenantFailures(
  error: string | null,
  cause: string | null,
  inputHour: string | null = null,
): TenantFailure[] | null {
  if (error !== 'TenantsFailed' || !cause) return null;
  const end = cause.lastIndexOf(". A failed tenant's state has not moved");
  const body = end >= 0 ? cause.slice(0, end) : cause;
  const starts = [...body.matchAll(/tenant "([a-z0-9-]+)": /g)];
  return starts.map((match, i) => {
    const from = match.index + match[0].length;
    const text = body
      .slice(from, starts[i + 1]?.index ?? body.length)
      .replace(/ \| $/, '')
      .trim();
    const named = /^([A-Za-z][\w.]*): ([\s\S]*)$/.exec(text);
    return {
      tenant: match[1] ?? '',
      error: named?.[1] ?? null,
      cause: named?.[2] ?? text,
      hour: inputHour ?? firstHour(text),
    };
  });
}

/**
 * Whether a failed execution is tenant `id`'s: its failure names the tenant (`tenant "id"`, as
 * `TenantsFailed` does), or its input named that tenant alone (`backfill --tenant id`).
 */
export function concernsTenant(f: FailedExecution, id: string): boolean {
  return Boolean(f.cause?.includes(`tenant "${id}"`)) || (f.tenants?.length === 1 && f.tenants[0] === id);
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
  const own = described.redriveStatusReason?.replace(/\.$/, '');
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
  const cause = readableCause(described.cause);
  return {
    name: item.name,
    arn: item.arn,
    status: described.status ?? item.status,
    startDate: item.startDate.toISOString(),
    stopDate: stopped?.toISOString() ?? null,
    hour: input.hour ?? firstHour(described.cause ?? ''),
    error,
    cause,
    tenants: input.tenants,
    failedTenants: tenantFailures(error, cause, input.hour),
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
