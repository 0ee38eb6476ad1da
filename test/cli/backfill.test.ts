/**
 * `citrix-monitor backfill`: commit records are real (in s3rver); the Step Functions API
 * (ListStateMachines, StartExecution, DescribeExecution) is mocked with aws-sdk-client-mock, since it
 * has no local stand-in. The names and inputs of the started executions are asserted because they are
 * the user-visible outcome of a backfill.
 */
import { DescribeExecutionCommand, ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BackfillReport, recordedCommit } from '../../cli/backfill.ts';
import type { CommitRecord } from '../../functions/domain/publish.ts';
import { at, deployedStages, execArn, sfnMock, startS3, stopS3, type World, world } from './world.ts';

beforeAll(startS3);
afterAll(stopS3);
beforeEach(() => {
  sfnMock.reset();
  deployedStages('prod');
});

const started = () =>
  sfnMock
    .commandCalls(StartExecutionCommand)
    .map((call) => [call.args[0].input.name, call.args[0].input.input]);

/**
 * The execution `name` succeeding, once it published `hour` with `rows` rows: its commit record says so
 * (the state machine's output names no commit; each tenant's is in its child execution).
 */
const succeeded = (w: World, name: string, hour: string, rows: number) => async () => {
  await w.writeRecord(hour, 'published', undefined, { run: name, rows });
  return {
    executionArn: execArn(name),
    status: 'SUCCEEDED' as const,
    startDate: at('2026-11-24T14:30:00Z'),
    stopDate: at('2026-11-24T14:33:20Z'),
    output: JSON.stringify({ runId: name, total: 1, retry: false }),
  };
};

/** Step Functions starts every execution asked for (a name of its own, never used before). */
const startsEveryExecution = () =>
  sfnMock
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: execArn(input.name) }));

/** The execution an ARN names. */
const nameOf = (arn: string) => arn.split(':').at(-1) ?? '';

/**
 * 10:00 already published (its commit record says so); 11:00 started by an earlier backfill, which
 * failed (Step Functions refuses the name again); 12:00 fails now; 13:00 is published now.
 */
async function fourHours() {
  const w = world();
  await w.writeRecord('2026-11-24T10:00:00Z', 'published');
  await w.writeRecord('2026-11-24T13:00:00Z', 'publishing');
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: execArn(input.name),
    startDate: at('2026-11-24T14:30:00Z'),
  }));
  sfnMock
    .on(StartExecutionCommand, { name: 'backfill-2026-11-24T11' })
    .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
  sfnMock.on(DescribeExecutionCommand, { executionArn: execArn('backfill-2026-11-24T11') }).resolves({
    executionArn: execArn('backfill-2026-11-24T11'),
    status: 'FAILED',
    stopDate: at('2026-11-23T09:00:00Z'),
    redriveStatus: 'REDRIVABLE',
  });
  sfnMock
    .on(DescribeExecutionCommand, { executionArn: execArn('backfill-2026-11-24T12') })
    .resolvesOnce({ executionArn: execArn('backfill-2026-11-24T12'), status: 'RUNNING' })
    .resolves({
      executionArn: execArn('backfill-2026-11-24T12'),
      status: 'FAILED',
      startDate: at('2026-11-24T14:30:00Z'),
      stopDate: at('2026-11-24T14:31:05Z'),
      error: 'CitrixBadQuery',
      cause: JSON.stringify({
        errorType: 'CitrixBadQuery',
        errorMessage: 'Hour 2026-11-24T12:00:00Z, entity Sesions: the API refused the query (404 Not Found).',
        trace: [
          'CitrixBadQuery: Hour 2026-11-24T12:00:00Z …',
          '    at CitrixClient.fetchPage (/var/task/index.js:1:2345)',
        ],
      }),
    });
  sfnMock
    .on(DescribeExecutionCommand, { executionArn: execArn('backfill-2026-11-24T13') })
    .resolvesOnce({ executionArn: execArn('backfill-2026-11-24T13'), status: 'RUNNING' })
    .callsFake(succeeded(w, 'backfill-2026-11-24T13', '2026-11-24T13:00:00Z', 1234));
  return w;
}

