/**
 * The source of statemachine/collector.asl.json, the definition that serverless.yml deploys and the local
 * runner executes: `npm run asl` writes it from this file, and test/unit/error-contract.test.ts fails when
 * the two differ. Each retry policy is written once (RETRIERS), and each Task retries the Lambda service
 * errors and the retriable errors its handler can raise (`raises`), nothing else: no `States.ALL`, so a bug
 * (a TypeError, say) fails the Task at once, as does every fatal error of functions/domain/errors.ts.
 */
import { ERROR_CONTRACT, type ErrorName, HANDED_ON, RETRIABLE_ERRORS } from '../functions/domain/errors.ts';
import { REVISION_FIELD, revisionOf } from '../functions/domain/revision.ts';
import { FAILED_AT } from '../functions/domain/schemas.ts';

/**
 * The errors of the Lambda service itself, as AWS's "Handle Lambda service exceptions" lists them (a 500 of
 * the Invoke call: the function may not have run): every Task retries them.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
] as const;

/**
 * Lambda refused the invocation: the account (or the function) is at its concurrency limit, which every
 * function of the account shares, and a new account's is reduced (AWS, "Lambda quotas"). The function did
 * not run, so every Task, Report too, retries it, by a policy of its own (RETRIERS.lambdaThrottled) long
 * enough for the other invocations of the account to finish.
 */
export const LAMBDA_THROTTLED = 'Lambda.TooManyRequestsException';

/**
 * An invocation cut short: middy ends a handler that reaches its Lambda timeout with a TimeoutError (its
 * timeoutEarlyInMillis), Lambda reports one it had to stop as Sandbox.Timedout, and Step Functions one that
 * outlasted the Task's TimeoutSeconds as States.Timeout. A process that died is Lambda's Runtime.ExitError,
 * or Runtime.OutOfMemory when it ran out of memory (the name public issues show a Task failing with), and
 * Step Functions names such unhandled Lambda errors Lambda.Unknown (AWS, "Handle Lambda service
 * exceptions": out-of-memory errors and function timeouts among them). Retried on every Task but Report, as
 * before: the steps are safe to run again after a crash at any point (deterministic keys, compare-and-swap
 * state, claim and lease), and the fetch step resumes from its staged objects. A bug in the code (a
 * TypeError) is none of these, and is not retried.
 */
export const INTERRUPTED_ERRORS = [
  'TimeoutError',
  'Sandbox.Timedout',
  'Runtime.ExitError',
  'Runtime.OutOfMemory',
  'Lambda.Unknown',
] as const;
/** Raised only by a Task with TimeoutSeconds. */
export const TASK_TIMEOUT = 'States.Timeout';

interface Backoff {
  readonly IntervalSeconds: number;
  readonly MaxAttempts: number;
  readonly BackoffRate: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy: 'FULL';
}

type RetriableError = {
  [N in ErrorName]: (typeof ERROR_CONTRACT)[N]['treatment'] extends 'retriable' ? N : never;
}[ErrorName];

/**
 * The retry policies: one for Lambda's service errors, one for its throttling, one for an interrupted
 * invocation, and one for each retriable error of the contract.
 */
