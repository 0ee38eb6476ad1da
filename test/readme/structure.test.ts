import { existsSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  anchorLinks,
  anchorOf,
  docPaths,
  fileLinks,
  headings,
  page,
  pages,
  readme,
  section,
} from './readme.ts';

// The README and the pages of docs/ as a reader meets them on GitHub: the README starts with what to do
// and sends the reader to every page; on every page each heading has an anchor of its own, every link to
// an anchor or to another file lands, and a page's contents list its sections in the order they come.

const ROOT = new URL('../../', import.meta.url);

describe('anchors as GitHub makes them', () => {
  it('drop backticks and punctuation, keep hyphens and letters, and turn spaces into hyphens', () => {
    expect(anchorOf('Reading `status`')).toBe('reading-status');
    expect(anchorOf("Why not the Lambda from Google's guide")).toBe('why-not-the-lambda-from-googles-guide');
    expect(anchorOf('When a run fails: redrive')).toBe('when-a-run-fails-redrive');
    expect(anchorOf('Citrix Monitor → Amazon S3')).toBe('citrix-monitor--amazon-s3');
    expect(anchorOf('The access-key fallback')).toBe('the-access-key-fallback');
  });
});

describe('README.md, a README that starts with what to do', () => {
  const markdown = readme();
  const lines = markdown.split('\n');

  it('is under 200 lines', () => {
    expect(lines.length).toBeLessThan(200);
  });

  it('gives its first command (the first shell block) within its first 30 lines', () => {
    const first = lines.findIndex((line) => /^\s*```(sh|bash|shell)\s*$/.test(line)) + 1;

    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(30);
  });

  it('links to every page of docs/', () => {
    const linked = new Set(fileLinks(markdown).map((link) => posix.normalize(link.path)));

    expect(docPaths().filter((path) => !linked.has(path))).toEqual([]);
  });
});

describe.each(pages().map(({ path }) => [path]))('%s', (path) => {
  const markdown = page(path);
  const all = headings(markdown);

  it('gives every heading an anchor of its own', () => {
    const seen = new Map<string, number>();
    const repeated = all.flatMap((h) => {
      const first = seen.get(h.anchor);
      seen.set(h.anchor, first ?? h.line);
      return first === undefined ? [] : [`"${h.text}" (line ${h.line}) repeats the anchor of line ${first}`];
    });

    expect(repeated).toEqual([]);
  });

  it('links only to anchors that a heading of the page has', () => {
    const anchors = new Set(all.map((h) => h.anchor));
    const broken = anchorLinks(markdown)
      .filter((link) => !anchors.has(link.anchor))
      .map((link) => `line ${link.line}: #${link.anchor}`);

    expect(broken).toEqual([]);
  });

  it('links only to files that exist, and to anchors that a heading of the page linked to has', () => {
    const broken = fileLinks(markdown).flatMap((link) => {
      const target = posix.normalize(posix.join(posix.dirname(path), link.path));
      const url = new URL(target, ROOT);
      if (target.startsWith('..') || !existsSync(url))
        return [`line ${link.line}: ${link.path} does not exist`];
      if (link.anchor === null) return [];
      const anchors = statSync(url).isFile() ? headings(page(target)).map((h) => h.anchor) : [];
      return anchors.includes(link.anchor) ? [] : [`line ${link.line}: ${link.path}#${link.anchor}`];
    });

    expect(broken).toEqual([]);
  });

  it('has one title, its first line', () => {
    expect(all.filter((h) => h.level === 1).map((h) => h.line)).toEqual([1]);
  });

  // The README opens with its three paths instead, and its last section lists the pages; a page of three
  // sections or fewer needs no contents.
  it('lists every section in its contents, in the order of the sections, before the first, if it needs one', () => {
    const sections = all.filter((h) => h.level === 2 && h.text !== 'Contents').map((h) => h.anchor);
    const needs = path !== 'README.md' && sections.length > 3;
    const contents = all.some((h) => h.level === 2 && h.text === 'Contents')
      ? anchorLinks(section(markdown, 'Contents')).map((link) => link.anchor)
      : null;

    if (!needs && contents === null) return;
    expect(contents?.filter((anchor) => sections.includes(anchor))).toEqual(sections);
    expect(all.filter((h) => h.level === 2)[0]?.text).toBe('Contents');
  });
});