describe('backfill', () => {
  it("reports the rows a succeeded execution published from the hour's commit record, its output naming no commit (each tenant's is in its child execution)", async () => {
    const w = world();
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: execArn(input.name),
      startDate: at('2026-11-24T14:30:00Z'),
    }));
    sfnMock.on(DescribeExecutionCommand).callsFake(async (input: { executionArn: string }) => {
      await w.writeRecord('2026-11-24T09:00:00Z', 'published', undefined, {
        run: 'backfill-2026-11-24T09',
        rows: 987,
      });
      return {
        executionArn: input.executionArn,
        status: 'SUCCEEDED',
        startDate: at('2026-11-24T14:30:00Z'),
        stopDate: at('2026-11-24T14:31:00Z'),
        output: JSON.stringify({ runId: 'backfill-2026-11-24T09', total: 1, retry: false }),
      };
    });

    const seen = await w.cli(['backfill', '--from', '2026-11-24T09:00:00Z', '--to', '2026-11-24T09:00:00Z']);

    expect(seen.code, seen.stderr).toBe(0);
    expect(seen.stderr).toContain(
      '2026-11-24T09:00:00Z  published (backfill-2026-11-24T09) 987 rows in 1m00s',
    );
  });

  it('skips the published hour, reports the already started one, the failed one with its cause and the published one, and exits 1', async () => {
    const w = await fourHours();

    const seen = await w.cli(['backfill', '--from', '2026-11-24T10:00:00Z', '--to', '2026-11-24T13:00:00Z']);

    expect(seen.code).toBe(1);
    expect(started()).toEqual([
      ['backfill-2026-11-24T11', '{"hour":"2026-11-24T11:00:00Z"}'],
      ['backfill-2026-11-24T12', '{"hour":"2026-11-24T12:00:00Z"}'],
      ['backfill-2026-11-24T13', '{"hour":"2026-11-24T13:00:00Z"}'],
    ]);
    expect(seen.stdout).toContain('Backfill 2026-11-24T10:00:00Z .. 2026-11-24T13:00:00Z (4 hours)');
    expect(seen.stdout).toMatch(/ {2}published: +1\n/);
    expect(seen.stdout).toMatch(/ {2}skipped, already published: +1\n/);
    expect(seen.stdout).toMatch(/ {2}already started: +1\n/);
    expect(seen.stdout).toMatch(/ {2}failed: +1\n/);
    expect(seen.stdout).toContain(
      '2026-11-24T11:00:00Z  backfill-2026-11-24T11 FAILED - it failed; redrive it once the cause is fixed: citrix-monitor redrive',
    );
    expect(seen.stdout).toContain(
      'CitrixBadQuery: Hour 2026-11-24T12:00:00Z, entity Sesions: the API refused the query (404 Not Found).',
    );
    expect(seen.stdout).not.toContain('/var/task');
    // Not a terminal: a line per hour on stderr as each one ends.
    const lines = seen.stderr.trim().split('\n').sort();
    expect(lines).toEqual([
      '2026-11-24T10:00:00Z  skipped, already published',
      '2026-11-24T11:00:00Z  already started (backfill-2026-11-24T11, FAILED)',
      '2026-11-24T12:00:00Z  failed (backfill-2026-11-24T12) in 1m05s: CitrixBadQuery: Hour 2026-11-24T12:00:00Z, entity Sesions: the API refused the query (404 Not Found).',
      '2026-11-24T13:00:00Z  published (backfill-2026-11-24T13) 1,234 rows in 3m20s',
    ]);
  });

  it('prints the per-hour results and the summary as one JSON document with --json', async () => {
    const w = await fourHours();

    const seen = await w.cli(['backfill', '--from', '2026-11-24T10Z', '--to', '2026-11-24T13Z', '--json']);

    expect(seen.code).toBe(1);
    const report = JSON.parse(seen.stdout) as BackfillReport;
    expect(report.summary).toEqual({
      published: 1,
      'already-published': 1,
      'already-started': 1,
      'publishing-elsewhere': 0,
      failed: 1,
    });
    expect(report.hours.map((h) => [h.hour, h.outcome, h.execution, h.status])).toEqual([
      ['2026-11-24T10:00:00Z', 'already-published', null, null],
      ['2026-11-24T11:00:00Z', 'already-started', 'backfill-2026-11-24T11', 'FAILED'],
      ['2026-11-24T12:00:00Z', 'failed', 'backfill-2026-11-24T12', 'FAILED'],
      ['2026-11-24T13:00:00Z', 'published', 'backfill-2026-11-24T13', 'SUCCEEDED'],
    ]);
    expect(report.hours[2]).toMatchObject({ error: 'CitrixBadQuery', durationSeconds: 65 });
    expect(report.hours[3]).toMatchObject({ rows: 1234 });
  });

  it('exits 0 when every hour is published, with a progress bar on a terminal', async () => {
    const w = world();
    startsEveryExecution();
    sfnMock
      .on(DescribeExecutionCommand)
      .callsFake((input: { executionArn: string }) =>
        succeeded(w, nameOf(input.executionArn), `${input.executionArn.slice(-13)}:00:00Z`, 10)(),
      );

    const seen = await w.cli(['backfill', '--from', '2026-11-24T12:00:00Z', '--to', '2026-11-24T13:00:00Z'], {
      tty: true,
    });

    expect(seen.code).toBe(0);
    expect(seen.stdout).toMatch(/ {2}published: +2\n/);
    expect(seen.stderr).toContain('\r\x1b[2K[###############...............] 1/2 hours');
    expect(seen.stderr).toMatch(/\[#{30}\] 2\/2 hours\n$/);
  });

  it('never has more than --concurrency executions running at once, and starts the oldest hour first', async () => {
    const w = world();
    let running = 0;
    let most = 0;
    let starts = 0;
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => {
      starts++;
      most = Math.max(most, ++running);
      return { executionArn: execArn(input.name) };
    });
    const polls = new Map<string, number>();
    const ended = new Set<string>();
    sfnMock.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
      const seenBefore = polls.get(input.executionArn) ?? 0;
      polls.set(input.executionArn, seenBefore + 1);
      // An execution ends only once the other worker has one running too (while hours are left to start):
      // on a loaded machine a worker could otherwise finish before the other starts, and the test would
      // prove nothing about the limit.
      const slotsFull = running >= 2 || starts >= 6;
      if (seenBefore < 3 || !slotsFull) return { executionArn: input.executionArn, status: 'RUNNING' };
      if (!ended.has(input.executionArn)) {
        ended.add(input.executionArn);
        running--;
      }
      return succeeded(w, nameOf(input.executionArn), `${input.executionArn.slice(-13)}:00:00Z`, 1)();
    });

    const seen = await w.cli([
      'backfill',
      '--from',
      '2026-11-24T06Z',
      '--to',
      '2026-11-24T11Z',
      '--concurrency',
      '2',
    ]);

    expect(seen.code).toBe(0);
    expect(most).toBe(2);
    expect(started().map(([name]) => name)).toEqual([
      'backfill-2026-11-24T06',
      'backfill-2026-11-24T07',
      'backfill-2026-11-24T08',
      'backfill-2026-11-24T09',
      'backfill-2026-11-24T10',
      'backfill-2026-11-24T11',
    ]);
  });

  it('starts the hour under a new name when its earlier execution failed and can no longer be redriven', async () => {
    const w = world();
    startsEveryExecution();
    sfnMock
      .on(StartExecutionCommand, { name: 'backfill-2026-11-24T09' })
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand, { executionArn: execArn('backfill-2026-11-24T09') }).resolves({
      status: 'FAILED',
      stopDate: at('2026-11-02T09:00:00Z'),
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution redrivable period exceeded.',
    });
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: execArn('backfill-2026-11-24T09-2') })
      .callsFake(succeeded(w, 'backfill-2026-11-24T09-2', '2026-11-24T09:00:00Z', 7));

    const seen = await w.cli(['backfill', '--from', '2026-11-24T09Z', '--to', '2026-11-24T09Z']);

    expect(seen.code).toBe(0);
    expect(started().map(([name]) => name)).toEqual(['backfill-2026-11-24T09', 'backfill-2026-11-24T09-2']);
    expect(seen.stderr).toContain('2026-11-24T09:00:00Z  published (backfill-2026-11-24T09-2) 7 rows');
  });

  it('fails only the hour whose commit record cannot be read, saying which record', async () => {
    const w = world();
    await w.writeRecord('2026-11-24T08:00:00Z', 'unreadable');
    startsEveryExecution();
    sfnMock
      .on(DescribeExecutionCommand)
      .callsFake(succeeded(w, 'backfill-2026-11-24T09', '2026-11-24T09:00:00Z', 3));

    const seen = await w.cli(['backfill', '--from', '2026-11-24T08Z', '--to', '2026-11-24T09Z']);

    expect(seen.code).toBe(1);
    expect(started().map(([name]) => name)).toEqual(['backfill-2026-11-24T09']);
    expect(seen.stdout).toMatch(/ {2}published: +1\n/);
    expect(seen.stdout).toMatch(
      /StateCorrupt: The commit record s3:\/\/cli-test\/collector-work\/cli-\d+\/commits\/20261124T08\.json cannot be read/,
    );
  });

  it.each([
    [
      '--from after --to',
      '2026-11-24T12:00:00Z',
      '2026-11-24T10:00:00Z',
      '--from 2026-11-24T12:00:00Z is after --to 2026-11-24T10:00:00Z: give the older hour first.',
    ],
    [
      'an hour that is not due yet',
      '2026-11-24T13:00:00Z',
      '2026-11-24T14:00:00Z',
      '--to 2026-11-24T14:00:00Z is not due yet: the newest hour with a due window, which may be collected, is 2026-11-24T13:00:00Z',
    ],
    [
      'more than 31 days of hours without --yes',
      '2026-09-01T00:00:00Z',
      '2026-11-24T00:00:00Z',
      '2017 hours is more than 744 (31 days): that starts 2017 executions. Add --yes',
    ],
  ])('refuses %s with exit 2, before calling AWS', async (_, from, to, message) => {
    sfnMock.onAnyCommand().rejects(new Error('no AWS call was expected')); // a call would end in exit 3

    const seen = await world().cli(['backfill', '--from', from, '--to', to]);

    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain(message);
    expect(seen.stdout).toBe('');
  });

  it('refuses a --from that is not a whole UTC hour, and a missing --to', async () => {
    const bad = await world().cli(['backfill', '--from', '2026-11-24T10:30:00Z', '--to', '2026-11-24T11Z']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--from "2026-11-24T10:30:00Z" is not a whole UTC hour');

    const missing = await world().cli(['backfill', '--from', '2026-11-24T10Z']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--to is required');
  });
});