export const RETRIERS: {
  readonly lambdaService: Backoff;
  readonly lambdaThrottled: Backoff;
  readonly interrupted: Backoff;
} & Record<RetriableError, Backoff> = {
  lambdaService: { IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' },
  /**
   * Minutes, not seconds: an account at its concurrency limit stays there while its other invocations run
   * (a tenant's page fetches last up to FETCH_BUDGET_SECONDS). Delays 2, 4, 8, 16, 32, then 60 s seven
   * times: at most 482 s (8 min) in all, about half of it on average with full jitter.
   */
  lambdaThrottled: {
    IntervalSeconds: 2,
    MaxAttempts: 12,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  },
  interrupted: {
    IntervalSeconds: 5,
    MaxAttempts: 3,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  },
  /** An S3 or network error that outlasted the SDK's own retries (503 SlowDown, 500, a reset, a timeout). */
  StorageTransient: {
    IntervalSeconds: 5,
    MaxAttempts: 3,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  },
  CitrixThrottled: {
    IntervalSeconds: 5,
    MaxAttempts: 10,
    BackoffRate: 2,
    MaxDelaySeconds: 120,
    JitterStrategy: 'FULL',
  },
  CitrixTransient: {
    IntervalSeconds: 5,
    MaxAttempts: 6,
    BackoffRate: 2,
    MaxDelaySeconds: 120,
    JitterStrategy: 'FULL',
  },
  CitrixAuthFailed: { IntervalSeconds: 10, MaxAttempts: 2, BackoffRate: 2, JitterStrategy: 'FULL' },
  /**
   * Another writer kept winning the compare-and-swap of the state file or a commit record (a second run on
   * the same tenant): it is done within seconds, so a few short retries, 2, 4, 8, 16 s, 30 s at most in all.
   */
  StateContended: { IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2, JitterStrategy: 'FULL' },
};

/**
 * The longest a retrier waits in all, over its MaxAttempts retries: each delay at its cap (with full jitter
 * Step Functions draws each delay between 0 and that). What the comments and docs/design.md say of each policy.
 */
export function longestWaitSeconds(backoff: Backoff): number {
  return Array.from({ length: backoff.MaxAttempts }, (_, n) =>
    Math.min(backoff.IntervalSeconds * backoff.BackoffRate ** n, backoff.MaxDelaySeconds ?? Infinity),
  ).reduce((sum, delay) => sum + delay, 0);
}

/**
 * The errors of the contract each Task's handler can raise. Every handler may raise BadConfiguration (an
 * event that does not fit its schema, an S3 setting) and StorageTransient (it reads or writes S3); only
 * FetchPages calls Citrix (test/integration/retries.test.ts runs the others with the Citrix stand-in stopped).
 */
export const RAISES = {
  Tenants: ['BadConfiguration', 'StateCorrupt', 'StorageTransient', 'RedeployedSinceStart'],
  Plan: ['BadConfiguration', 'StateCorrupt', 'StorageTransient', 'RedeployedSinceStart'],
  FetchPages: [
    'BadConfiguration',
    'StorageTransient',
    'CitrixThrottled',
    'CitrixTransient',
    'CitrixAuthFailed',
    'CitrixBadQuery',
    'ForeignNextLink',
  ],
  /** TimeBoxClosed in an Express child alone: a window its time box closed on is handed on, not committed. */
  Commit: ['BadConfiguration', 'StateCorrupt', 'StateContended', 'StorageTransient', 'TimeBoxClosed'],
  Failed: ['BadConfiguration', 'StorageTransient'],
  /**
   * Report also raises again, under its own name, the failure of the environment's one tenant, which had
   * its retries in the tenant's steps: Report retries Lambda's errors alone (a failed Report is redriven).
   */
  Report: ['BadConfiguration', 'StateCorrupt', 'StorageTransient', 'TenantsFailed', 'RedeployedSinceStart'],
  HandOn: ['BadConfiguration'],
} as const satisfies Record<string, readonly ErrorName[]>;

export type TaskName = keyof typeof RAISES;

/**
 * Report retries Lambda's service errors and throttling alone, as before: the errors it raises are failures
 * that had their retries already, and a failed Report is redriven.
 */
export const RETRIES_NONE_OF_OURS: readonly TaskName[] = ['Report'];

/**
 * A Task's Retry: Lambda's errors and its throttling, an interrupted invocation, then one retrier per
 * retriable error its handler raises. `timeout`: the Task has TimeoutSeconds, and so may fail with
 * States.Timeout.
 */
export function retryOf(task: TaskName, timeout = false) {
  const lambda = [
    { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], ...RETRIERS.lambdaService },
    { ErrorEquals: [LAMBDA_THROTTLED], ...RETRIERS.lambdaThrottled },
  ];
  if (RETRIES_NONE_OF_OURS.includes(task)) return lambda;
  const own = RAISES[task].filter((e): e is RetriableError => ERROR_CONTRACT[e].treatment === 'retriable');
  return [
    ...lambda,
    { ErrorEquals: [...INTERRUPTED_ERRORS, ...(timeout ? [TASK_TIMEOUT] : [])], ...RETRIERS.interrupted },
    ...own.map((error) => ({ ErrorEquals: [error], ...RETRIERS[error] })),
  ];
}

