/** A bench started with an option it does not know says which, in one line, and exits 2 (it threw a stack before). */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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