describe('backfill with WINDOW_MINUTES=5', () => {
  /** The 5-minute windows of `hourText` from minute `from` to `to` (exclusive): `[start, end]` texts. */
  const windows = (hourText: string, from = 0, to = 60): Array<[string, string]> => {
    const h = Date.parse(hourText);
    return Array.from({ length: (to - from) / 5 }, (_, i) => [
      new Date(h + (from + i * 5) * 60_000).toISOString().replace('.000Z', 'Z'),
      new Date(h + (from + i * 5 + 5) * 60_000).toISOString().replace('.000Z', 'Z'),
    ]);
  };
  const succeededAfter = (input: { executionArn: string }) => ({
    executionArn: input.executionArn,
    status: 'SUCCEEDED' as const,
    startDate: at('2026-11-24T14:30:00Z'),
    stopDate: at('2026-11-24T14:31:00Z'),
    output: JSON.stringify({ runId: input.executionArn.split(':').at(-1), total: 1, retry: false }),
  });

  it('skips an hour only when every window of it is published, starts one whose first window alone is, and sums the rows of the windows the execution published', async () => {
    const w = world({ WINDOW_MINUTES: '5' });
    for (const [start, end] of windows('2026-11-24T12:00:00Z'))
      await w.writeRecord(start, 'published', undefined, { end });
    await w.writeRecord('2026-11-24T13:00:00Z', 'published', undefined, { end: '2026-11-24T13:05:00Z' });
    startsEveryExecution();
    // What the collector does for {"hour": 13:00}: publishes the windows not yet published, 13:05 to 14:00.
    sfnMock.on(DescribeExecutionCommand).callsFake(async (input: { executionArn: string }) => {
      const run = input.executionArn.split(':').at(-1) ?? '';
      for (const [start, end] of windows('2026-11-24T13:00:00Z', 5))
        await w.writeRecord(
          start,
          'published',
          { holder: run, until: '2026-11-24T14:50:00.000Z' },
          {
            run,
            rows: 10,
            end,
          },
        );
      return succeededAfter(input);
    });

    const seen = await w.cli(['backfill', '--from', '2026-11-24T12Z', '--to', '2026-11-24T13Z', '--json']);

    expect(seen.code, seen.stderr).toBe(0);
    expect(started()).toEqual([['backfill-2026-11-24T13', '{"hour":"2026-11-24T13:00:00Z"}']]);
    expect(seen.stderr.trim().split('\n').sort()).toEqual([
      '2026-11-24T12:00:00Z  skipped, already published',
      '2026-11-24T13:00:00Z  published (backfill-2026-11-24T13) 110 rows in 1m00s',
    ]);
    const report = JSON.parse(seen.stdout) as BackfillReport;
    expect(report.hours.map((h) => [h.hour, h.outcome, h.rows])).toEqual([
      ['2026-11-24T12:00:00Z', 'already-published', null],
      ['2026-11-24T13:00:00Z', 'published', 110],
    ]);
  });

  it('starts an hour a window of which another run is publishing, and says so when the execution succeeds', async () => {
    const w = world({ WINDOW_MINUTES: '5' });
    for (const [start, end] of windows('2026-11-24T11:00:00Z'))
      await w.writeRecord(start, start.endsWith('11:30:00Z') ? 'publishing' : 'published', undefined, {
        end,
      });
    startsEveryExecution();
    sfnMock.on(DescribeExecutionCommand).callsFake(succeededAfter);

    const seen = await w.cli(['backfill', '--from', '2026-11-24T11Z', '--to', '2026-11-24T11Z']);

    expect(seen.code).toBe(0);
    expect(started().map(([name]) => name)).toEqual(['backfill-2026-11-24T11']);
    expect(seen.stderr).toContain(
      '2026-11-24T11:00:00Z  being published by another run (backfill-2026-11-24T11) 0 rows',
    );
  });

  it('takes as --to the hour of the newest due window, and refuses the hour after it', async () => {
    const w = world({ WINDOW_MINUTES: '5' });
    startsEveryExecution();
    sfnMock.on(DescribeExecutionCommand).callsFake(succeededAfter);

    const due = await w.cli(['backfill', '--from', '2026-11-24T14Z', '--to', '2026-11-24T14Z']);
    const notDue = await w.cli(['backfill', '--from', '2026-11-24T14Z', '--to', '2026-11-24T15Z']);

    expect(due.code, due.stderr).toBe(0);
    expect(started()).toEqual([['backfill-2026-11-24T14', '{"hour":"2026-11-24T14:00:00Z"}']]);
    expect(notDue.code).toBe(2);
    expect(notDue.stderr).toContain(
      '--to 2026-11-24T15:00:00Z is not due yet: the newest hour with a due window, which may be collected, is 2026-11-24T14:00:00Z',
    );
  });
});