/**
 * The two kinds of tenant child. `standard`: a Standard execution with its own 25,000-event history and no
 * time limit, for a tenant that is behind (and every tenant a redrive collects again). `express`: an Express
 * execution, billed by its duration rather than by its transitions, for a tenant that is on time; AWS ends it
 * at 5 minutes, so its fetches stop at a deadline its Plan sets, and it hands the tenant on to a Standard
 * child of the same run when the time box closes or a step fails in a way a retry may cure.
 */
type ChildKind = 'standard' | 'express';

/** State names are unique in the whole definition: the Express child's carry a suffix. */
const named = (kind: ChildKind, name: string) => (kind === 'express' ? `${name} (on time)` : name);

/**
 * What an Express child hands on to a Standard child instead of retrying (its Tasks retry Lambda's service
 * errors alone, a few seconds): the time box (TimeBoxClosed, which its Commit raises for a window the box
 * closed on), Lambda's throttling and interruptions, and every retriable error of the contract. The
 * Standard child carries on from what was staged and kept, under the same run id.
 */
export const HANDED_ON_ERRORS = [
  ...HANDED_ON,
  LAMBDA_THROTTLED,
  ...LAMBDA_SERVICE_ERRORS,
  ...INTERRUPTED_ERRORS,
  TASK_TIMEOUT,
  ...RETRIABLE_ERRORS,
] as const;

/** A Task state's name, and the serverless.yml function that serves it. */
interface TaskFunction {
  readonly name: TaskName;
  /** The function's name in serverless.yml (its ARN resolved at package time). */
  readonly fn: string;
}

/** A Task state served by the serverless.yml function `fn`. */
function task(
  { name, fn }: TaskFunction,
  rest: { Comment: string } & Record<string, unknown>,
  kind: ChildKind = 'standard',
) {
  const { Comment, ...after } = rest;
  const { Next, End, ResultSelector, Catch, ...body } = after;
  const retry =
    kind === 'express'
      ? [{ ErrorEquals: [...LAMBDA_SERVICE_ERRORS], ...RETRIERS.lambdaService }]
      : retryOf(name, 'TimeoutSeconds' in body);
  return {
    Type: 'Task',
    Comment,
    Resource: { 'Fn::GetAtt': [fn, 'Arn'] },
    ...body,
    Retry: retry,
    ...(Catch === undefined ? {} : { Catch }),
    ...(ResultSelector === undefined ? {} : { ResultSelector }),
    ...(Next === undefined ? {} : { Next }),
    ...(End === undefined ? {} : { End }),
  };
}

/**
 * Where the Tasks a redrive enters (Tenants, Plan, Report) carry the definition's revision: blank while the
 * definition is written, then filled in with the revision of what was written (functions/domain/revision.ts).
 */
const UNREVISED: string = '';

/**
 * What a Task's failure leaves the window it failed in: a Catch keeps the Task's own input beside the
 * caught error (ResultPath), and three states carry both out of the maps, whose only way out is an error's
 * name and cause. `<step> caught` keeps the window and entity as fields ({@link FAILED_AT}) beside the
 * error, `<step> failure` leads the caught cause with their JSON, and `<step> failed` raises the error
 * again under its own name with that cause: the tenant's Catch hands it on or records it, and the Failed
 * step reads the fields back (functions/domain/failure-records.ts). The JSON of the fields leads the cause
 * rather than holding it: the local runner's intrinsic functions drop the backslashes of their results,
 * so a cause inside a JSON string would not come out as JSON.
 */
function failedAt(kind: ChildKind, step: 'FetchPages' | 'Commit', entity: string | null) {
  const n = (name: string) => named(kind, name);
  return {
    catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: n(`${step} caught`) }],
    states: {
      [n(`${step} caught`)]: {
        Type: 'Pass',
        Parameters: {
          [FAILED_AT]: {
            'start.$': '$.start',
            'end.$': '$.end',
            ...(entity === null ? { entity: null } : { 'entity.$': entity }),
          },
          'failure.$': '$.failure',
        },
        Next: n(`${step} failure`),
      },
      [n(`${step} failure`)]: {
        Type: 'Pass',
        Parameters: {
          'Error.$': '$.failure.Error',
          'Cause.$': `States.Format('{} {}', States.JsonToString($.${FAILED_AT}), $.failure.Cause)`,
        },
        Next: n(`${step} failed`),
      },
      [n(`${step} failed`)]: { Type: 'Fail', ErrorPath: '$.Error', CausePath: '$.Cause' },
    },
  };
}

