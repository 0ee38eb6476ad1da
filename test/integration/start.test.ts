/**
 * `npm start` as a newcomer runs it: the README's own commands (`<!-- recipe: start -->`,
 * `<!-- recipe: start-tenants -->` and `<!-- recipe: start-window -->`), run by bash in a checkout of its own with a fresh environment, with
 * the bundled stand-in and s3rver it starts itself. What is asserted is what the user sees: the exit code
 * and the message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type Ran, runNode } from '../fixtures/child.ts';
import { recipe } from '../readme/readme.ts';
import { sandbox, terminal, terminalEnv } from '../readme/run.ts';

const START = fileURLToPath(new URL('../../packages/local-run/src/start.ts', import.meta.url));
/** tsx as the project has it: the child runs in an empty directory, where `--import tsx` finds nothing. */
const TSX = import.meta.resolve('tsx');
let remove: (() => void) | undefined;
afterEach(() => {
  remove?.();
  remove = undefined;
});

/** The README's recipe NAME, as a reader pastes it in a fresh checkout. */
async function fromReadme(name: string): Promise<Ran> {
  const box = sandbox();
  remove = box.remove;
  const run = terminal(recipe(name), box.dir, terminalEnv());
  const code = await run.exited;
  return { code, out: run.output() };
}

function start(args: string[]): Promise<Ran> {
  const dir = mkdtempSync(join(tmpdir(), 'citrix-collector-start-'));
  remove = () => rmSync(dir, { recursive: true, force: true });
  return runNode(['--import', TSX, START, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: '--openssl-legacy-provider' },
  });
}

describe('npm start', () => {
  it('collects the one tenant of the embedded default with no tenant list', async () => {
    const { code, out } = await fromReadme('start');

    expect(code, out).toBe(0);
    expect(out).toMatch(/Hour \S+: 7,500 rows, 5 objects published/);
    expect(out).toContain('collector-work/citrix_monitor/state.json');
    expect(out).not.toContain('Tenant ');
  });

  it('collects N tenants of a tenant list side by side with --tenants N, each into its own folder', async () => {
    const { code, out } = await fromReadme('start-tenants');

    expect(code, out).toBe(0);
    for (const id of ['tenant1', 'tenant2', 'tenant3']) {
      expect(out).toContain(`Tenant ${id} (customer ${id}cust):`);
      expect(out).toContain(`collector-work/citrix_monitor/tenants/${id}/state.json`);
      expect(out).toContain(`citrix_monitor/${id}/{Entity}/`);
    }
    expect(out.match(/7,500 rows, 5 objects published/g)).toHaveLength(3);
  });

  it('collects the newest settled 5-minute window with --window 5, in the same layout', async () => {
    const { code, out } = await fromReadme('start-window');

    expect(code, out).toBe(0);
    const window = out.match(
      /Window \S+T(\d\d):(\d\d):00Z\.\.(\d\d):(\d\d):00Z: ([\d,]+) rows, 5 objects published/,
    );
    expect(window, out).not.toBeNull();
    const [, startHour, startMinute, endHour, endMinute, rows] = window ?? [];
    expect(Number(startMinute) % 5).toBe(0);
    expect(
      (Number(endHour) * 60 + Number(endMinute) - Number(startHour) * 60 - Number(startMinute) + 1440) % 1440,
    ).toBe(5);
    expect(Number(rows?.replace(/,/g, ''))).toBe(625);
    expect(out).not.toMatch(/^ {2}Hour /m);
    expect(out).toContain('citrix_monitor/{Entity}/year=YYYY/month=MM/day=DD/hour=HH/');
  });

  it('refuses a tenant count out of range with exit 2, saying what it expects', async () => {
    const { code, out } = await start(['--tenants', '0']);

    expect(code).toBe(2);
    expect(out).toContain('--tenants "0" is invalid: expected a whole number from 1 to 40.');
  });

  it('refuses a window size the collector does not run with, naming --window as typed, with exit 2', async () => {
    const { code, out } = await start(['--window', '7']);

    expect(code).toBe(2);
    expect(out.trimEnd()).toBe(
      'UsageError: --window "7" is invalid: expected one of 5, 10, 15, 20, 30, 60 (a divisor of the hour). See npm start -- --help.',
    );
  });
});
