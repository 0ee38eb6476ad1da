import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { page } from './readme.ts';

// The source map of docs/development.md against the tree git holds: every folder a
// newcomer opens is listed, every listed path exists, and the modules of functions/ are each named in
// their folder's entry, so that a module added or renamed without the map fails here.

const ROOT = new URL('../../', import.meta.url);

/** The map's entries: a path at the start of a line, and its text (the following indented lines too). */
function sourceMap(): Map<string, string> {
  const block = /```\n([\s\S]*?)```/.exec(page('docs/development.md'))?.[1] ?? '';
  const entries = new Map<string, string>();
  let current: string | null = null;
  for (const line of block.split('\n')) {
    // A blank line ends an entry: the line after it heads a group (the product, the tooling, the tests).
    if (line.trim() === '') {
      current = null;
      continue;
    }
    const path = /^(\S+\/)\s/.exec(line)?.[1];
    if (path !== undefined) {
      current = path;
      entries.set(path, line.slice(path.length));
    } else if (current !== null) {
      entries.set(current, `${entries.get(current)} ${line.trim()}`);
    }
  }
  return entries;
}

const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);

/** The folders of the tree a reader looks for: the top level's and those one level inside the code's. */
const folders = [
  ...new Set(
    tracked.flatMap((file) => {
      const parts = file.split('/');
      if (parts.length < 2) return [];
      const top = parts[0] ?? '';
      const inside = ['functions', 'packages', 'test'].includes(top) && parts.length > 2;
      return [inside ? `${top}/${parts[1]}/` : `${top}/`];
    }),
  ),
].filter((folder) => !folder.startsWith('.') && folder !== 'functions/lib/' && folder !== 'test/fixtures/');

const modulesOf = (folder: string) =>
  tracked
    .filter((file) => dirname(file) === folder && file.endsWith('.ts'))
    .map((file) => basename(file, '.ts'));

describe("docs/development.md's source map", () => {
  const map = sourceMap();

  it('lists every folder of the code, the tests and the deployment', () => {
    expect(folders.filter((folder) => !map.has(folder))).toEqual([]);
  });

  it('lists only paths that exist', () => {
    expect([...map.keys()].filter((path) => !existsSync(new URL(path, ROOT)))).toEqual([]);
  });

  it.each(['functions', 'functions/domain', 'functions/adapters'])(
    'names every module of %s/ in its entry',
    (folder) => {
      const text = map.get(`${folder}/`) ?? '';
      const words = new Set(text.split(/[^A-Za-z0-9-]+/));

      expect(modulesOf(folder).filter((module) => !words.has(module))).toEqual([]);
    },
  );
});
