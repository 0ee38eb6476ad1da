/**
 * Packages the service exactly as `serverless deploy` would (osls + serverless-esbuild +
 * serverless-step-functions), offline and without AWS credentials, and checks the CloudFormation
 * template it generates.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PLACEHOLDER_SECRET } from '../../functions/adapters/secrets.ts';
import { NAMESPACE, powertoolsTelemetry, SERVICE } from '../../functions/adapters/telemetry.ts';
import { RUN_RECORDS_DAYS } from '../../functions/domain/fleet.ts';

type Resource = {
  Type: string;
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Properties: Record<string, unknown>;
};
type Template = {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Condition?: string; Value: unknown }>;
};
let resources: Record<string, Resource>;
let defaultTemplate: Template;
const dirs: string[] = [];

/**
 * `serverless package --stage ci` (its parameters in params/ci.yml: a customer) with deploy parameters
 * (`--param name=value`) on top, read back.
 */
function packageWith(params: Record<string, string> = {}): Template {
  const dir = mkdtempSync(join(tmpdir(), 'citrix-collector-package-'));
  dirs.push(dir);
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1' };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
    delete env[name];
  const paramArgs = Object.entries(params).flatMap(([name, value]) => ['--param', `${name}=${value}`]);
  execFileSync('npx', ['serverless', 'package', '--stage', 'ci', '--package', dir, ...paramArgs], {
    env,
    stdio: 'pipe',
    timeout: 120_000,
  });
  return JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}

beforeAll(() => {
  defaultTemplate = packageWith();
  resources = defaultTemplate.Resources;
}, 150_000);

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

function stateMachine(): Resource {
  const [[, machine] = []] = ofType('AWS::StepFunctions::StateMachine');
  if (!machine) throw new Error('no AWS::StepFunctions::StateMachine in the template');
  return machine;
}

/** The ASL as deployed: the definition string of the `Fn::Sub` that substitutes the function ARNs. */
// biome-ignore lint/suspicious/noExplicitAny: the ASL is walked as plain JSON
function definition(): { States: Record<string, any> } {
  const sub = (stateMachine().Properties.DefinitionString as { 'Fn::Sub': [string, unknown] })['Fn::Sub'];
  return JSON.parse(sub[0]);
}

/** The function a Task's `${…}` Resource stands for: the GetAtt the definition's `Fn::Sub` substitutes. */
function taskFunction(resource: string): unknown {
  const sub = (
    stateMachine().Properties.DefinitionString as { 'Fn::Sub': [string, Record<string, unknown>] }
  )['Fn::Sub'];
  return sub[1][resource.replace(/^\$\{(\w+)\}$/, '$1')];
}

/** One tenant's states: Plan and Windows, inside the map over tenants. */
// biome-ignore lint/suspicious/noExplicitAny: the ASL is walked as plain JSON
function tenantStates(): Record<string, any> {
  return definition().States['Collect tenants'].ItemProcessor.States.Tenant.Branches[0].States;
}