function fetchPagesStates(kind: ChildKind) {
  const n = (name: string) => named(kind, name);
  const timeBox =
    kind === 'express' ? [{ Variable: '$.timeBoxClosed', BooleanEquals: true, Next: n('Entity cut') }] : [];
  const failed = failedAt(kind, 'FetchPages', '$.entity');
  return {
    [n('FetchPages')]: task(
      { name: 'FetchPages', fn: 'fetchPage' },
      {
        Comment:
          kind === 'express'
            ? "Pages the entity-window by key (or by @odata.nextLink), staging the pages, until the last page, its time budget or the child's deadline (the Plan's), when it hands back its continuation with timeBoxClosed (at once, past the deadline)."
            : 'Pages the entity-window by key (or by @odata.nextLink for NEXTLINK_PAGING entities), staging the pages, until the last page or its time budget; then returns a continuation (the cursor of the first page not received).',
        TimeoutSeconds: 900,
        Catch: failed.catch,
        Next: n('More pages?'),
      },
      kind,
    ),
    ...failed.states,
    [n('More pages?')]: {
      Type: 'Choice',
      Choices: [...timeBox, { Variable: '$.done', BooleanEquals: false, Next: n('FetchPages') }],
      Default: n('Entity fetched'),
    },
    [n('Entity fetched')]: { Type: 'Succeed' },
    ...(kind === 'express'
      ? {
          [n('Entity cut')]: {
            Type: 'Succeed',
            Comment:
              "The child's fetch deadline passed before the entity's last page: its result (its continuation) goes to the Commit, which keeps it for the Standard child the tenant is handed on to.",
          },
        }
      : {}),
  };
}

/** A window's entities, each fetched by its own FetchPages loop. */
function entitiesState(kind: ChildKind) {
  const n = (name: string) => named(kind, name);
  // An Express child's fetches stop at its deadline; a Standard child's carry on from what one kept.
  const deadline = kind === 'express' ? { 'deadline.$': '$.deadline' } : { 'carryOn.$': '$.carryOn' };
  return {
    Type: 'Map',
    Comment:
      'MAX_CONCURRENCY entities at a time (default 1: Citrix allows one call per tenant at a time; more only adds 429s, which are retried).',
    ItemsPath: '$.entities',
    MaxConcurrencyPath: '$.maxConcurrency',
    ItemSelector: {
      'tenant.$': '$.tenant',
      'start.$': '$.start',
      'end.$': '$.end',
      'runId.$': '$.runId',
      'entity.$': '$$.Map.Item.Value',
      continuation: null,
      ...deadline,
    },
    ItemProcessor: {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: n('FetchPages'),
      States: fetchPagesStates(kind),
    },
    ResultPath: '$.fetched',
    Next: n('Commit'),
  };
}

/** A window's Commit Task, its failure caught by `caught`. */
function commitState(kind: ChildKind, caught: ReturnType<typeof failedAt>['catch']) {
  return task(
    { name: 'Commit', fn: 'commit' },
    {
      Comment:
        'Claims the window, publishes its staged pages once each (If-None-Match), then advances the state by compare-and-swap.',
      Parameters: {
        'tenant.$': '$.tenant',
        'start.$': '$.start',
        'end.$': '$.end',
        'runId.$': '$.runId',
        'mode.$': '$.mode',
        'fetched.$': '$.fetched',
      },
      TimeoutSeconds: 900,
      // The window's output is its start alone: the Windows map's output, one per window, stays small.
      ResultSelector: { 'start.$': '$.start' },
      Catch: caught,
      End: true,
    },
    kind,
  );
}

