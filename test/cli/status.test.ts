/**
 * `citrix-monitor status`: the state file is real (in s3rver); the Step Functions API
 * (ListStateMachines, ListExecutions, DescribeExecution) is mocked with aws-sdk-client-mock, since it
 * has no local stand-in.
 */
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../cli/status.ts';
import { environmentFailure } from '../fixtures/causes.ts';
import { at, deployedStages, execArn, SM_ARN, sfnMock, startS3, stopS3, world } from './world.ts';

beforeAll(startS3);
afterAll(stopS3);
beforeEach(() => {
  sfnMock.reset();
  deployedStages('prod', 'dev');
});

const item = (name: string, status: string, start: string, stop?: string) => ({
  name,
  executionArn: execArn(name),
  stateMachineArn: SM_ARN,
  status: status as 'SUCCEEDED',
  startDate: at(start),
  ...(stop ? { stopDate: at(stop) } : {}),
});

/** Four executions, newest first: a success, a running backfill, a recent failure and one from weeks ago. */
function executionsWithTwoFailures(): void {
  sfnMock.on(ListExecutionsCommand, { stateMachineArn: SM_ARN }).resolves({
    executions: [
      item('a1f0-scheduled', 'SUCCEEDED', '2026-11-24T14:20:01Z', '2026-11-24T14:23:01Z'),
      item('backfill-2026-11-24T10', 'RUNNING', '2026-11-24T14:25:00Z'),
      item('c2d9-scheduled', 'FAILED', '2026-11-24T13:20:00Z', '2026-11-24T13:31:40Z'),
      item('backfill-2026-11-01T05', 'TIMED_OUT', '2026-11-05T08:00:00Z', '2026-11-05T09:00:00Z'),
    ],
  });
  sfnMock.on(DescribeExecutionCommand, { executionArn: execArn('c2d9-scheduled') }).resolves({
    executionArn: execArn('c2d9-scheduled'),
    status: 'FAILED',
    input: '{"source":"schedule"}',
    startDate: at('2026-11-24T13:20:00Z'),
    stopDate: at('2026-11-24T13:31:40Z'),
    error: 'CitrixAuthFailed',
    cause: environmentFailure('CitrixAuthFailed', 'the token endpoint refused the client (401).', {
      window: { start: '2026-11-24T12:00:00Z', end: '2026-11-24T13:00:00Z' },
      entity: 'Sessions',
    }),
    redriveStatus: 'REDRIVABLE',
  });
  sfnMock.on(DescribeExecutionCommand, { executionArn: execArn('backfill-2026-11-01T05') }).resolves({
    executionArn: execArn('backfill-2026-11-01T05'),
    status: 'TIMED_OUT',
    input: '{"hour":"2026-11-01T05:00:00Z"}',
    startDate: at('2026-11-05T08:00:00Z'),
    stopDate: at('2026-11-05T09:00:00Z'),
    error: 'States.Timeout',
    redriveStatus: 'NOT_REDRIVABLE',
    redriveStatusReason: 'Execution redrivable period exceeded.',
  });
}