describe('the packaged CloudFormation template', () => {
  it('holds a Standard state machine that maps over windows and entities and loops the page fetch on a continuation', () => {
    expect(stateMachine().Properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    const windows = tenantStates().Windows;
    expect(windows.Type).toBe('Map');
    expect(windows.MaxConcurrency).toBe(1);
    const entities = windows.ItemProcessor.States.Entities;
    expect(entities.Type).toBe('Map');
    expect(entities.MaxConcurrencyPath).toBe('$.maxConcurrency');
    const perEntity = entities.ItemProcessor.States;
    expect(perEntity.FetchPages.Next).toBe('More pages?');
    expect(perEntity['More pages?'].Choices[0]).toMatchObject({
      Variable: '$.done',
      BooleanEquals: false,
      Next: 'FetchPages',
    });
    expect(perEntity.FetchPages.Resource).toMatch(/^\$\{\w+\}$/);
    const retried = perEntity.FetchPages.Retry.flatMap((r: { ErrorEquals: string[] }) => r.ErrorEquals);
    expect(retried).toEqual(
      expect.arrayContaining(['CitrixThrottled', 'CitrixTransient', 'Lambda.TooManyRequestsException']),
    );
    expect(retried).not.toContain('States.ALL');
    expect(retried).not.toContain('ForeignNextLink');
    expect(windows.ItemProcessor.States.Entities.Next).toBe('Commit');
  });

  it('schedules the state machine hourly through EventBridge without an hour in the input', () => {
    const rules = ofType('AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const rule = rules[0]?.[1].Properties as {
      ScheduleExpression: string;
      Targets: Array<{ Arn: { Ref: string }; Input: string }>;
    };
    expect(rule.ScheduleExpression).toMatch(/^cron\(\d+ \* \* \* \? \*\)$/);
    const [[machineId] = []] = ofType('AWS::StepFunctions::StateMachine');
    expect(rule.Targets[0]?.Arn).toEqual({ Ref: machineId });
    expect(JSON.parse(rule.Targets[0]?.Input ?? '{}')).not.toHaveProperty('hour');
  });

  it('runs every function on nodejs24.x with its own role', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual([
      'CommitLambdaFunction',
      'FailedLambdaFunction',
      'FetchPageLambdaFunction',
      'HandOnLambdaFunction',
      'PlanLambdaFunction',
      'ReportLambdaFunction',
      'TenantsLambdaFunction',
    ]);
    const roles = functions.map(([, f]) => JSON.stringify(f.Properties.Role));
    expect(new Set(roles).size).toBe(7);
    for (const [, f] of functions) expect(f.Properties.Runtime).toBe('nodejs24.x');
  });

  it('grants no wildcard S3 access and keeps each role to the prefixes it uses', () => {
    // As CloudFormation creates them: a statement may be an Fn::If (the tenants' secrets).
    const roles = Object.entries(created(defaultTemplate).Resources).filter(
      ([, r]) => r.Type === 'AWS::IAM::Role',
    );
    const statements = roles.flatMap(([id, role]) =>
      (
        (role.Properties.Policies ?? []) as Array<{
          PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> };
        }>
      ).flatMap((p) =>
        p.PolicyDocument.Statement.map((s) => ({
          id,
          actions: [s.Action].flat(),
          resource: JSON.stringify(s.Resource),
        })),
      ),
    );
    for (const s of statements) {
      expect(
        s.actions.filter((a) => a === '*' || a === 's3:*'),
        s.id,
      ).toEqual([]);
      if (s.actions.some((a) => a.startsWith('s3:'))) expect(s.resource, s.id).not.toBe('"*"');
    }
    const publishing = statements.filter((s) => s.resource.includes('/citrix_monitor/*'));
    expect(publishing.map((s) => [s.id, s.actions])).toEqual([['CommitRole', ['s3:PutObject']]]);
    const fetch = statements.filter((s) => s.id === 'FetchPageRole' && s.actions.includes('s3:PutObject'));
    expect(fetch.map((s) => s.resource)).toEqual([
      expect.stringContaining('/collector-work/citrix_monitor/staging/*"'),
    ]);
    expect(fetch[0]?.resource.match(/arn:/g)).toHaveLength(1);
    const secrets = statements.filter((s) => s.actions.includes('secretsmanager:GetSecretValue'));
    expect(secrets.map((s) => s.id)).toEqual(['FetchPageRole', 'FetchPageRole']);
    for (const s of secrets) expect(s.resource).not.toBe('"*"');
  });

  it('creates the client secret as the placeholder the collector refuses until the operator puts the secret', () => {
    const secret = resources.CitrixClientSecret?.Properties;
    expect(secret?.SecretString).toBe(PLACEHOLDER_SECRET);
    expect(secret).not.toHaveProperty('GenerateSecretString');
  });

  it('keeps the data bucket when the stack is deleted and when a change would replace it', () => {
    expect(resources.CollectorBucket).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('keeps the client secret the operator put when the stack is deleted and when a change would replace it', () => {
    expect(resources.CitrixClientSecret).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('reads the client secret from Secrets Manager at run time and never puts it in the template', () => {
    const functions = ofType('AWS::Lambda::Function');
    for (const [, f] of functions) {
      const vars = (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(vars).toHaveProperty('CITRIX_CLIENT_SECRET_ARN');
      expect(vars).not.toHaveProperty('CITRIX_CLIENT_SECRET');
    }
  });
});

describe('operations in the packaged template', () => {
  it('has an SNS topic for alarms, with an email subscription only when an address is given', () => {
    expect(ofType('AWS::SNS::Topic').map(([id]) => id)).toEqual(['AlarmTopic']);
    const [[, subscription] = []] = ofType('AWS::SNS::Subscription');
    expect((subscription as unknown as { Condition: string }).Condition).toBe('HasAlarmEmail');
  });

  it('alarms on an execution that failed, timed out or was aborted, notifying the topic', () => {
    const alarm = resources.FailedExecutionAlarm?.Properties as {
      Metrics: Array<{
        Id: string;
        MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown[] } };
      }>;
      AlarmActions: unknown[];
    };
    const watched = alarm.Metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    expect(watched.map((m) => `${m.Namespace}/${m.MetricName}`).sort()).toEqual([
      'AWS/States/ExecutionsAborted',
      'AWS/States/ExecutionsFailed',
      'AWS/States/ExecutionsTimedOut',
    ]);
    for (const m of watched)
      expect(m.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: { Ref: 'CollectorStateMachine' } }]);
    expect(alarm.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
  });

  it('counts a period in which one of the three metrics has no datapoint as 0 for it, not as no datapoint', () => {
    const alarm = resources.FailedExecutionAlarm?.Properties as {
      TreatMissingData: string;
      Metrics: Array<{ Id: string; Expression?: string; MetricStat?: unknown; ReturnData?: boolean }>;
    };
    const [returned, ...others] = alarm.Metrics.filter((m) => m.ReturnData !== false);
    expect(others).toEqual([]);
    const terms = (returned?.Expression ?? '').split('+').map((term) => term.trim());
    const inputs = alarm.Metrics.filter((m) => m.MetricStat).map((m) => m.Id);
    expect(inputs).toHaveLength(3);
    expect(terms.sort()).toEqual(inputs.map((id) => `FILL(${id}, 0)`).sort());
    expect(alarm.TreatMissingData).toBe('notBreaching');
  });

  it('alarms on lag above the threshold, on the metric the collector emits, and when no lag is reported', () => {
    const alarm = resources.LagAlarm?.Properties as Record<string, unknown>;
    expect(alarm).toMatchObject({
      Metrics: [
        {
          Id: 'lagMinutes',
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: NAMESPACE,
              MetricName: 'LagMinutes',
              Dimensions: [{ Name: 'service', Value: SERVICE }],
            },
            Stat: 'Maximum',
          },
        },
        { Id: 'lagHours', Expression: 'lagMinutes / 60' },
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(Number(alarm.Threshold)).toBe(3);
  });

  it('has a dashboard of rows per entity, lag, failed executions, throttles and duration', () => {
    const dashboardResource = resources.CollectorDashboard;
    if (!dashboardResource) throw new Error('no CollectorDashboard in the template');
    const body = (dashboardResource.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'];
    const dashboard = JSON.parse(body.replace(/\$\{[^}]+\}/g, '0')) as {
      widgets: Array<{ properties: { title: string } }>;
    };
    const titles = dashboard.widgets.map((w) => w.properties.title).join(' | ');
    for (const word of ['Rows published per entity', 'Lag', 'Executions', 'throttling', 'Duration'])
      expect(titles).toContain(word);
    for (const metric of ['"Rows', 'LagMinutes', 'ExecutionsFailed', 'Throttles', 'FetchSeconds'])
      expect(body).toContain(metric);
    expect(body).toContain(NAMESPACE);
  });
});

// ---- What CloudFormation creates from a template: conditions evaluated, Fn::If resolved ----------------

const NO_VALUE = Symbol('AWS::NoValue');
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function conditionsOf(template: Template): Record<string, boolean> {
  const definitions = template.Conditions ?? {};
  const known: Record<string, boolean> = {};
  const named = (name: string): boolean => {
    if (!(name in definitions)) throw new Error(`no condition ${name}`);
    known[name] ??= evaluate(definitions[name]);
    return known[name];
  };
  const evaluate = (expression: unknown): boolean => {
    if (!isObject(expression)) throw new Error(`not a condition: ${JSON.stringify(expression)}`);
    const [[fn, args] = []] = Object.entries(expression);
    const list = args as unknown[];
    if (fn === 'Condition') return named(args as string);
    if (fn === 'Fn::Not') return !evaluate(list[0]);
    if (fn === 'Fn::And') return list.every(evaluate);
    if (fn === 'Fn::Or') return list.some(evaluate);
    if (fn === 'Fn::Equals' && list.every((a) => typeof a === 'string')) return list[0] === list[1];
    throw new Error(`cannot evaluate ${JSON.stringify(expression)} offline`);
  };
  for (const name of Object.keys(definitions)) named(name);
  return known;
}

function resolveIfs(value: unknown, conditions: Record<string, boolean>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIfs(v, conditions)).filter((v) => v !== NO_VALUE);
  if (!isObject(value)) return value;
  if (value.Ref === 'AWS::NoValue') return NO_VALUE;
  if ('Fn::If' in value) {
    const [condition, whenTrue, whenFalse] = value['Fn::If'] as [string, unknown, unknown];
    if (!(condition in conditions)) throw new Error(`no condition ${condition}`);
    return resolveIfs(conditions[condition] ? whenTrue : whenFalse, conditions);
  }
  const entries = Object.entries(value).map(([k, v]) => [k, resolveIfs(v, conditions)] as const);
  return Object.fromEntries(entries.filter(([, v]) => v !== NO_VALUE));
}

/** The resources and outputs CloudFormation would create from the template, with its parameters. */
function created(template: Template): Required<Pick<Template, 'Resources' | 'Outputs'>> {
  const conditions = conditionsOf(template);
  const kept = <T extends { Condition?: string }>(entries: Record<string, T>) =>
    Object.fromEntries(
      Object.entries(entries)
        .filter(([, r]) => r.Condition === undefined || conditions[r.Condition])
        .map(([id, r]) => [id, resolveIfs(r, conditions) as T]),
    );
  return { Resources: kept(template.Resources), Outputs: kept(template.Outputs ?? {}) };
}

/** A Ref, GetAtt or Sub written out: `arn:aws:s3:::<CollectorBucket>/…`, `<SecopsQueue.Arn>`. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const name = (ref: string) => (ref === 'AWS::Partition' ? 'aws' : `<${ref}>`);
  if (isObject(value) && typeof value.Ref === 'string') return name(value.Ref);
  if (isObject(value) && Array.isArray(value['Fn::GetAtt'])) return name(value['Fn::GetAtt'].join('.'));
  if (isObject(value) && 'Fn::Sub' in value) {
    const sub = value['Fn::Sub'];
    const [text, variables] = (Array.isArray(sub) ? sub : [sub, {}]) as [string, Record<string, unknown>];
    return text.replace(/\$\{([^}]+)\}/g, (_, v: string) =>
      v in variables ? render(variables[v]) : name(v),
    );
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

type Statement = {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
const statementsOf = (policy: Resource | undefined): Statement[] =>
  (policy?.Properties.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
/** Each statement as actions on rendered resources, with its condition: what it allows, readably. */
const grants = (policy: Resource | undefined) =>
  statementsOf(policy).map((s) => ({
    effect: s.Effect,
    actions: [s.Action].flat(),
    resources: [s.Resource].flat().map(render),
    ...(s.Condition ? { condition: s.Condition } : {}),
  }));

const SUBJECT = '123456789012345678901';

describe('Google SecOps reader access, as CloudFormation creates it from the packaged template', () => {
  let byDefault: ReturnType<typeof created>;
  /** Step one for an SQS feed: the role and the queue, on the bucket the stack creates, no notification yet. */
  let federated: ReturnType<typeof created>;
  /** Everything on: deletion after transfer, the access-key user, the queue and the bucket's notification. */
  let everything: ReturnType<typeof created>;
  let existingBucket: ReturnType<typeof created>;

  beforeAll(() => {
    byDefault = created(defaultTemplate);
    federated = created(packageWith({ secopsSubjectId: SUBJECT, secopsSqs: 'true' }));
    everything = created(
      packageWith({
        secopsSubjectId: SUBJECT,
        secopsDeletesFiles: 'true',
        secopsAccessKeyUser: 'true',
        secopsSqs: 'true',
        secopsSqsNotify: 'true',
      }),
    );
    existingBucket = created(
      packageWith({
        bucketName: 'existing-bucket',
        secopsSubjectId: SUBJECT,
        secopsSqs: 'true',
        secopsSqsNotify: 'true',
      }),
    );
  }, 400_000);

  const typesOf = (template: ReturnType<typeof created>) =>
    new Set(Object.values(template.Resources).map((r) => r.Type));

  it('creates no reader role, user, policy or queue with the default parameters', () => {
    const types = typesOf(byDefault);
    for (const type of [
      'AWS::IAM::User',
      'AWS::IAM::ManagedPolicy',
      'AWS::SQS::Queue',
      'AWS::SQS::QueuePolicy',
    ])
      expect(types, type).not.toContain(type);
    expect(Object.keys(byDefault.Resources).filter((id) => id.startsWith('Secops'))).toEqual([]);
    expect(Object.keys(byDefault.Outputs).filter((id) => id.startsWith('Secops'))).toEqual([]);
    expect(byDefault.Resources.CollectorBucket?.Properties).not.toHaveProperty('NotificationConfiguration');
  });

  it("lets only the feed's subject assume the reader role, by web identity federation with accounts.google.com", () => {
    const role = federated.Resources.SecopsReaderRole;
    expect(role?.Type).toBe('AWS::IAM::Role');
    expect(role?.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: 'accounts.google.com' },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { 'accounts.google.com:sub': SUBJECT } },
        },
      ],
    });
    expect(role?.Properties.ManagedPolicyArns).toEqual([{ Ref: 'SecopsReaderPolicy' }]);
    expect(role?.Properties).not.toHaveProperty('Policies');
  });

  it('lets the reader read and list the published prefix, and nothing of the work prefix', () => {
    const policy = federated.Resources.SecopsReaderPolicy;
    const s3 = grants(policy).filter((g) => g.actions.some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      {
        effect: 'Allow',
        actions: ['s3:GetObject'],
        resources: ['arn:aws:s3:::<CollectorBucket>/citrix_monitor/*'],
      },
      {
        effect: 'Allow',
        actions: ['s3:ListBucket'],
        resources: ['arn:aws:s3:::<CollectorBucket>'],
        condition: { StringLike: { 's3:prefix': ['citrix_monitor/*', 'citrix_monitor/'] } },
      },
    ]);
    expect(JSON.stringify(policy)).not.toContain('collector-work');
  });

  it('lets the reader delete published files only when the feed deletes transferred files', () => {
    const deleting = (template: ReturnType<typeof created>) =>
      grants(template.Resources.SecopsReaderPolicy).filter((g) => g.actions.includes('s3:DeleteObject'));
    expect(deleting(federated)).toEqual([]);
    expect(deleting(everything)).toEqual([
      {
        effect: 'Allow',
        actions: ['s3:DeleteObject'],
        resources: ['arn:aws:s3:::<CollectorBucket>/citrix_monitor/*'],
      },
    ]);
    expect(JSON.stringify(everything.Resources.SecopsReaderPolicy)).not.toContain('collector-work');
  });

  it('gives the access-key user the same policy as the role, and never an access key', () => {
    const user = everything.Resources.SecopsReaderUser;
    expect(user?.Type).toBe('AWS::IAM::User');
    expect(user?.Properties.ManagedPolicyArns).toEqual(
      everything.Resources.SecopsReaderRole?.Properties.ManagedPolicyArns,
    );
    expect(user?.Properties).not.toHaveProperty('Policies');
    expect(Object.keys(federated.Resources)).not.toContain('SecopsReaderUser');
    for (const template of [byDefault, federated, everything, existingBucket])
      expect(typesOf(template)).not.toContain('AWS::IAM::AccessKey');
  });

  it('refuses every request without TLS on the bucket it creates and its objects, and puts no policy on an existing bucket', () => {
    const policy = byDefault.Resources.CollectorBucketPolicy;
    expect(policy?.Properties.Bucket).toEqual({ Ref: 'CollectorBucket' });
    expect(statementsOf(policy)).toHaveLength(1);
    expect(statementsOf(policy)[0]?.Principal).toBe('*');
    expect(grants(policy)).toEqual([
      {
        effect: 'Deny',
        actions: ['s3:*'],
        resources: ['<CollectorBucket.Arn>', '<CollectorBucket.Arn>/*'],
        condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
    const onTheirBucket = Object.values(existingBucket.Resources).filter(
      (r) =>
        r.Type === 'AWS::S3::BucketPolicy' &&
        JSON.stringify(r.Properties.Bucket) !== '{"Ref":"ServerlessDeploymentBucket"}',
    );
    expect(onTheirBucket).toEqual([]);
  });

  it('queues S3 notifications for an Amazon SQS V2 feed: encrypted, with a dead-letter queue, sent to only by S3 for this bucket', () => {
    const queue = federated.Resources.SecopsQueue?.Properties;
    expect(queue).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['SecopsDeadLetterQueue', 'Arn'] } },
    });
    expect(federated.Resources.SecopsDeadLetterQueue?.Properties.SqsManagedSseEnabled).toBe(true);
    const policy = federated.Resources.SecopsQueuePolicy;
    expect(policy?.Properties.Queues).toEqual([{ Ref: 'SecopsQueue' }]);
    expect(statementsOf(policy)).toHaveLength(1);
    expect(statementsOf(policy)[0]).toMatchObject({ Principal: { Service: 's3.amazonaws.com' } });
    expect(grants(policy)).toEqual([
      {
        effect: 'Allow',
        actions: ['sqs:SendMessage'],
        resources: ['<SecopsQueue.Arn>'],
        condition: {
          ArnEquals: { 'aws:SourceArn': expect.anything() },
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        },
      },
    ]);
    expect(render(statementsOf(policy)[0]?.Condition?.ArnEquals?.['aws:SourceArn'])).toBe(
      'arn:aws:s3:::<CollectorBucket>',
    );
    const reading = grants(federated.Resources.SecopsReaderPolicy).filter((g) =>
      g.actions.some((a) => a.startsWith('sqs:')),
    );
    expect(reading).toEqual([
      {
        effect: 'Allow',
        actions: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:ChangeMessageVisibility',
        ],
        resources: ['<SecopsQueue.Arn>'],
      },
    ]);
    const alarm = federated.Resources.SecopsDeadLetterAlarm?.Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['SecopsDeadLetterQueue', 'QueueName'] } }],
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });

  it('notifies the queue of objects created under the published prefix only, from the deploy that sets secopsSqsNotify', () => {
    expect(federated.Resources.CollectorBucket?.Properties).not.toHaveProperty('NotificationConfiguration');
    expect(everything.Resources.CollectorBucket?.Properties.NotificationConfiguration).toEqual({
      QueueConfigurations: [
        {
          Event: 's3:ObjectCreated:*',
          Queue: { 'Fn::GetAtt': ['SecopsQueue', 'Arn'] },
          Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'citrix_monitor/' }] } },
        },
      ],
    });
  });

  it('scopes the reader and the queue to an existing bucket, and configures nothing on that bucket', () => {
    expect(Object.keys(existingBucket.Resources)).not.toContain('CollectorBucket');
    const reader = grants(existingBucket.Resources.SecopsReaderPolicy);
    expect(reader.flatMap((g) => g.resources)).toEqual([
      'arn:aws:s3:::existing-bucket/citrix_monitor/*',
      'arn:aws:s3:::existing-bucket',
      '<SecopsQueue.Arn>',
    ]);
    const [sending] = statementsOf(existingBucket.Resources.SecopsQueuePolicy);
    expect(render(sending?.Condition?.ArnEquals?.['aws:SourceArn'])).toBe('arn:aws:s3:::existing-bucket');
  });

  it('outputs what the feed form asks for: S3 URI, role ARN, queue, and the access-key user', () => {
    const outputs = everything.Outputs;
    expect(render(outputs.PublishedPrefix?.Value)).toBe('s3://<CollectorBucket>/citrix_monitor/');
    expect(outputs.SecopsReaderRoleArn?.Value).toEqual({ 'Fn::GetAtt': ['SecopsReaderRole', 'Arn'] });
    expect(outputs.SecopsQueueArn?.Value).toEqual({ 'Fn::GetAtt': ['SecopsQueue', 'Arn'] });
    expect(outputs.SecopsQueueUrl?.Value).toEqual({ Ref: 'SecopsQueue' });
    expect(outputs.SecopsAccessKeyUserName?.Value).toEqual({ Ref: 'SecopsReaderUser' });
    expect(outputs.SecopsDeadLetterQueueArn?.Value).toEqual({
      'Fn::GetAtt': ['SecopsDeadLetterQueue', 'Arn'],
    });
    expect(render(existingBucket.Outputs.PublishedPrefix?.Value)).toBe(
      's3://existing-bucket/citrix_monitor/',
    );
    expect(Object.keys(federated.Outputs)).not.toContain('SecopsAccessKeyUserName');
  });
});