/** The states of one window: skip it if published, fetch each entity, commit it. */
function windowStates(kind: ChildKind) {
  const n = (name: string) => named(kind, name);
  const failed = failedAt(kind, 'Commit', null);
  return {
    [n('Already published?')]: {
      Type: 'Choice',
      Choices: [{ Variable: '$.published', BooleanEquals: true, Next: n('Nothing to fetch') }],
      Default: n('Entities'),
    },
    [n('Nothing to fetch')]: { Type: 'Pass', Result: [], ResultPath: '$.fetched', Next: n('Commit') },
    [n('Entities')]: entitiesState(kind),
    [n('Commit')]: commitState(kind, failed.catch),
    ...failed.states,
  };
}

/** The Plan Task of a child: an Express one also hands its own start, which its fetch deadline counts from. */
function planState(kind: ChildKind) {
  return task(
    { name: 'Plan', fn: 'plan' },
    {
      Comment:
        "Reads the tenant's entry in the run's tenant list, validates its configuration, reads its state file and lists the due windows to collect, at most MAX_HOURS_PER_RUN hours of them and no more than fill half this child's 25,000-event history (functions/domain/history-budget.ts; a tenant further behind carries on in the next run), or the due windows of the input's \"hour\", by the execution's start time, so that a redrive plans what the run planned. Clears any failure this run recorded for the tenant: it begins again." +
        (kind === 'express'
          ? " In an Express child, also sets the fetches' deadline: EXPRESS_FETCH_SECONDS after the child's start."
          : ''),
      Parameters: {
        'input.$': '$.input',
        'runId.$': '$.runId',
        'tenant.$': '$.tenant',
        'startTime.$': '$.startTime',
        ...(kind === 'express' ? { 'childStart.$': '$$.Execution.StartTime' } : {}),
        [REVISION_FIELD]: UNREVISED,
      },
      Next: named(kind, 'Windows'),
    },
    kind,
  );
}

/** The Parallel state of a child: its tenant's windows, every failure caught (handed on or recorded). */
function tenantState(kind: ChildKind) {
  const n = (name: string) => named(kind, name);
  const express = kind === 'express';
  return {
    Type: 'Parallel',
    Comment: express
      ? "One tenant that is on time, in an Express child: plan its due windows, then fetch and commit each, as a Standard child does, within the time box. What a retry may cure, and the time box closing, hand the tenant on to a Standard child of the same run; any other failure is recorded for the Report step. The child's output is {} or the tenant handed on: the map's output holds one per tenant."
      : "One tenant: plan its due windows, then fetch and commit each window, as a one-tenant deployment does. Any failure is caught and recorded once every tenant is done. The child's output is a constant: the map's output holds one per tenant.",
    Branches: [
      {
        StartAt: n('Plan'),
        States: {
          [n('Plan')]: planState(kind),
          [n('Windows')]: windowsState(kind),
        },
      },
    ],
    Catch: [
      ...(express
        ? [{ ErrorEquals: [...HANDED_ON_ERRORS], ResultPath: '$.handedOn', Next: n('Hand on') }]
        : []),
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: n('Failed') },
    ],
    End: true,
    ResultSelector: express ? {} : { collected: true },
    ResultPath: '$',
  };
}

/** The child's windows, oldest first, one at a time. */
function windowsState(kind: ChildKind) {
  const n = (name: string) => named(kind, name);
  const express = kind === 'express';
  return {
    Type: 'Map',
    Comment:
      'Oldest window first, one at a time: a window (WINDOW_MINUTES; "start" is its start, "end" its end) is committed before the next one starts, so the state never skips one.',
    ItemsPath: '$.windows',
    MaxConcurrency: 1,
    ItemSelector: {
      'tenant.$': '$.tenant',
      'start.$': '$$.Map.Item.Value.start',
      'end.$': '$$.Map.Item.Value.end',
      'published.$': '$$.Map.Item.Value.published',
      'runId.$': '$.runId',
      'mode.$': '$.mode',
      'entities.$': '$.entities',
      'maxConcurrency.$': '$.maxConcurrency',
      ...(express ? { 'deadline.$': '$.deadline' } : { 'carryOn.$': '$.carryOn' }),
    },
    ItemProcessor: {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: n('Already published?'),
      States: windowStates(kind),
    },
    ResultPath: null,
    End: true,
  };
}

