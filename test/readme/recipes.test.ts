/**
 * The local recipes of README.md and docs/, run as a reader pastes them (`npm start` and its tenants demo
 * are run by test/integration/start.test.ts, from the README too). "Running against a real or compatible
 * API from your machine" (docs/operating.md): the stand-in and the S3 server each in a terminal of its own, on the ports the recipe
 * lets STANDIN_PORT and S3_PORT choose, then the collector's exports and `npm run collect` in a third, in
 * a fresh environment and a checkout of its own. What is asserted is what the reader sees: the exit code,
 * the summary, and the rows in the bucket's folder on disk.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recipe, recipeNames } from './readme.ts';
import { freePort, sandbox, type Terminal, terminal, terminalEnv } from './run.ts';

/** Every recipe of README.md and docs/, and the test that runs it. */
const RUN_BY: Record<string, string> = {
  start: 'test/integration/start.test.ts',
  'start-tenants': 'test/integration/start.test.ts',
  'start-window': 'test/integration/start.test.ts',
  'real-api-standin': 'test/readme/recipes.test.ts',
  'real-api-s3': 'test/readme/recipes.test.ts',
  'real-api': 'test/readme/recipes.test.ts',
};

const terminals: Terminal[] = [];
let remove: (() => void) | undefined;
afterEach(async () => {
  await Promise.all(terminals.splice(0).map((t) => t.stop()));
  remove?.();
  remove = undefined;
});

/**
 * The rows of each entity's published objects in a folder s3rver keeps: three files an object, its body
 * `…_S3rver_object`, `…_S3rver_object.md5` and `…_S3rver_metadata.json`; the rows are in the first.
 */
function rowsOnDisk(folder: string): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const entity of readdirSync(folder)) {
    const files = readdirSync(join(folder, entity), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.ndjson._S3rver_object'),
    );
    rows[entity] = files
      .map((f) =>
        readFileSync(join(folder, entity, f), 'utf8')
          .split('\n')
          .filter(Boolean),
      )
      .reduce((sum, lines) => sum + lines.length, 0);
  }
  return rows;
}

/** The rows per entity that the run's summary printed (`    Sessions    40 rows    1 objects`). */
function rowsPrinted(out: string): Record<string, number> {
  return Object.fromEntries(
    [...out.matchAll(/^ {4}(\w+) +([\d,]+) rows? +\d+ objects?$/gm)].map(([, entity, n]) => [
      entity,
      Number(n?.replace(/,/g, '')),
    ]),
  );
}

describe('the recipes of README.md and docs/', () => {
  it('are each run by a test', () => {
    expect(recipeNames().sort()).toEqual(Object.keys(RUN_BY).sort());
  });

  it('"Running against a real or compatible API" publishes the stand-in\'s newest hour into the S3 server, as written', async () => {
    const box = sandbox();
    remove = box.remove;
    const env = terminalEnv({ STANDIN_PORT: String(await freePort()), S3_PORT: String(await freePort()) });
    const standin = terminal(recipe('real-api-standin'), box.dir, env);
    const s3 = terminal(recipe('real-api-s3'), box.dir, env);
    terminals.push(standin, s3);
    await Promise.all([
      standin.waitFor(new RegExp(`API_BASE +http://127\\.0\\.0\\.1:${env.STANDIN_PORT}\\b`)),
      s3.waitFor(new RegExp(`listening on http://127\\.0\\.0\\.1:${env.S3_PORT}\\b`)),
    ]);

    const collect = terminal(recipe('real-api'), box.dir, env);
    terminals.push(collect);
    const code = await collect.exited;

    const out = collect.output();
    expect(code, out).toBe(0);
    expect(out).toMatch(/^Execution \S+ SUCCEEDED in/m);
    expect(out).toMatch(/^ {2}Hour \S+: [\d,]+ rows, 5 objects published$/m);
    const printed = rowsPrinted(out);
    expect(Object.keys(printed).sort()).toEqual([
      'Applications',
      'Connections',
      'Machines',
      'Sessions',
      'Users',
    ]);
    expect(Object.values(printed).every((n) => n > 0)).toBe(true);
    expect(rowsOnDisk(join(box.dir, '.local-data/s3/citrix-local/citrix_monitor'))).toEqual(printed);
  });
});