// ---- Many tenants ----------------------------------------------------------------------------------------

/** Every statement of a role's inline policies, as {@link grants} shows them. */
const roleGrants = (role: Resource | undefined) =>
  ((role?.Properties.Policies ?? []) as Array<{ PolicyDocument: unknown }>).flatMap((p) =>
    grants({ Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: p.PolicyDocument } }),
  );
const s3Grants = (role: Resource | undefined) =>
  roleGrants(role).filter((g) => g.actions.some((a) => a.startsWith('s3:')));

const BUCKET = 'arn:aws:s3:::<CollectorBucket>';
const WORK = `${BUCKET}/collector-work/citrix_monitor`;
const logsOf = (fn: string) => ({
  effect: 'Allow',
  actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  resources: [
    `arn:aws:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/lambda/citrix-monitor-collector-ci-${fn}:*`,
  ],
});
const listing = (prefix: string) => ({
  effect: 'Allow',
  actions: ['s3:ListBucket'],
  resources: [BUCKET],
  condition: { StringLike: { 's3:prefix': [`${prefix}/*`] } },
});

/** The dimension sets of the CloudWatch embedded-metric lines Powertools writes for one metric call. */
function emittedDimensions(emit: (telemetry: ReturnType<typeof powertoolsTelemetry>['telemetry']) => void) {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const { telemetry, metrics } = powertoolsTelemetry();
    emit(telemetry);
    metrics.publishStoredMetrics();
  } finally {
    write.mockRestore();
  }
  return lines
    .flatMap((line) => line.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .flatMap((line) => {
      const emf = JSON.parse(line) as {
        _aws: {
          CloudWatchMetrics: Array<{
            Namespace: string;
            Dimensions: string[][];
            Metrics: Array<{ Name: string }>;
          }>;
        };
      };
      return emf._aws.CloudWatchMetrics.flatMap((m) =>
        m.Dimensions.map((d) => ({
          namespace: m.Namespace,
          metrics: m.Metrics.map((x) => x.Name),
          dimensions: [...d].sort(),
        })),
      );
    });
}

