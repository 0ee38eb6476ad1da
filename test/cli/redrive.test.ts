/**
 * `citrix-monitor redrive`: the Step Functions API (ListStateMachines, ListExecutions,
 * DescribeExecution, RedriveExecution) is mocked with aws-sdk-client-mock, since it has no local
 * stand-in. Which executions were redriven is asserted because it is the outcome the user asked for.
 */
import {
  DescribeExecutionCommand,
  ExecutionNotRedrivable,
  ListExecutionsCommand,
  RedriveExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RedriveReport } from '../../cli/redrive.ts';
import { at, deployedStages, execArn, machineArn, sfnMock, startS3, stopS3, world } from './world.ts';

beforeAll(startS3);
afterAll(stopS3);
beforeEach(() => {
  sfnMock.reset();
  deployedStages('prod', 'dev');
});

interface Failed {
  name: string;
  status: 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  stop: string;
  input: string;
  redrive: 'REDRIVABLE' | 'NOT_REDRIVABLE';
  reason?: string;
}

/** Failed executions of one stage, listed per status as ListExecutions does (newest first). */
function failedExecutions(stage: string, executions: Failed[]): void {
  sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
  for (const status of ['FAILED', 'TIMED_OUT', 'ABORTED'] as const) {
    const ofStatus = executions
      .filter((e) => e.status === status)
      .sort((a, b) => b.stop.localeCompare(a.stop));
    sfnMock.on(ListExecutionsCommand, { stateMachineArn: machineArn(stage), statusFilter: status }).resolves({
      executions: ofStatus.map((e) => ({
        name: e.name,
        executionArn: execArn(e.name, stage),
        stateMachineArn: machineArn(stage),
        status: e.status,
        startDate: new Date(Date.parse(e.stop) - 600_000),
        stopDate: at(e.stop),
      })),
    });
  }
  for (const e of executions) {
    sfnMock.on(DescribeExecutionCommand, { executionArn: execArn(e.name, stage) }).resolves({
      executionArn: execArn(e.name, stage),
      status: e.status,
      input: e.input,
      stopDate: at(e.stop),
      error: 'CitrixTransient',
      cause: 'Citrix answered 503 after all retries.',
      redriveStatus: e.redrive,
      ...(e.reason ? { redriveStatusReason: e.reason } : {}),
    });
  }
  sfnMock.on(RedriveExecutionCommand).resolves({ redriveDate: at('2026-11-24T14:30:01Z') });
}

const redriven = () => sfnMock.commandCalls(RedriveExecutionCommand).map((c) => c.args[0].input.executionArn);

