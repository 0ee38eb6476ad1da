/**
 * `npm start` as a newcomer runs it: the README's own commands (`<!-- recipe: start -->` and
 * `<!-- recipe: start-tenants -->`), run by bash in a checkout of its own with a fresh environment, with
 * the bundled stand-in and s3rver it starts itself. What is asserted is what the user sees: the exit code
 * and the message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type Ran, runNode } from '../fixtures/child.ts';
import { readme, recipe } from '../readme/readme.ts';
import { sandbox, terminal, terminalEnv } from '../readme/run.ts';

const START = fileURLToPath(new URL('../../local/start.ts', import.meta.url));
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
  const run = terminal(recipe(readme(), name), box.dir, terminalEnv());
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

  it('refuses a tenant count out of range with exit 2, saying what it expects', async () => {
    const { code, out } = await start(['--tenants', '0']);

    expect(code).toBe(2);
    expect(out).toContain('--tenants "0" is invalid: expected a whole number from 1 to 40.');
  });
});