describe('many tenants, as CloudFormation creates it from the packaged template', () => {
  let byDefault: ReturnType<typeof created>;
  /** Another work prefix and secret prefix: the tenant list's key follows the work prefix. */
  let moved: ReturnType<typeof created>;
  /** A tenant list under a key of its own, fewer tenants side by side. */
  let ownKey: ReturnType<typeof created>;

  beforeAll(() => {
    byDefault = created(defaultTemplate);
    moved = created(packageWith({ workPrefix: 'work/cm', tenantSecretPrefix: 'ops/citrix/' }));
    ownKey = created(
      packageWith({
        tenantsKey: 'collector-work/citrix_monitor/fleet.json',
        tenantConcurrency: '8',
        allowedApiHosts: 'citrix-proxy.example.internal',
      }),
    );
  }, 300_000);

  it("runs each tenant as a child execution of a Distributed Map, catching each tenant's failure, then reports them all", () => {
    const asl = definition() as ReturnType<typeof definition> & { StartAt: string };
    const states = asl.States;
    expect(asl.StartAt).toBe('Tenants');
    expect(taskFunction(states.Tenants.Resource)).toEqual({ 'Fn::GetAtt': ['TenantsLambdaFunction', 'Arn'] });
    // Tenants on time go to Express children first; those behind, and those handed on, to Standard ones.
    expect(states.Tenants.Next).toBe('Any on time?');
    expect(states['Any on time?']).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.onTime[0]', IsPresent: true, Next: 'Collect on time' }],
      Default: 'Any behind?',
    });
    expect(states['Collect on time']).toMatchObject({ ItemsPath: '$.onTime', Next: 'HandOn' });
    expect(taskFunction(states.HandOn.Resource)).toEqual({ 'Fn::GetAtt': ['HandOnLambdaFunction', 'Arn'] });
    expect(states.HandOn.Next).toBe('Any behind?');
    expect(states['Any behind?']).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.tenants[0]', IsPresent: true, Next: 'Collect tenants' }],
      Default: 'Collected',
    });
    const collect = states['Collect tenants'];
    expect(collect).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.tenants',
      MaxConcurrencyPath: '$.tenantConcurrency',
      Label: 'Tenant',
      ResultPath: null,
      Next: 'Collected',
    });
    expect(collect.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    // Every child fails alone: no tolerance is needed, and a child that fails uncaught fails the map.
    expect(collect.ToleratedFailurePercentage ?? 0).toBe(0);
    // JSONPath throughout: the local runner does not run JSONata, so a state written in it would pass here
    // and behave otherwise in AWS.
    const text = JSON.stringify(definition());
    expect(text).toContain('"QueryLanguage":"JSONPath"');
    expect(text).not.toContain('"QueryLanguage":"JSONata"');
    expect(text).not.toMatch(/"\{%/);
    const tenant = collect.ItemProcessor.States.Tenant;
    expect(tenant.Type).toBe('Parallel');
    expect(tenant.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Failed' })]);
    expect(taskFunction(collect.ItemProcessor.States.Failed.Resource)).toEqual({
      'Fn::GetAtt': ['FailedLambdaFunction', 'Arn'],
    });
    // A child's output is a constant, so the map's output stays small at any number of tenants.
    expect(tenant.ResultSelector).toEqual({ collected: true });
    expect(collect.ItemProcessor.States.Failed.ResultSelector).toEqual({ collected: false });
    expect(tenantStates().Plan.Next).toBe('Windows');
    expect(taskFunction(tenantStates().Plan.Resource)).toEqual({
      'Fn::GetAtt': ['PlanLambdaFunction', 'Arn'],
    });
    expect(states.Collected.Next).toBe('Report');
    expect(taskFunction(states.Report.Resource)).toEqual({ 'Fn::GetAtt': ['ReportLambdaFunction', 'Arn'] });
    expect(states.Report.Next).toBe('Again?');
    expect(states['Again?'].Choices[0].Next).toBe('Collect tenants');
  });

  it('runs the tenants that are on time as Express children and the others as Standard ones, and logs the failures of both without any data', () => {
    const states = definition().States;
    expect(states['Collect on time'].ItemProcessor.ProcessorConfig).toEqual({
      Mode: 'DISTRIBUTED',
      ExecutionType: 'EXPRESS',
    });
    expect(states['Collect tenants'].ItemProcessor.ProcessorConfig).toEqual({
      Mode: 'DISTRIBUTED',
      ExecutionType: 'STANDARD',
    });
    // A child's $$.Execution is its own: the Express child reads its own start there (its fetch deadline
    // counts from it), and nothing else; the Standard child reads none of it.
    const express = JSON.stringify(states['Collect on time'].ItemProcessor);
    expect(express.match(/\$\$\.Execution[.\w]*/g)).toEqual(['$$.Execution.StartTime']);
    expect(express).toContain('"childStart.$":"$$.Execution.StartTime"');
    expect(JSON.stringify(states['Collect tenants'].ItemProcessor)).not.toContain('$$.Execution');
    // Express children keep no history: their failures go to the state machine's log group, at ERROR, with
    // no state's input or output (rows, tokens) in it.
    const logging = stateMachine().Properties.LoggingConfiguration;
    expect(logging).toEqual({
      Level: 'ERROR',
      IncludeExecutionData: false,
      Destinations: [
        { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['CollectorLogGroup', 'Arn'] } } },
      ],
    });
    expect(byDefault.Resources.CollectorLogGroup?.Properties).toMatchObject({
      LogGroupName: '/aws/vendedlogs/states/citrix-monitor-collector-ci',
      RetentionInDays: 30,
    });
    // No Pass or Fail state of the definition copies a state's data into what ERROR logs: a Fail state raises
    // again the error a Task caught (its own cause, which the failed Task logged already) led by the window
    // and entity the Task had, and the states before it read nothing else (no rows, no continuation).
    const text = JSON.stringify(definition());
    const paths = [...text.matchAll(/"(?:CausePath|ErrorPath)":"([^"]*)"/g)].map(([, path]) => path);
    expect(new Set(paths)).toEqual(new Set(['$.Error', '$.Cause']));
    interface AnyState {
      readonly Parameters?: unknown;
      readonly ItemProcessor?: { readonly States: Record<string, AnyState> };
      readonly Branches?: ReadonlyArray<{ readonly States: Record<string, AnyState> }>;
    }
    const all = (states: Record<string, AnyState>): Array<[string, AnyState]> =>
      Object.entries(states).flatMap(
        ([name, state]): Array<[string, AnyState]> => [
          [name, state],
          ...(state.ItemProcessor ? all(state.ItemProcessor.States) : []),
          ...(state.Branches ?? []).flatMap((branch) => all(branch.States)),
        ],
      );
    const failing = all(definition().States).filter(([name]) =>
      / (caught|failure)( \(on time\))?$/.test(name),
    );
    const read = failing.flatMap(([, state]) =>
      [...JSON.stringify(state.Parameters).matchAll(/":"([^"]*\$[^"]*)"/g)].map(([, path]) => path),
    );
    expect(failing.length).toBeGreaterThan(0);
    expect(new Set(read)).toEqual(
      new Set([
        '$.start',
        '$.end',
        '$.entity',
        '$.failure',
        '$.failure.Error',
        "States.Format('{} {}', States.JsonToString($.failedAt), $.failure.Cause)",
      ]),
    );
  });

  it("hands the children what they need of the parent through ItemSelector: no state of a child reads $$.Execution, which in AWS is the child's own", () => {
    const collect = definition().States['Collect tenants'];
    const inChild = JSON.stringify(collect.ItemProcessor);

    expect(inChild).not.toContain('$$.Execution');
    expect(collect.ItemSelector).toEqual({
      'tenant.$': '$$.Map.Item.Value',
      'input.$': '$.input',
      'runId.$': '$.runId',
      'startTime.$': '$.startTime',
    });
  });

  it('lets the state machine invoke its seven functions and run, describe, stop and redrive its own children, and nothing wider', () => {
    const execution = 'arn:aws:states:<AWS::Region>:<AWS::AccountId>:execution:citrix-monitor-collector-ci';
    const fn = (id: string) => `<${id}LambdaFunction.Arn>`;

    expect(stateMachine().Properties.RoleArn).toEqual({ 'Fn::GetAtt': ['CollectorStateMachineRole', 'Arn'] });
    expect(roleGrants(byDefault.Resources.CollectorStateMachineRole)).toEqual([
      {
        effect: 'Allow',
        actions: ['lambda:InvokeFunction'],
        resources: ['Tenants', 'Plan', 'FetchPage', 'Commit', 'Failed', 'HandOn', 'Report'].map(fn),
      },
      {
        effect: 'Allow',
        actions: ['states:StartExecution'],
        resources: ['arn:aws:states:<AWS::Region>:<AWS::AccountId>:stateMachine:citrix-monitor-collector-ci'],
      },
      {
        effect: 'Allow',
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [`${execution}:*`, `${execution}/*`],
      },
      { effect: 'Allow', actions: ['states:RedriveExecution'], resources: [`${execution}/Tenant:*`] },
      {
        effect: 'Allow',
        actions: [
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
        resources: ['*'],
      },
    ]);
  });

  it('runs the tenants, failed and report functions, each with a role of its own', () => {
    for (const [fn, timeout, role] of [
      ['tenants', 60, 'TenantsRole'],
      ['failed', 30, 'FailedRole'],
      ['report', 30, 'ReportRole'],
    ] as const) {
      const id = `${fn[0]?.toUpperCase()}${fn.slice(1)}LambdaFunction`;
      expect(byDefault.Resources[id]?.Properties, id).toMatchObject({
        Handler: `functions/${fn}.handler`,
        Runtime: 'nodejs24.x',
        Timeout: timeout,
        MemorySize: 256,
        Role: { 'Fn::GetAtt': [role, 'Arn'] },
      });
    }
  });

  it('runs every function at 256 MB, the size the real-speed bench chose', () => {
    const sizes = Object.values(byDefault.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((f) => f.Properties.MemorySize);
    expect(sizes).toEqual(Array(7).fill(256));
  });

  it("lets the tenants role read the tenant list and each tenant's state (to route it) and nothing else, and list the work prefix so a missing list is a 404", () => {
    expect(roleGrants(byDefault.Resources.TenantsRole)).toEqual([
      logsOf('tenants'),
      { effect: 'Allow', actions: ['s3:GetObject'], resources: [`${WORK}/tenants.json`] },
      {
        effect: 'Allow',
        actions: ['s3:GetObject'],
        resources: [`${WORK}/state.json`, `${WORK}/tenants/*/state.json`],
      },
      listing('collector-work/citrix_monitor'),
      { effect: 'Allow', actions: ['s3:PutObject'], resources: [`${WORK}/runs/*/tenants.json`] },
    ]);
    expect(s3Grants(moved.Resources.TenantsRole)).toEqual([
      { effect: 'Allow', actions: ['s3:GetObject'], resources: [`${BUCKET}/work/cm/tenants.json`] },
      {
        effect: 'Allow',
        actions: ['s3:GetObject'],
        resources: [`${BUCKET}/work/cm/state.json`, `${BUCKET}/work/cm/tenants/*/state.json`],
      },
      listing('work/cm'),
      { effect: 'Allow', actions: ['s3:PutObject'], resources: [`${BUCKET}/work/cm/runs/*/tenants.json`] },
    ]);
    expect(s3Grants(ownKey.Resources.TenantsRole)[0]?.resources).toEqual([`${WORK}/fleet.json`]);
  });

  it("gives the report role the run's failure records and nothing else, the failed role its run's list and failure records", () => {
    const runs = listing('collector-work/citrix_monitor/runs');
    expect(roleGrants(byDefault.Resources.ReportRole)).toEqual([
      logsOf('report'),
      { effect: 'Allow', actions: ['s3:GetObject'], resources: [`${WORK}/runs/*/failed/*`] },
      runs,
    ]);
    expect(roleGrants(byDefault.Resources.FailedRole)).toEqual([
      logsOf('failed'),
      { effect: 'Allow', actions: ['s3:GetObject'], resources: [`${WORK}/runs/*/tenants.json`] },
      { effect: 'Allow', actions: ['s3:PutObject'], resources: [`${WORK}/runs/*/failed/*`] },
      runs,
    ]);
  });

  it("keeps each run's list and failure records past a redrive 14 days after a failure, and a second one after that", () => {
    const lifecycle = byDefault.Resources.CollectorBucket?.Properties.LifecycleConfiguration as
      | { Rules: Array<{ Id: string; Prefix?: string; ExpirationInDays?: number }> }
      | undefined;
    const rule = (lifecycle?.Rules ?? []).find((r) => r.Id === 'expire-run-records');
    expect(rule).toMatchObject({ Prefix: 'collector-work/citrix_monitor/runs/' });
    const REDRIVE_WINDOW_DAYS = 14;
    expect(rule?.ExpirationInDays).toBeGreaterThan(2 * REDRIVE_WINDOW_DAYS);
    // The number the messages of a late redrive name.
    expect(rule?.ExpirationInDays).toBe(RUN_RECORDS_DAYS);
  });

  it("gives plan, fetchPage and commit each listed tenant's state, commits and staging, and nothing wider", () => {
    const state = [
      `${WORK}/state.json`,
      `${WORK}/commits/*`,
      `${WORK}/tenants/*/state.json`,
      `${WORK}/tenants/*/commits/*`,
    ];
    // A listed tenant stages under staging/tenants/<id>/, so the one staging rule expires it too.
    const staging = [`${WORK}/staging/*`];
    expect(s3Grants(byDefault.Resources.PlanRole)).toEqual([
      {
        effect: 'Allow',
        actions: ['s3:GetObject'],
        resources: [...state, `${WORK}/runs/*/tenants.json`, `${WORK}/staging/*/resume.json`],
      },
      { effect: 'Allow', actions: ['s3:DeleteObject'], resources: [`${WORK}/runs/*/failed/*`] },
      listing('collector-work/citrix_monitor'),
    ]);
    // What an Express child kept when its time box closed: Commit writes it, Plan reads it (its listing
    // of the work prefix makes a missing one a 404).
    const resume = [`${WORK}/staging/*/resume.json`];
    expect(s3Grants(byDefault.Resources.FetchPageRole)).toEqual([
      { effect: 'Allow', actions: ['s3:PutObject'], resources: staging },
    ]);
    expect(s3Grants(byDefault.Resources.CommitRole)).toEqual([
      { effect: 'Allow', actions: ['s3:GetObject', 's3:PutObject'], resources: state },
      { effect: 'Allow', actions: ['s3:GetObject', 's3:DeleteObject'], resources: staging },
      { effect: 'Allow', actions: ['s3:PutObject'], resources: resume },
      // A tenant publishes under citrix_monitor/<id>/, and asks for versions there.
      { effect: 'Allow', actions: ['s3:PutObject'], resources: [`${BUCKET}/citrix_monitor/*`] },
      listing('collector-work/citrix_monitor'),
      {
        effect: 'Allow',
        actions: ['s3:ListBucketVersions'],
        resources: [BUCKET],
        condition: { StringLike: { 's3:prefix': ['citrix_monitor/*'] } },
      },
      { effect: 'Allow', actions: ['s3:GetBucketVersioning'], resources: [BUCKET] },
    ]);
    expect(s3Grants(moved.Resources.CommitRole)[1]?.resources).toEqual([`${BUCKET}/work/cm/staging/*`]);
  });

  it("lets only fetchPage read secrets: the stack's client secret, and the tenants' by name prefix", () => {
    const secretsOf = (template: ReturnType<typeof created>) =>
      Object.entries(template.Resources).flatMap(([id, r]) => {
        const statements =
          r.Type === 'AWS::IAM::Role' || r.Type === 'AWS::IAM::User'
            ? roleGrants(r)
            : r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy'
              ? grants(r)
              : [];
        return statements
          .filter((g) => g.actions.some((a) => a.startsWith('secretsmanager:') || a === '*'))
          .map((g) => ({ id, ...g }));
      });
    const tenantSecrets = (prefix: string) =>
      `arn:aws:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}*`;
    expect(secretsOf(byDefault)).toEqual([
      {
        id: 'FetchPageRole',
        effect: 'Allow',
        actions: ['secretsmanager:GetSecretValue'],
        resources: ['<CitrixClientSecret>'],
      },
      {
        id: 'FetchPageRole',
        effect: 'Allow',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [tenantSecrets('citrix-monitor/ci/tenants/')],
      },
    ]);
    expect(secretsOf(moved).map((g) => [g.id, g.resources])).toEqual([
      ['FetchPageRole', ['<CitrixClientSecret>']],
      ['FetchPageRole', [tenantSecrets('ops/citrix/')]],
    ]);
  });

  it('gives every function the tenant list, the tenants side by side and the secret prefix it checks', () => {
    const variables = (template: ReturnType<typeof created>) =>
      Object.values(template.Resources)
        .filter((r) => r.Type === 'AWS::Lambda::Function')
        .map((f) => (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables);
    const tenantSettings = (template: ReturnType<typeof created>) =>
      variables(template).map(
        ({ TENANTS_KEY, TENANT_CONCURRENCY, TENANT_SECRET_PREFIX, ALLOWED_API_HOSTS }) => ({
          TENANTS_KEY,
          TENANT_CONCURRENCY,
          TENANT_SECRET_PREFIX,
          ALLOWED_API_HOSTS,
        }),
      );
    expect(tenantSettings(byDefault)).toEqual(
      Array(7).fill({
        TENANTS_KEY: 'collector-work/citrix_monitor/tenants.json',
        TENANT_CONCURRENCY: '10',
        TENANT_SECRET_PREFIX: 'citrix-monitor/ci/tenants/',
        ALLOWED_API_HOSTS: '',
      }),
    );
    expect(tenantSettings(moved)[0]).toEqual({
      TENANTS_KEY: 'work/cm/tenants.json',
      TENANT_CONCURRENCY: '10',
      TENANT_SECRET_PREFIX: 'ops/citrix/',
      ALLOWED_API_HOSTS: '',
    });
    expect(tenantSettings(ownKey)[0]).toMatchObject({
      TENANTS_KEY: 'collector-work/citrix_monitor/fleet.json',
      TENANT_CONCURRENCY: '8',
      ALLOWED_API_HOSTS: 'citrix-proxy.example.internal',
    });
  });

  it('names the failed tenants in the failed-execution alarm, and alarms on the most behind tenant', () => {
    const failed = String(byDefault.Resources.FailedExecutionAlarm?.Properties.AlarmDescription);
    for (const words of [
      'TenantsFailed',
      'npx citrix-monitor status --tenant <id>',
      'npx citrix-monitor redrive',
    ])
      expect(failed).toContain(words);
    const lag = byDefault.Resources.LagAlarm?.Properties;
    expect(lag?.Metrics).toContainEqual(
      expect.objectContaining({
        MetricStat: expect.objectContaining({
          Stat: 'Maximum',
          Metric: expect.objectContaining({ Dimensions: [{ Name: 'service', Value: SERVICE }] }),
        }),
      }),
    );
    // Every listed tenant's lag also goes to that series: the alarm's Maximum is the worst tenant's.
    const emitted = emittedDimensions((t) => t.metric('LagMinutes', 5, { tenant: 'acme' }));
    expect(emitted).toContainEqual({
      namespace: NAMESPACE,
      metrics: ['LagMinutes'],
      dimensions: ['service'],
    });
  });

  it("charts each tenant's lag with a Metrics Insights query of the series the collector emits", () => {
    const dashboardResource = byDefault.Resources.CollectorDashboard;
    if (!dashboardResource) throw new Error('no CollectorDashboard in the template');
    const body = (dashboardResource.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'];
    const dashboard = JSON.parse(body.replace(/\$\{[^}]+\}/g, '0')) as {
      widgets: Array<{
        properties: { title: string; metrics: Array<Array<string | { expression?: string }>> };
      }>;
    };
    const queries = dashboard.widgets.flatMap((w) =>
      w.properties.metrics
        .flat()
        .flatMap((m) =>
          typeof m === 'object' && m.expression?.startsWith('SELECT')
            ? [{ title: w.properties.title, query: m.expression }]
            : [],
        ),
    );
    expect(queries).toEqual([
      {
        title: expect.stringContaining('per tenant'),
        query: `SELECT MAX(LagMinutes) FROM SCHEMA(${NAMESPACE}, Tenant, service) WHERE service = '${SERVICE}' GROUP BY Tenant ORDER BY MAX() DESC`,
      },
    ]);
    // SCHEMA matches the metrics whose dimensions are exactly those listed: the tenant's own series.
    const schema = /SCHEMA\(([^,]+), ([^)]+)\)/.exec(queries[0]?.query ?? '');
    const emitted = emittedDimensions((t) => t.metric('LagMinutes', 5, { tenant: 'acme' }));
    expect(emitted).toContainEqual({
      namespace: schema?.[1],
      metrics: ['LagMinutes'],
      dimensions: (schema?.[2] ?? '').split(', ').sort(),
    });
  });
});
