import { describe, expect, it } from 'vitest';
import { anchorLinks, anchorOf, headings, readme, section } from './readme.ts';

// The README's structure as a reader meets it on GitHub: every heading has an anchor of its own, every
// link to an anchor lands on a heading, and the contents list every section in the order they come.

describe('anchors as GitHub makes them', () => {
  it('drop backticks and punctuation, keep hyphens and letters, and turn spaces into hyphens', () => {
    expect(anchorOf('Reading `status`')).toBe('reading-status');
    expect(anchorOf("Why not the Lambda from Google's guide")).toBe('why-not-the-lambda-from-googles-guide');
    expect(anchorOf('When a run fails: redrive')).toBe('when-a-run-fails-redrive');
    expect(anchorOf('Citrix Monitor → Amazon S3')).toBe('citrix-monitor--amazon-s3');
    expect(anchorOf('The access-key fallback')).toBe('the-access-key-fallback');
  });
});

describe('README.md', () => {
  const markdown = readme();
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

  it('links only to anchors that a heading has', () => {
    const anchors = new Set(all.map((h) => h.anchor));
    const broken = anchorLinks(markdown)
      .filter((link) => !anchors.has(link.anchor))
      .map((link) => `line ${link.line}: #${link.anchor}`);

    expect(broken).toEqual([]);
  });

  it('lists every section in its contents, in the order of the sections', () => {
    const contents = anchorLinks(section(markdown, 'Contents')).map((link) => link.anchor);
    const sections = all.filter((h) => h.level === 2 && h.text !== 'Contents').map((h) => h.anchor);

    expect(contents.filter((anchor) => sections.includes(anchor))).toEqual(sections);
  });

  it('puts the contents before the first section', () => {
    const second = all.filter((h) => h.level === 2)[0];

    expect(second?.text).toBe('Contents');
  });
});
