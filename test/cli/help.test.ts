/**
 * `citrix-monitor --help`, each command's help, and what bad usage gets: usage on stderr and exit 2.
 * No AWS call is made here; the Step Functions API is mocked (aws-sdk-client-mock) only to prove that.
 * The local commands (npm start, npm run collect, npm run standin) run as child processes: their help
 * needs no configuration and starts nothing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runNode } from '../fixtures/child.ts';
import { sfnMock, startS3, stopS3, type World, world } from './world.ts';

let w: World;
beforeAll(async () => {
  await startS3();
  w = world();
});
afterAll(stopS3);
beforeEach(() => sfnMock.reset());

describe('help', () => {
  it('prints the usage, the commands and the exit codes for --help and -h, and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const seen = await w.cli([flag]);
      expect(seen.code).toBe(0);
      expect(seen.stdout).toMatch(/^Usage: citrix-monitor <command> \[options\]/);
      for (const command of ['status', 'backfill', 'redrive']) expect(seen.stdout).toContain(`  ${command} `);
      expect(seen.stdout).not.toContain('  run ');
      expect(seen.stdout).toContain(
        'Exit codes (the same for npm start and npm run collect; docs/operating.md, "Exit codes"):',
      );
      expect(seen.stdout).toMatch(
        /3 {2}busy or unavailable, try later: an AWS API call failed \(permissions,/,
      );
      expect(seen.stdout).toContain(
        'credentials Citrix refused, AWS credentials missing, expired or refused\n',
      );
      expect(seen.stdout).toMatch(/WINDOW_MINUTES \(60; 5, 10, 15, 20 or 30\)/);
      expect(seen.stdout).toContain('SETTLE_MINUTES (15): a window is due that many minutes after its end');
      expect(seen.stderr).toBe('');
    }
  });

  it.each([
    ['status', /--limit N/],
    ['backfill', /--from HOUR, --to HOUR/],
    ['redrive', /--since DATE/],
  ])('prints the usage of %s with --help and exits 0', async (command, option) => {
    const seen = await w.cli([command, '--help']);
    expect(seen.code).toBe(0);
    expect(seen.stdout).toMatch(new RegExp(`^Usage: citrix-monitor ${command}`));
    expect(seen.stdout).toMatch(option);
    expect(seen.stdout).toMatch(/Exit (0|code)/);
  });

  it("says backfill's --to must have a due window", async () => {
    const seen = await w.cli(['backfill', '--help']);
    expect(seen.stdout).toContain(
      '--from HOUR, --to HOUR     whole UTC hours; --to must have a due window: its first window\n' +
        '                             (WINDOW_MINUTES) ended SETTLE_MINUTES ago',
    );
  });

  it('names an unknown command, prints the usage on stderr and exits 2', async () => {
    const seen = await w.cli(['statsu']);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain('Unknown command "statsu".');
    expect(seen.stderr).toContain('Usage: citrix-monitor <command>');
    expect(seen.stdout).toBe('');
  });

  it('has no run command: the local run is npm run collect, which the CLI does not start', async () => {
    const seen = await w.cli(['run', '--hour', '2026-11-24T10:00:00Z']);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain('Unknown command "run".');
  });

  it('exits 2 with the usage when no command is given', async () => {
    const seen = await w.cli([]);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain('No command given.');
  });

  it("names an unknown option, prints the command's usage on stderr and exits 2 without calling AWS", async () => {
    sfnMock.onAnyCommand().rejects(new Error('no AWS call was expected')); // a call would end in exit 3
    const seen = await w.cli(['status', '--stagee', 'dev']);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain("Unknown option '--stagee'");
    expect(seen.stderr).toContain('Usage: citrix-monitor status');
  });

  it('refuses an option of another command', async () => {
    const seen = await w.cli(['redrive', '--from', '2026-11-24T10:00:00Z']);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain("Unknown option '--from'");
  });
});

describe('help of the local commands', () => {
  it.each([
    ['npm start', 'packages/local-run/src/start.ts', /^Usage: npm start \[-- --tenants N\] \[--window M\]\n/],
    [
      'npm run collect',
      'packages/local-run/src/collect.ts',
      /^Usage: npm run collect -- \[--hour YYYY-MM-DDTHH:00:00Z\]/,
    ],
    [
      'npm run standin',
      'packages/testkit/src/citrix-standin/main.ts',
      /^Usage: npm run standin -- \[--port N\]/,
    ],
  ])('%s -- --help prints its usage and exits 0, with no configuration', async (_, file, usage) => {
    for (const flag of ['--help', '-h']) {
      const seen = await runNode([file, flag], { env: { PATH: process.env.PATH ?? '' } });
      expect(seen.code, seen.out).toBe(0);
      expect(seen.out).toMatch(usage);
      expect(seen.out).not.toMatch(/^\s+at /m);
    }
  });

  it.each([
    [
      'npm start',
      'packages/local-run/src/start.ts',
      "UsageError: Unknown option '--tenant'",
      'See npm start -- --help.',
    ],
    [
      'npm run collect',
      'packages/local-run/src/collect.ts',
      "UsageError: Unknown option '--tenant'",
      'See npm run collect -- --help.',
    ],
    [
      'npm run standin',
      'packages/testkit/src/citrix-standin/main.ts',
      "UsageError: Unknown option '--tenant'",
      'See npm run standin -- --help.',
    ],
  ])(
    '%s refuses an unknown option in one line, pointing at its help, and exits 2',
    async (_, file, start, end) => {
      const seen = await runNode([file, '--tenant', 'x'], { env: { PATH: process.env.PATH ?? '' } });
      expect(seen.code).toBe(2);
      const [line, ...rest] = seen.out.trimEnd().split('\n');
      expect(line?.startsWith(start), seen.out).toBe(true);
      expect(line?.endsWith(end), seen.out).toBe(true);
      expect(rest).toEqual([]);
    },
  );
});
