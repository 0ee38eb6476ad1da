/**
 * Finding the deployed state machine, and the exit codes of what can go wrong before a command starts:
 * configuration (2) and AWS API failures (3). The Step Functions API is mocked with aws-sdk-client-mock,
 * since it has no local stand-in; S3 is a real s3rver.
 */
import { ListExecutionsCommand, ListStateMachinesCommand, SFNServiceException } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployedStages, machineArn, sfnMock, startS3, stopS3, world } from './world.ts';

beforeAll(startS3);
afterAll(stopS3);
beforeEach(() => sfnMock.reset());

const accessDenied = () =>
  new SFNServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message:
      'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: states:ListStateMachines',
  });

describe('the deployed state machine', () => {
  it('is a clear error with exit 2 when the stage has none in the region, naming stage, region, name and the deploy command', async () => {
    deployedStages('prod');

    const seen = await world().cli(['status', '--stage', 'dev']);

    expect(seen.code).toBe(2);
    expect(seen.stderr).toBe(
      'citrix-monitor status: StateMachineNotFound: No state machine citrix-monitor-collector-dev for stage "dev" in region us-east-1. Found there: citrix-monitor-collector-prod (choose one with --stage). Deploy it with `npx serverless deploy --stage dev --region us-east-1`, or name another deployment with --stage / --region, or pass --state-machine-arn ARN.\n',
    );
    expect(seen.stdout).toBe('');
  });

  it('is not looked up when --state-machine-arn names it, and its region is the default', async () => {
    const w = world({ AWS_REGION: '' });
    await w.writeState('2026-11-24T12:00:00Z');
    sfnMock.on(ListExecutionsCommand, { stateMachineArn: machineArn('qa') }).resolves({ executions: [] });
    // A lookup would fail the command (exit 3): that it succeeds shows none was made.
    sfnMock.on(ListStateMachinesCommand).rejects(accessDenied());

    const seen = await w.cli(['status', '--state-machine-arn', machineArn('qa')]);

    expect(seen.code).toBe(0);
    expect(seen.stdout).toContain(`State machine  ${machineArn('qa')}`);
  });

  it('exits 3 naming the call when AWS refuses it, with the error as JSON on stdout under --json', async () => {
    sfnMock.on(ListStateMachinesCommand).rejects(accessDenied());

    const seen = await world().cli(['redrive', '--json']);

    expect(seen.code).toBe(3);
    expect(seen.stderr).toBe(
      'citrix-monitor redrive: AwsCallFailed: Step Functions ListStateMachines in us-east-1 failed: AccessDeniedException: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: states:ListStateMachines.\n',
    );
    expect(JSON.parse(seen.stdout)).toMatchObject({ error: { name: 'AwsCallFailed' }, exitCode: 3 });
  });

  it('exits 2, a setting to fix, naming the call and what to check when there are no AWS credentials', async () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    sfnMock.on(ListStateMachinesCommand).rejects(noCredentials);

    const seen = await world().cli(['backfill', '--from', '2026-11-24T10Z', '--to', '2026-11-24T10Z']);

    expect(seen.code).toBe(2);
    expect(seen.stderr).toBe(
      'citrix-monitor backfill: BadConfiguration: Step Functions ListStateMachines in us-east-1 failed: the AWS credentials are missing, expired or refused (CredentialsProviderError: Could not load credentials from any providers). Check the AWS credentials (AWS_PROFILE, or aws sso login).\n',
    );
    expect(seen.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('configuration', () => {
  it('exits 2 when no region is given or set', async () => {
    const seen = await world({ AWS_REGION: '' }).cli(['redrive']);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain('No AWS region: pass --region REGION or set AWS_REGION.');
  });

  it('exits 2 naming S3_BUCKET when it is not set, and never asks for the Citrix credentials', async () => {
    const seen = await world({ S3_BUCKET: '' }).cli(['status']);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toBe(
      'citrix-monitor status: BadConfiguration: S3_BUCKET is not set: it is required, the bucket the collector publishes to. Locally: export S3_BUCKET=my-citrix-logs (docs/configuration.md).\n',
    );
  });

  it('exits 2 naming the variable when the collector settings it shares are invalid', async () => {
    const seen = await world({ SETTLE_MINUTES: '10' }).cli(['status']);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain('SETTLE_MINUTES="10" is invalid');
  });

  it('never prints a secret from the environment', async () => {
    const secret = 'pa55-w0rd-do-not-print';
    sfnMock.on(ListStateMachinesCommand).rejects(accessDenied());
    const w = world({ CITRIX_CLIENT_SECRET: secret, AWS_SECRET_ACCESS_KEY: secret });
    for (const argv of [['status'], ['status', '--json'], ['redrive'], ['status', '--stage', 'x y']]) {
      const seen = await w.cli(argv);
      expect(`${seen.stdout}${seen.stderr}`).not.toContain(secret);
    }
  });
});