describe('status', () => {
  it('shows the state, the lag, the executions and the failed ones split by redrivability, and exits 1 when lagging', async () => {
    const w = world();
    await w.writeState('2026-11-24T09:00:00Z');
    executionsWithTwoFailures();

    const seen = await w.cli(['status']);

    expect(seen.code).toBe(1);
    expect(seen.stdout).toContain(`State machine  ${SM_ARN}`);
    expect(seen.stdout).toContain('last_hour_utc 2026-11-24T09:00:00Z (s3://cli-test/collector-work/');
    expect(seen.stdout).toContain(
      'Lag            240 minutes (4h00m) behind the newest due window end 2026-11-24T14:00:00Z (alarm above 3 hours)\n' +
        'Next window    2026-11-24T10:00:00Z..11:00:00Z, due since 2026-11-24T11:15:00Z (60-minute windows, each due 15 minutes after its end)\n',
    );
    expect(seen.stdout).toContain(
      'UNHEALTHY: the state is 240 minutes behind the newest due window end (alarm above 3 hours)',
    );
    expect(seen.stdout).toMatch(/SUCCEEDED\s+2026-11-24T14:20:01Z\s+3m00s\s+a1f0-scheduled/);
    expect(seen.stdout).toMatch(/RUNNING\s+2026-11-24T14:25:00Z\s+5m00s\s+backfill-2026-11-24T10/);
    expect(seen.stdout).toMatch(
      /Failed, can be redriven \(citrix-monitor redrive\):\n {2}c2d9-scheduled {2}FAILED/,
    );
    expect(seen.stdout).toContain('CitrixAuthFailed: Hour 2026-11-24T12:00:00Z, entity Sessions');
    expect(seen.stdout).toMatch(
      /Failed, can no longer be redriven:\n {2}backfill-2026-11-01T05 {2}TIMED_OUT/,
    );
    expect(seen.stdout).toContain(
      'not redrivable: Execution redrivable period exceeded: it stopped on 2026-11-05T09:00:00.000Z, more than 14 days ago; Step Functions redrives an execution only within 14 days after it stopped',
    );
    expect(seen.stdout).toContain(
      'instead: citrix-monitor backfill --from 2026-11-01T05:00:00Z --to 2026-11-01T05:00:00Z',
    );
  });

  it('prints the same as one JSON document with --json', async () => {
    const w = world();
    await w.writeState('2026-11-24T09:00:00Z');
    executionsWithTwoFailures();

    const seen = await w.cli(['status', '--json']);

    expect(seen.code).toBe(1);
    const report = JSON.parse(seen.stdout) as StatusReport;
    expect(report.state.lastHour).toBe('2026-11-24T09:00:00Z');
    expect(report.state.updatedAt).toBe('2026-11-24T10:21:07.000Z');
    expect(report.state.end).toBe('2026-11-24T10:00:00Z');
    expect(report.newestDueEnd).toBe('2026-11-24T14:00:00Z');
    expect(report.lagMinutes).toBe(240);
    expect([report.windowMinutes, report.settleMinutes]).toEqual([60, 15]);
    expect(report.next).toEqual({
      start: '2026-11-24T10:00:00Z',
      end: '2026-11-24T11:00:00Z',
      dueAt: '2026-11-24T11:15:00Z',
      due: true,
    });
    expect(report.healthy).toBe(false);
    expect(report.executions.map((e) => [e.name, e.status, e.durationSeconds])).toEqual([
      ['a1f0-scheduled', 'SUCCEEDED', 180],
      ['backfill-2026-11-24T10', 'RUNNING', 300],
      ['c2d9-scheduled', 'FAILED', 700],
      ['backfill-2026-11-01T05', 'TIMED_OUT', 3600],
    ]);
    expect(report.failed.redrivable).toMatchObject([
      { name: 'c2d9-scheduled', hour: '2026-11-24T12:00:00Z', error: 'CitrixAuthFailed', redrivable: true },
    ]);
    expect(report.failed.notRedrivable).toMatchObject([
      { name: 'backfill-2026-11-01T05', hour: '2026-11-01T05:00:00Z', redrivable: false },
    ]);
    expect(report.failed.notRedrivable[0]?.reason).toMatch(/more than 14 days ago/);
  });

  it("gives Step Functions' own reason for a recent execution it will not redrive", async () => {
    const w = world();
    await w.writeState('2026-11-24T13:00:00Z');
    sfnMock.on(ListExecutionsCommand).resolves({
      executions: [item('e5-scheduled', 'FAILED', '2026-11-24T12:20:00Z', '2026-11-24T12:40:00Z')],
    });
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: execArn('e5-scheduled'),
      status: 'FAILED',
      stopDate: at('2026-11-24T12:40:00Z'),
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution history event limit exceeded.',
    });

    const seen = await w.cli(['status']);

    expect(seen.stdout).toContain('not redrivable: Execution history event limit exceeded');
    expect(seen.stdout).toContain('instead: nothing: the scheduled runs collect every hour after the state');
    expect(seen.code).toBe(0);
  });

  it('exits 0 and says healthy when the state is within LAG_ALARM_HOURS and nothing failed', async () => {
    const w = world({ LAG_ALARM_HOURS: '2' });
    await w.writeState('2026-11-24T11:00:00Z');
    sfnMock.on(ListExecutionsCommand).resolves({
      executions: [item('a1f0-scheduled', 'SUCCEEDED', '2026-11-24T14:20:01Z', '2026-11-24T14:21:31Z')],
    });

    const seen = await w.cli(['status', '--limit', '1']);

    expect(seen.stdout).toContain(
      'Lag            120 minutes (2h00m) behind the newest due window end 2026-11-24T14:00:00Z (alarm above 2 hours)',
    );
    expect(seen.stdout).toContain('Health         healthy');
    expect(seen.stdout).toMatch(/SUCCEEDED\s+2026-11-24T14:20:01Z\s+1m30s\s+a1f0-scheduled/);
    expect(seen.code).toBe(0);
  });

  it('prints the state it read when Step Functions cannot be reached, names the call that failed, and exits 3', async () => {
    const w = world();
    await w.writeState('2026-11-24T13:00:00Z');
    sfnMock.on(ListExecutionsCommand).rejects(new Error('connect ETIMEDOUT 52.94.1.1:443'));

    const seen = await w.cli(['status']);

    expect(seen.stdout).toMatch(/State {10}last_hour_utc 2026-11-24T13:00:00Z/);
    expect(seen.stdout).toContain('Lag            0 minutes');
    expect(seen.stdout).toContain('Health         healthy as far as S3 shows; the executions are unknown');
    expect(seen.stdout).toContain(
      'Executions     could not be read: Step Functions ListExecutions failed: Error: connect ETIMEDOUT 52.94.1.1:443. Run status again once Step Functions can be reached.',
    );
    expect(seen.stderr).toBe('');
    expect(seen.code).toBe(3);
  });

  it('exits 1, not 3, when what it read from S3 is already unhealthy and Step Functions cannot be reached', async () => {
    const w = world();
    sfnMock.reset();
    sfnMock.onAnyCommand().rejects(new Error('getaddrinfo ENOTFOUND states.us-east-1.amazonaws.com'));

    const seen = await w.cli(['status']);

    expect(seen.stdout).toMatch(/Health {9}UNHEALTHY: no state file at s3:\/\/cli-test\//);
    expect(seen.stdout).toContain(
      'Executions     could not be read: Step Functions ListStateMachines in us-east-1 failed',
    );
    expect(seen.stdout).toContain('State machine  unknown (see Executions)');
    expect(seen.code).toBe(1);
  });

  it('exits 1 when there is no state file yet, and says where it looked', async () => {
    const w = world();
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });

    const seen = await w.cli(['status']);

    expect(seen.code).toBe(1);
    expect(seen.stdout).toMatch(
      /State {10}none yet \(s3:\/\/cli-test\/collector-work\/cli-\d+\/state\.json\)/,
    );
    expect(seen.stdout).toContain('No executions yet.');
  });

  it('shows who holds each due window being published: a local process, or a Lambda whose lease expired', async () => {
    const w = world();
    await w.writeState('2026-11-24T11:00:00Z');
    await w.writeRecord('2026-11-24T12:00:00Z', 'publishing', {
      holder: 'local-2026-11-24T14-21-00-000Z',
      until: '2026-11-24T14:41:00.000Z',
      host: 'ops-laptop',
      pid: 4242,
    });
    await w.writeRecord('2026-11-24T13:00:00Z', 'publishing'); // a Lambda's lease: no host, no pid
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });

    const seen = await w.cli(['status']);
    const report = JSON.parse((await w.cli(['status', '--json'])).stdout) as StatusReport;

    expect(seen.stdout).toContain(
      'Being published (windows claimed, not finished; no other run writes them until the lease ends):\n' +
        '  2026-11-24T12:00:00Z  held by run local-2026-11-24T14-21-00-000Z, process 4242 on ops-laptop, until 2026-11-24T14:41:00Z (objects of run run-2026-11-24T12:00:00Z)\n' +
        '  2026-11-24T13:00:00Z  lease of run run-2026-11-24T13:00:00Z (a Lambda) expired at 2026-11-24T12:20:00Z: the next run finishes it',
    );
    expect(report.publishing).toEqual([
      {
        start: '2026-11-24T12:00:00Z',
        end: '2026-11-24T13:00:00Z',
        run: 'run-2026-11-24T12:00:00Z',
        holder: 'local-2026-11-24T14-21-00-000Z',
        until: '2026-11-24T14:41:00.000Z',
        host: 'ops-laptop',
        pid: 4242,
        leaseLive: true,
      },
      {
        start: '2026-11-24T13:00:00Z',
        end: '2026-11-24T14:00:00Z',
        run: 'run-2026-11-24T13:00:00Z',
        holder: 'run-2026-11-24T13:00:00Z',
        until: '2026-11-24T12:20:00.000Z',
        host: null,
        pid: null,
        leaseLive: false,
      },
    ]);
    expect(seen.code).toBe(0);
  });

  describe('with WINDOW_MINUTES=5', () => {
    it('says how many minutes behind the state is, the next window and when it is due, and the windows being published', async () => {
      const w = world({ WINDOW_MINUTES: '5' });
      await w.writeState('2026-11-24T13:00:00Z', '2026-11-24T14:05:00Z');
      await w.writeRecord('2026-11-24T14:05:00Z', 'publishing', undefined, { end: '2026-11-24T14:10:00Z' });
      sfnMock.on(ListExecutionsCommand).resolves({
        executions: [item('a1f0-scheduled', 'SUCCEEDED', '2026-11-24T14:25:01Z', '2026-11-24T14:25:31Z')],
      });

      const seen = await w.cli(['status']);
      const report = JSON.parse((await w.cli(['status', '--json'])).stdout) as StatusReport;

      expect(seen.code).toBe(0);
      expect(seen.stdout).toMatch(
        /\nState {10}last_hour_utc 2026-11-24T13:00:00Z, last_window_end 2026-11-24T14:05:00Z \(s3:\/\/cli-test\/collector-work\/cli-\d+\/state\.json, updated 2026-11-24T10:21:07Z\)\n/,
      );
      expect(seen.stdout).toContain(
        'Lag            10 minutes behind the newest due window end 2026-11-24T14:15:00Z (alarm above 3 hours)\n' +
          'Next window    2026-11-24T14:05:00Z..14:10:00Z, due since 2026-11-24T14:25:00Z (5-minute windows, each due 15 minutes after its end)\n' +
          'Health         healthy\n',
      );
      expect(seen.stdout).toContain(
        '  2026-11-24T14:05:00Z..14:10:00Z  lease of run run-2026-11-24T14:05:00Z (a Lambda) expired at 2026-11-24T12:20:00Z: the next run finishes it',
      );
      expect(report).toMatchObject({
        state: { lastHour: '2026-11-24T13:00:00Z', end: '2026-11-24T14:05:00Z' },
        windowMinutes: 5,
        settleMinutes: 15,
        newestDueEnd: '2026-11-24T14:15:00Z',
        lagMinutes: 10,
        next: {
          start: '2026-11-24T14:05:00Z',
          end: '2026-11-24T14:10:00Z',
          dueAt: '2026-11-24T14:25:00Z',
          due: true,
        },
        healthy: true,
      });
      expect(report.publishing.map((p) => [p.start, p.end])).toEqual([
        ['2026-11-24T14:05:00Z', '2026-11-24T14:10:00Z'],
      ]);
      expect(report).not.toHaveProperty('lagHours');
    });

    it('is current when the state is at the newest due window end: the next window is due once it settled', async () => {
      // A settle other than the default (15, also the least: SETTLE_FLOOR_MINUTES) shows in the due time.
      const w = world({ WINDOW_MINUTES: '5', SETTLE_MINUTES: '20' });
      await w.writeState('2026-11-24T13:00:00Z', '2026-11-24T14:10:00Z');
      sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });

      const seen = await w.cli(['status']);

      expect(seen.code).toBe(0);
      expect(seen.stdout).toContain(
        'Lag            0 minutes behind the newest due window end 2026-11-24T14:10:00Z (alarm above 3 hours)\n' +
          'Next window    2026-11-24T14:10:00Z..14:15:00Z, due at 2026-11-24T14:35:00Z (5-minute windows, each due 20 minutes after its end)\n',
      );
    });

    it('takes the next window as a commit record claimed it (a run of another window size), and is unhealthy past LAG_ALARM_HOURS hours of minutes', async () => {
      const w = world({ WINDOW_MINUTES: '5' });
      await w.writeState('2026-11-24T10:00:00Z', '2026-11-24T11:10:00Z');
      await w.writeRecord('2026-11-24T11:10:00Z', 'published', undefined, { end: '2026-11-24T11:30:00Z' });
      sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });

      const seen = await w.cli(['status']);

      expect(seen.code).toBe(1);
      expect(seen.stdout).toContain(
        'Lag            185 minutes (3h05m) behind the newest due window end 2026-11-24T14:15:00Z (alarm above 3 hours)\n' +
          'Next window    2026-11-24T11:10:00Z..11:30:00Z, due since 2026-11-24T11:45:00Z',
      );
      expect(seen.stdout).toContain(
        'UNHEALTHY: the state is 185 minutes behind the newest due window end (alarm above 3 hours)',
      );
    });
  });

  it('refuses a --limit that is not a whole number from 1 to 1000 with exit 2', async () => {
    const seen = await world().cli(['status', '--limit', 'ten']);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain('--limit "ten" is invalid: expected a whole number from 1 to 1000.');
  });
});
