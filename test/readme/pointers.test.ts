import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { headings, page } from './readme.ts';

// What the code tells a reader to read: the messages, help texts, template descriptions and comments of
// functions/, cli/, packages/, deploy/, params/ and serverless.yml point at README.md and the pages of docs/ as
// `(README, "Heading")`, `(docs/operating.md, "Exit codes")` or `(docs/configuration.md)`. Each pointer must
// land: the page exists and, when a heading is named, the page has that heading, word for word. A README
// pointer names one of the README's headings, since the README is short and its sections are its paths.

const ROOT = new URL('../../', import.meta.url);

const SCANNED = ['functions', 'cli', 'packages', 'deploy', 'params', 'serverless.yml'];
const SOURCE = /\.(ts|cjs|mjs|js|ya?ml)$/;

function files(path: string): string[] {
  const url = new URL(path, ROOT);
  if (!existsSync(url)) return [];
  if (statSync(url).isFile()) return SOURCE.test(path) ? [path] : [];
  return readdirSync(url)
    .filter((name) => name !== 'node_modules' && !name.startsWith('.'))
    .sort()
    .flatMap((name) => files(`${path}/${name}`));
}

interface Pointer {
  page: string;
  heading: string | null;
  line: number;
}

/**
 * The pointers of a source text: `README`, `README.md` or `docs/NAME.md` (not the end of a path,
 * `citrix/monitoring-api/docs/index.md`), then optionally `, "Heading"` or ` "Heading"`. A heading may
 * wrap onto the next line, behind a comment's `#`, `//` or `*`: it is read with its whitespace collapsed.
 */
function pointers(text: string): Pointer[] {
  const pattern =
    /(?<![\w/.-])(README(?:\.md)?|docs\/[\w-]+\.md)(?:,?[ \t]*(?:\n[ \t]*(?:#|\/\/|\*)?[ \t]*)?"([^"]+)")?/g;
  return [...text.matchAll(pattern)].map((match) => ({
    page: match[1] === 'README' ? 'README.md' : (match[1] ?? ''),
    heading:
      match[2] === undefined
        ? null
        : match[2]
            .replace(/\n[ \t]*(?:#|\/\/|\*)?[ \t]*/g, ' ')
            .replace(/\s+/g, ' ')
            .trim(),
    line: text.slice(0, match.index).split('\n').length,
  }));
}

/** What is wrong with a pointer, or null when it lands. */
function broken(pointer: Pointer): string | null {
  if (!existsSync(new URL(pointer.page, ROOT))) return `${pointer.page} does not exist`;
  if (pointer.heading === null) {
    return pointer.page === 'README.md' ? 'README names no heading: name the section meant' : null;
  }
  const texts = headings(page(pointer.page)).map((h) => h.text);
  return texts.includes(pointer.heading) ? null : `${pointer.page} has no heading "${pointer.heading}"`;
}

describe('a pointer from the code to the documentation', () => {
  it('is read with its page and heading, even when the heading wraps in a comment', () => {
    expect(pointers('x (README, "Try it (offline)") y')).toEqual([
      { page: 'README.md', heading: 'Try it (offline)', line: 1 },
    ]);
    expect(pointers('a\n  # see docs/operating.md, "Running against a real or\n  # compatible API"')).toEqual(
      [{ page: 'docs/operating.md', heading: 'Running against a real or compatible API', line: 2 }],
    );
    expect(pointers('see README "When a run fails" and (docs/configuration.md).')).toEqual([
      { page: 'README.md', heading: 'When a run fails', line: 1 },
      { page: 'docs/configuration.md', heading: null, line: 1 },
    ]);
    expect(pointers('citrix/monitoring-api/docs/index.md, https://x.example/docs/a.md')).toEqual([]);
  });

  it('is broken when the page has no such heading, the page does not exist, or a README pointer names none', () => {
    expect(broken({ page: 'README.md', heading: 'Exit codes', line: 1 })).toBe(
      'README.md has no heading "Exit codes"',
    );
    expect(broken({ page: 'docs/operating.md', heading: 'Exit codes', line: 1 })).toBeNull();
    expect(broken({ page: 'docs/operating.md', heading: 'Running against a real', line: 1 })).toMatch(
      /has no heading/,
    );
    expect(broken({ page: 'docs/nowhere.md', heading: null, line: 1 })).toBe(
      'docs/nowhere.md does not exist',
    );
    expect(broken({ page: 'README.md', heading: null, line: 1 })).toMatch(/names no heading/);
    expect(broken({ page: 'docs/configuration.md', heading: null, line: 1 })).toBeNull();
  });
});

describe('the pointers of functions/, cli/, packages/, deploy/, params/ and serverless.yml', () => {
  const scanned = SCANNED.flatMap(files);

  it('are read from the sources', () => {
    expect(scanned).toContain('serverless.yml');
    expect(scanned).toContain('cli/main.ts');
    expect(scanned).toContain('deploy/params.cjs');
    expect(scanned.some((path) => path.startsWith('packages/bench/src/'))).toBe(true);
  });

  it('land on a page that exists, on a heading it has', () => {
    const wrong = scanned.flatMap((path) =>
      pointers(readFileSync(new URL(path, ROOT), 'utf8')).flatMap((pointer) => {
        const problem = broken(pointer);
        return problem === null ? [] : [`${path}:${pointer.line}: ${problem}`];
      }),
    );

    expect(wrong).toEqual([]);
  });
});