describe('what an execution did with the windows of an hour', () => {
  const record = (
    start: string,
    status: CommitRecord['status'],
    run: string,
    rows: number,
    holder = run,
  ): CommitRecord => ({
    start,
    end: new Date(Date.parse(start) + 300_000).toISOString().replace('.000Z', 'Z'),
    run,
    status,
    entities: { Sessions: { objects: 1, rows }, Machines: { objects: 1, rows: 1 } },
    claimed_at: '2026-11-24T14:30:00.000Z',
    lease: { holder, until: '2026-11-24T14:50:00.000Z' },
  });
  const mine = 'backfill-2026-11-24T13';

  it.each([
    ['no record', [], null],
    [
      'every window it claimed published by it, the others before',
      [
        record('2026-11-24T13:00:00Z', 'published', 'scheduled-1', 5),
        record('2026-11-24T13:05:00Z', 'published', mine, 10),
        record('2026-11-24T13:10:00Z', 'published', 'crashed-run', 20, mine), // taken over and published
      ],
      { outcome: 'published', rows: 32 },
    ],
    [
      'every window published before',
      [record('2026-11-24T13:00:00Z', 'published', 'scheduled-1', 5)],
      { outcome: 'already-published', rows: 0 },
    ],
    [
      'a window it claimed that is not published',
      [
        record('2026-11-24T13:00:00Z', 'published', mine, 5),
        record('2026-11-24T13:05:00Z', 'publishing', mine, 7),
      ],
      { outcome: 'publishing-elsewhere', rows: 6 },
    ],
    [
      'none claimed, a window another run is publishing',
      [record('2026-11-24T13:00:00Z', 'publishing', 'scheduled-2', 5)],
      { outcome: 'publishing-elsewhere', rows: 0 },
    ],
  ])('%s', (_, records, expected) => {
    expect(recordedCommit(records as CommitRecord[], mine)).toEqual(expected);
  });
});
