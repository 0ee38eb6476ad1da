/**
 * Packages the service exactly as `serverless deploy` would (osls + serverless-esbuild +
 * serverless-step-functions), offline and without AWS credentials, and checks the CloudFormation
 * template it generates.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAMESPACE, SERVICE } from '../../functions/commons/telemetry.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };
let resources: Record<string, Resource>;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citrix-collector-package-'));
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1' };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
    delete env[name];
  execFileSync('npx', ['serverless', 'package', '--stage', 'test', '--package', dir], {
    env,
    stdio: 'pipe',
    timeout: 120_000,
  });
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
  resources = template.Resources;
}, 150_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

describe('the packaged CloudFormation template', () => {
  it('holds a Standard state machine that maps over hours and entities and loops the page fetch on a continuation', () => {
    expect(stateMachine().Properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    const asl = definition();
    const hours = asl.States.Hours;
    expect(hours.Type).toBe('Map');
    expect(hours.MaxConcurrency).toBe(1);
    const entities = hours.ItemProcessor.States.Entities;
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
    expect(perEntity.FetchPages.Retry[0]).toEqual({
      ErrorEquals: expect.arrayContaining(['ForeignNextLink', 'BadConfiguration']),
      MaxAttempts: 0,
    });
    expect(hours.ItemProcessor.States.Entities.Next).toBe('Commit');
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

  it('runs every function on nodejs22.x with its own role', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual([
      'CommitLambdaFunction',
      'FetchPageLambdaFunction',
      'PlanLambdaFunction',
    ]);
    const roles = functions.map(([, f]) => JSON.stringify(f.Properties.Role));
    expect(new Set(roles).size).toBe(3);
    for (const [, f] of functions) expect(f.Properties.Runtime).toBe('nodejs22.x');
  });

  it('grants no wildcard S3 access and keeps each role to the prefixes it uses', () => {
    const statements = ofType('AWS::IAM::Role').flatMap(([id, role]) =>
      (
        role.Properties.Policies as Array<{
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
      expect.stringContaining('collector-work/citrix_monitor/staging/*'),
    ]);
    const secrets = statements.filter((s) => s.actions.includes('secretsmanager:GetSecretValue'));
    expect(secrets.map((s) => s.id)).toEqual(['FetchPageRole']);
    expect(secrets[0]?.resource).not.toBe('"*"');
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

  it('alarms on lag above the threshold, on the metric the collector emits, and when no lag is reported', () => {
    const alarm = resources.LagAlarm?.Properties as Record<string, unknown>;
    expect(alarm).toMatchObject({
      Namespace: NAMESPACE,
      MetricName: 'LagHours',
      Dimensions: [{ Name: 'service', Value: SERVICE }],
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
    for (const metric of ['"Rows', 'LagHours', 'ExecutionsFailed', 'Throttles', 'FetchSeconds'])
      expect(body).toContain(metric);
    expect(body).toContain(NAMESPACE);
  });
});