describe('redrive', () => {
  it('redrives the redrivable execution, explains the one that cannot be and suggests the backfill, and exits 1', async () => {
    failedExecutions('prod', [
      {
        name: 'a7-scheduled',
        status: 'FAILED',
        stop: '2026-11-23T08:31:00Z',
        input: '{}',
        redrive: 'REDRIVABLE',
      },
      {
        name: 'backfill-2026-11-20T03',
        status: 'TIMED_OUT',
        stop: '2026-11-20T05:00:00Z',
        input: '{"hour":"2026-11-20T03:00:00Z"}',
        redrive: 'NOT_REDRIVABLE',
        reason: 'Execution history event limit exceeded.',
      },
    ]);

    const seen = await world().cli(['redrive']);

    expect(seen.code).toBe(1);
    expect(redriven()).toEqual([execArn('a7-scheduled')]);
    expect(seen.stdout).toContain('Failed executions stopped since 2026-11-10T14:30:00Z');
    expect(seen.stdout).toContain('  redriven: a7-scheduled (FAILED 2026-11-23T08:31:00Z, scheduled run)');
    expect(seen.stdout).toContain(
      '  cannot be redriven: backfill-2026-11-20T03 (TIMED_OUT 2026-11-20T05:00:00Z, hour 2026-11-20T03:00:00Z)',
    );
    expect(seen.stdout).toContain('    why: Execution history event limit exceeded\n');
    expect(seen.stdout).toContain(
      '    instead: citrix-monitor backfill --from 2026-11-20T03:00:00Z --to 2026-11-20T03:00:00Z\n',
    );
  });

  it('looks further back with --since, where the 14 days have passed, and repeats --stage in the suggestion', async () => {
    failedExecutions('dev', [
      {
        name: 'backfill-2026-11-02T07',
        status: 'ABORTED',
        stop: '2026-11-02T09:00:00Z',
        input: '{"hour":"2026-11-02T07:00:00Z"}',
        redrive: 'NOT_REDRIVABLE',
        reason: 'Execution redrivable period exceeded.',
      },
    ]);

    const seen = await world().cli(['redrive', '--stage', 'dev', '--since', '2026-11-01']);

    expect(seen.code).toBe(1);
    expect(redriven()).toEqual([]);
    expect(seen.stdout).toContain(
      '    why: Execution redrivable period exceeded: it stopped on 2026-11-02T09:00:00.000Z, more than 14 days ago',
    );
    expect(seen.stdout).toContain(
      '    instead: citrix-monitor backfill --from 2026-11-02T07:00:00Z --to 2026-11-02T07:00:00Z --stage dev\n',
    );
  });

  it('says nothing is left to do, and exits 0, when the hour of one it cannot redrive has been published since', async () => {
    const w = world();
    await w.writeRecord('2026-11-20T03:00:00Z', 'published');
    failedExecutions('prod', [
      {
        name: 'backfill-2026-11-20T03',
        status: 'FAILED',
        stop: '2026-11-20T05:00:00Z',
        input: '{"hour":"2026-11-20T03:00:00Z"}',
        redrive: 'NOT_REDRIVABLE',
        reason: 'Execution history event limit exceeded.',
      },
    ]);

    const seen = await w.cli(['redrive']);

    expect(seen.code).toBe(0);
    expect(seen.stdout).toContain(
      '    instead: nothing: hour 2026-11-20T03:00:00Z has been published since (its commit records say so)\n',
    );
  });

  it('reports a refusal of RedriveExecution itself as not redrivable', async () => {
    failedExecutions('prod', [
      {
        name: 'backfill-2026-11-24T05',
        status: 'FAILED',
        stop: '2026-11-24T06:00:00Z',
        input: '{"hour":"2026-11-24T05:00:00Z"}',
        redrive: 'REDRIVABLE',
      },
    ]);
    sfnMock
      .on(RedriveExecutionCommand)
      .rejects(
        new ExecutionNotRedrivable({ message: 'Execution is RUNNING and cannot be redriven', $metadata: {} }),
      );

    const seen = await world().cli(['redrive', '--json']);

    expect(seen.code).toBe(1);
    const report = JSON.parse(seen.stdout) as RedriveReport;
    expect(report.redriven).toEqual([]);
    expect(report.notRedrivable).toMatchObject([
      {
        name: 'backfill-2026-11-24T05',
        reason: 'Execution is RUNNING and cannot be redriven',
        instead: 'citrix-monitor backfill --from 2026-11-24T05:00:00Z --to 2026-11-24T05:00:00Z',
      },
    ]);
  });

  it('exits 0 when every failed execution was redriven, and prints them as JSON with --json', async () => {
    failedExecutions('prod', [
      {
        name: 'b1-scheduled',
        status: 'FAILED',
        stop: '2026-11-24T09:31:00Z',
        input: '{}',
        redrive: 'REDRIVABLE',
      },
      {
        name: 'b2-scheduled',
        status: 'TIMED_OUT',
        stop: '2026-11-24T10:31:00Z',
        input: '{}',
        redrive: 'REDRIVABLE',
      },
    ]);

    const seen = await world().cli(['redrive', '--json']);

    expect(seen.code).toBe(0);
    const report = JSON.parse(seen.stdout) as RedriveReport;
    expect(report.redriven.map((r) => [r.name, r.redriveDate])).toEqual([
      ['b1-scheduled', '2026-11-24T14:30:01.000Z'],
      ['b2-scheduled', '2026-11-24T14:30:01.000Z'],
    ]);
    expect(report.notRedrivable).toEqual([]);
  });

  it('says there is nothing to redrive and exits 0 when nothing failed', async () => {
    failedExecutions('prod', []);
    const seen = await world().cli(['redrive']);
    expect(seen.code).toBe(0);
    expect(seen.stdout).toContain('none: nothing to redrive.');
  });

  it('refuses a --since that is not a date with exit 2', async () => {
    const seen = await world().cli(['redrive', '--since', 'last week']);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain('--since "last week" is not a date: expected e.g. 2026-11-20');
  });
});
