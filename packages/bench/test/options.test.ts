/**
 * The benches' options (options.ts) read as each says, and a bench started with an option it does not know
 * says which, in one line, and exits 2 (it threw a stack before).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as options from '../src/options.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

describe('a bench given an option it does not know', () => {
  it.each([
    ['tenants.ts', ['--help'], "Tenant bench: Unknown option '--help'"],
    ['windows.ts', ['--rows'], "Windows bench: Option '--rows <value>' argument missing"],
    ['bench.ts', ['--help'], "Bench: Unknown option '--help'"],
  ])('%s %j names it and exits 2', (script, args, line) => {
    const run = spawnSync('npx', ['tsx', `packages/bench/src/${script}`, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
    });

    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')[0]).toContain(line);
  });
});

describe('readOptions', () => {
  const spec = {
    heapMB: options.numberOption(128),
    skipCostMs: options.optionalNumberOption(),
    minutes: options.listOption([5, 15, 60]),
    baselineRuns: options.listOrNoneOption([1]),
  };

  it('gives each option its default where it is not given', () => {
    expect(options.readOptions(spec, [])).toEqual({
      heapMB: 128,
      skipCostMs: undefined,
      minutes: [5, 15, 60],
      baselineRuns: [1],
    });
  });

  it('reads each option from its kebab-case flag as a number or a list, 0 as none where it may be', () => {
    const args = ['--heap-mb', '64', '--skip-cost-ms', '2.5', '--minutes', '15', '--baseline-runs', '0'];

    expect(options.readOptions(spec, args)).toEqual({
      heapMB: 64,
      skipCostMs: 2.5,
      minutes: [15],
      baselineRuns: [],
    });
  });

  it('refuses a value that is not a number, even where the bench takes any number, and reads 0 in a list as 0', () => {
    expect(options.readOptions(spec, ['--heap-mb', 'lots'])).toBeUndefined();
    expect(options.readOptions(spec, ['--minutes', '5,x'])).toBeUndefined();
    expect(options.readOptions(spec, ['--minutes', '0'])?.minutes).toEqual([0]);
  });

  describe('with the numbers the bench takes', () => {
    const checked = {
      rows: options.numberOption(1000, options.whole(1, 5000)),
      rowsPerSecond: options.numberOption(35, options.above(0)),
      latencyMs: options.optionalNumberOption(options.atLeast(0)),
      minutes: options.listOption([5, 60], options.oneOf([5, 15, 60])),
      windows: options.listOrNoneOption([5], options.oneOf([5, 15, 60])),
    };

    it.each([
      [[], true],
      [['--rows', '5000', '--rows-per-second', '0.5', '--latency-ms', '0', '--windows', '0'], true],
      [['--rows', '1.5'], false],
      [['--rows', '5001'], false],
      [['--rows', 'x'], false],
      [['--rows-per-second', '0'], false],
      [['--latency-ms=-1'], false],
      [['--minutes', '5,30'], false],
      [['--windows', '7'], false],
    ])('%j: read %s, else undefined', (args, taken) => {
      expect(options.readOptions(checked, args) !== undefined).toBe(taken);
    });
  });

  it.each([
    [['--help'], "Unknown option '--help'"],
    [['--heap-mb'], "Option '--heap-mb <value>' argument missing"],
    [['--heapMB', '64'], "Unknown option '--heapMB'"],
  ])('throws on %j: %s', (args, message) => {
    expect(() => options.readOptions(spec, args)).toThrow(message);
  });

  it('names an option by its camelCase name in kebab case', () => {
    expect(['heapMB', 'rowsPerSecond', 'serverPageSize', 'runs'].map(options.flagOf)).toEqual([
      'heap-mb',
      'rows-per-second',
      'server-page-size',
      'runs',
    ]);
  });
});