/** The Failed Task of a child: records the tenant's failure for the Report step. */
function failedState(kind: ChildKind) {
  const n = (name: string) => named(kind, name);
  const express = kind === 'express';
  return task(
    { name: 'Failed', fn: 'failed' },
    {
      Comment:
        "Records the tenant's failure (WORK_PREFIX/runs/<run>/failed/<tenant>.json) for the Report step; the tenant's state has not moved." +
        (express
          ? ' When the record cannot be written, the tenant is handed on: its Standard child fails again and records it, with the full retries.'
          : ''),
      Parameters: { 'tenant.$': '$.tenant', 'runId.$': '$.runId', 'failure.$': '$.failure' },
      ResultSelector: express ? {} : { collected: false },
      ...(express
        ? { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.handedOn', Next: n('Hand on') }] }
        : {}),
      End: true,
    },
    kind,
  );
}

/** The Express child's output when it hands its tenant on. */
const HAND_ON_STATE = {
  Type: 'Pass',
  Comment:
    "The child's output when it hands the tenant on: the tenant's index alone ({\"h\": 12}), for the HandOn step. The map's output holds one per tenant on time, so it stays a few bytes: at 5,000 tenants all handed on, under 60 KB. Why it was handed on is in the log group (the caught error, at ERROR) and the Lambda logs.",
  Parameters: { 'h.$': '$.tenant' },
  End: true,
};

/** One tenant's child execution, of either kind. */
function tenantChild(kind: ChildKind) {
  const n = (name: string) => named(kind, name);
  return {
    [n('Tenant')]: tenantState(kind),
    [n('Failed')]: failedState(kind),
    ...(kind === 'express' ? { [n('Hand on')]: HAND_ON_STATE } : {}),
  };
}

/** The run's own fields, which the parent's states after the maps over tenants carry on. */
const RUN_FIELDS = {
  'runId.$': '$.runId',
  'input.$': '$.input',
  'startTime.$': '$.startTime',
  'tenantConcurrency.$': '$.tenantConcurrency',
  'total.$': '$.total',
};

/**
 * What a child of either map over tenants gets of the parent: its tenant (an index into the run's list),
 * the execution input, the run id and the execution's start time. In AWS a child's $$.Execution is its own,
 * so the run's id and start come in here.
 */
const TENANT_ITEM = {
  'tenant.$': '$$.Map.Item.Value',
  'input.$': '$.input',
  'runId.$': '$.runId',
  'startTime.$': '$.startTime',
};

/** The state machine definition before its revision is filled in. */
const unrevised = {
  Comment:
    "Citrix Monitor -> S3 for Google SecOps, for every tenant of the tenant list (or the environment's one tenant). Each tenant is a child execution of a Distributed Map: an Express one when the tenant is on time, a Standard one (its own history) when it is behind or an Express child handed it on. A child: plan the due windows, fetch every entity of a window (each entity a loop of page-fetch invocations that hand back a continuation), commit the window (publish + state) only when every entity succeeded. Error names: see functions/domain/errors.ts. Inside the map, $$.Execution is the child's own execution in AWS: what the children need of the parent (the run id) comes in through ItemSelector, and only an Express child's Plan reads $$.Execution, for its own start time (its time box).",
  StartAt: 'Tenants',
  States: {
    Tenants: task(
      { name: 'Tenants', fn: 'tenants' },
      {
        Comment:
          "Reads the tenant list (TENANTS_KEY), checks each tenant's configuration and keeps the list as read for the run (WORK_PREFIX/runs/<run>/tenants.json); without a list, the environment's one tenant. The input's \"tenants\" may name some. Reads each tenant's state to route it: onTime (at most an hour, or one window, behind) to Express children, the others (tenants) to Standard ones; an input \"hour\" routes every tenant to Standard. Hands the maps the tenants' indexes in that list, never the entries: a state holds at most 256 KiB.",
        Parameters: {
          'input.$': '$',
          'runId.$': '$$.Execution.Name',
          'startTime.$': '$$.Execution.StartTime',
          [REVISION_FIELD]: UNREVISED,
        },
        Next: 'Any on time?',
      },
    ),
    'Any on time?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.onTime[0]', IsPresent: true, Next: 'Collect on time' }],
      Default: 'Any behind?',
    },
    'Collect on time': {
      Type: 'Map',
      Comment:
        "One Express child per tenant that is on time (Distributed Map, EXPRESS children: billed by duration, not by transition; AWS ends each at 5 minutes, so its fetches stop at a deadline). TENANT_CONCURRENCY tenants side by side. A child collects its due windows, or hands the tenant on to a Standard child of this run (its output names the tenant), or records its failure. The map's output, {} or a handed-on tenant per child, goes to the Hand on step. Failures of the children (none of their states' data) reach the state machine's CloudWatch log group.",
      ItemsPath: '$.onTime',
      MaxConcurrencyPath: '$.tenantConcurrency',
      ItemSelector: TENANT_ITEM,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
        StartAt: 'Tenant (on time)',
        States: tenantChild('express'),
      },
      Label: 'OnTime',
      ResultPath: '$.handedOn',
      Next: 'HandOn',
    },
    HandOn: task(
      { name: 'HandOn', fn: 'handOn' },
      {
        Comment:
          'The tenants the Standard children collect: those found behind, and those an Express child handed on (logged by id; why, in the log group and the Lambda logs).',
        Parameters: {
          ...RUN_FIELDS,
          'tenants.$': '$.tenants',
          'handedOn.$': '$.handedOn',
        },
        Next: 'Any behind?',
      },
    ),
    'Any behind?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.tenants[0]', IsPresent: true, Next: 'Collect tenants' }],
      Default: 'Collected',
    },
    'Collect tenants': {
      Type: 'Map',
      Comment:
        "One Standard child execution per tenant that is behind or was handed on (Distributed Map, STANDARD children: each has its own 25,000-event history, which its plan keeps within half of, at any number of tenants). TENANT_CONCURRENCY tenants side by side (default 10, which a new account's Lambda concurrency holds; at most 1,000); each tenant strictly serial inside, as Citrix allows one call per tenant at a time. A tenant's failure is caught and recorded by its child, so it never stops the others and the map's output, dropped here, stays small. Items come from the state (ItemsPath), not an ItemReader, so that the local runner executes the same definition.",
      ItemsPath: '$.tenants',
      MaxConcurrencyPath: '$.tenantConcurrency',
      ItemSelector: TENANT_ITEM,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'Tenant',
        States: tenantChild('standard'),
      },
      Label: 'Tenant',
      ResultPath: null,
      Next: 'Collected',
    },
    Collected: {
      Type: 'Pass',
      Comment:
        'Stamps the run with the redrive count of the pass that collected it: a redrive of the Report step then knows its failures are from before it.',
      Parameters: {
        ...RUN_FIELDS,
        'collectedAtRedrive.$': '$$.Execution.RedriveCount',
      },
      Next: 'Report',
    },
    Report: task(
      { name: 'Report', fn: 'report' },
      {
        Comment:
          "Fails the execution naming each failed tenant and its cause (from the failure records) once every tenant is done (TenantsFailed; the environment's one tenant fails under its own error). When a redrive re-runs this step, it hands back the failed tenants alone to be collected again. It raises failures that already had their retries, so only Lambda's own errors are retried here.",
        Parameters: {
          'state.$': '$',
          'redriveCount.$': '$$.Execution.RedriveCount',
          [REVISION_FIELD]: UNREVISED,
        },
        Next: 'Again?',
      },
    ),
    'Again?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.retry', BooleanEquals: true, Next: 'Collect tenants' }],
      Default: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
};

/**
 * The revision of the definition: the functions deployed with it refuse the events of any other, as a
 * redrive after a redeploy would send them (functions/domain/revision.ts).
 */
export const DEFINITION_REVISION = revisionOf(unrevised);

/**
 * The state machine definition, as statemachine/collector.asl.json holds it: the Tasks a redrive enters
 * carry DEFINITION_REVISION. Copied through JSON, the one way to fill in every revision field at once;
 * test/unit/error-contract.test.ts checks the file against this object and revision.test.ts its revision.
 */
export const definition: typeof unrevised = JSON.parse(JSON.stringify(unrevised), (key, value: unknown) =>
  key === REVISION_FIELD ? DEFINITION_REVISION : value,
);

/** The generated file, which serverless.yml and packages/testkit/src/workflow.ts read. */
export const ASL_JSON_PATH = new URL('./collector.asl.json', import.meta.url);
