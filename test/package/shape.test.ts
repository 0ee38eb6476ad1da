/**
 * The house's bar, held for the product (functions/, statemachine/, cli/) and for the tooling packages
 * (packages/): no function body over 50 lines, and no `as` cast (parse or narrow instead). Test files are
 * not held to it: a `describe` block is a list of cases, and a test may cast a fixture.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MOST_LINES, shapeOf, typeScriptFiles } from '@citrix-monitor/tools/shape';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PRODUCT = ['functions', 'statemachine', 'cli'];
const TOOLING = readdirSync(join(ROOT, 'packages')).map((name) => join('packages', name));

const isTest = (file: string) => /(^|\/)test\//.test(file) || file.endsWith('.test.ts');

function shape(folders: readonly string[]) {
  const files = folders
    .map((folder) => join(ROOT, folder))
    .filter((folder) => existsSync(folder))
    .flatMap(typeScriptFiles)
    .filter((file) => !isTest(file.slice(ROOT.length)));
  return { files, ...shapeOf(files, ROOT) };
}

describe.each([
  ['the product', PRODUCT],
  ['the tooling packages', TOOLING],
])('%s', (_, folders) => {
  const { files, functions, casts } = shape(folders);

  it('is read (the folders hold TypeScript)', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it(`has no function over ${MOST_LINES} lines`, () => {
    const long = functions
      .filter((f) => f.lines > MOST_LINES)
      .map((f) => `${f.file}:${f.line} ${f.name} (${f.lines})`);
    expect(long).toEqual([]);
  });

  it('has no `as` cast', () => {
    expect(casts.map((c) => `${c.file}:${c.line} ${c.text}`)).toEqual([]);
  });
});

describe('the shape measure', () => {
  it('counts a long function and a cast, and not `as const`', () => {
    const fixture = join(ROOT, 'test', 'fixtures', 'shape');
    const { functions, casts } = shapeOf(typeScriptFiles(fixture), ROOT);
    expect(functions.map((f) => [f.name, f.lines])).toEqual([['long', 54]]);
    expect(casts.map((c) => c.text)).toEqual(['value as string']);
  });
});
