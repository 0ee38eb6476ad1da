/**
 * The benches' options (options.ts) read as each says, and a bench started with an option it does not know
 * says which, in one line, and exits 2 (it threw a stack before).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  flagOf,
  listOption,
  listOrNoneOption,
  numberOption,
  optionalNumberOption,
  readOptions,
} from '../src/options.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

describe('a bench given an option it does not know', () => {
  it.each([
    ['tenants.ts', ['--help'], "Tenant bench: Unknown option '--help'"],
    ['windows.ts', ['--rows'], "Windows bench: Option '--rows <value>' argument missing"],
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
  const options = {
    heapMB: numberOption(128),
    skipCostMs: optionalNumberOption(),
    minutes: listOption([5, 15, 60]),
    baselineRuns: listOrNoneOption([1]),
  };

  it('gives each option its default where it is not given', () => {
    expect(readOptions(options, [])).toEqual({
      heapMB: 128,
      skipCostMs: undefined,
      minutes: [5, 15, 60],
      baselineRuns: [1],
    });
  });

  it('reads each option from its kebab-case flag as a number or a list, 0 as none where it may be', () => {
    const args = ['--heap-mb', '64', '--skip-cost-ms', '2.5', '--minutes', '15', '--baseline-runs', '0'];

    expect(readOptions(options, args)).toEqual({
      heapMB: 64,
      skipCostMs: 2.5,
      minutes: [15],
      baselineRuns: [],
    });
  });

  it('reads a value that is not a number as NaN, for the bench to refuse, and 0 in a list as 0', () => {
    const read = readOptions(options, ['--heap-mb', 'lots', '--minutes', '0']);

    expect(read.heapMB).toBeNaN();
    expect(read.minutes).toEqual([0]);
  });

  it.each([
    [['--help'], "Unknown option '--help'"],
    [['--heap-mb'], "Option '--heap-mb <value>' argument missing"],
    [['--heapMB', '64'], "Unknown option '--heapMB'"],
  ])('throws on %j: %s', (args, message) => {
    expect(() => readOptions(options, args)).toThrow(message);
  });

  it('names an option by its camelCase name in kebab case', () => {
    expect(['heapMB', 'rowsPerSecond', 'serverPageSize', 'runs'].map(flagOf)).toEqual([
      'heap-mb',
      'rows-per-second',
      'server-page-size',
      'runs',
    ]);
  });
});
