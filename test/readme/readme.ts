import { readdirSync, readFileSync } from 'node:fs';

// Reads README.md and the pages of docs/ as GitHub renders them: their headings (outside code blocks), the
// anchors GitHub gives them, their links, and the shell blocks marked `<!-- recipe: NAME -->` for the recipe
// tests. A page is named by its path from the repository's root (`README.md`, `docs/operating.md`).

const ROOT = new URL('../../', import.meta.url);

export const README_PATH = new URL('README.md', ROOT);

export const readme = (): string => readFileSync(README_PATH, 'utf8');

/** The documentation pages, `docs/*.md`, by their path from the root, in name order. */
export const docPaths = (): string[] =>
  readdirSync(new URL('docs/', ROOT))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);

/** A page's text, by its path from the root (`README.md`, `docs/operating.md`). */
export const page = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');

/** Every page a reader may be sent to: README.md, then each page of docs/. */
export const pages = (): Array<{ path: string; markdown: string }> =>
  ['README.md', ...docPaths()].map((path) => ({ path, markdown: page(path) }));

export interface Heading {
  level: number;
  text: string;
  anchor: string;
  line: number;
}

/**
 * The anchor GitHub gives a heading's text (github-slugger, without the `-1` suffix of a repeat): lower
 * case, inline-code backticks and every character that is not a letter, mark, digit, connector, space or
 * hyphen dropped, spaces turned into hyphens.
 */
export function anchorOf(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Each line with whether it lies inside a fenced code block (the fence lines count as inside). */
function linesOutsideCode(markdown: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  let fence: string | null = null;
  markdown.split('\n').forEach((text, index) => {
    const opener = /^\s*(`{3,}|~{3,})/.exec(text)?.[1];
    if (fence === null && opener !== undefined) fence = opener;
    else if (fence !== null && opener?.startsWith(fence[0] ?? '') && opener.length >= fence.length)
      fence = null;
    else if (fence === null) out.push({ text, line: index + 1 });
  });
  return out;
}

/** The ATX headings (`#` to `######`) outside code blocks, in document order. */
export function headings(markdown: string): Heading[] {
  return linesOutsideCode(markdown).flatMap(({ text, line }) => {
    const match = /^(#{1,6}) +(.+?) *#* *$/.exec(text);
    if (match?.[1] === undefined || match[2] === undefined) return [];
    return [{ level: match[1].length, text: match[2], anchor: anchorOf(match[2]), line }];
  });
}

/** The targets of links to an anchor of this document, `[text](#anchor)`, outside code blocks. */
export function anchorLinks(markdown: string): Array<{ anchor: string; line: number }> {
  return linesOutsideCode(markdown).flatMap(({ text, line }) =>
    [...text.matchAll(/\]\(#([^)\s]*)\)/g)].map(([, anchor]) => ({ anchor: anchor ?? '', line })),
  );
}

/**
 * The links to another file of the repository, `[text](path)` or `[text](path#anchor)`, outside code
 * blocks: neither a web address nor an anchor of this document. `path` is as written, relative to the page.
 */
export function fileLinks(markdown: string): Array<{ path: string; anchor: string | null; line: number }> {
  return linesOutsideCode(markdown).flatMap(({ text, line }) =>
    [...text.matchAll(/\]\(([^)\s#]+)(?:#([^)\s]*))?\)/g)]
      .filter(([, path]) => !/^[a-z]+:/i.test(path ?? ''))
      .map(([, path, anchor]) => ({ path: path ?? '', anchor: anchor ?? null, line })),
  );
}

/** The lines of a `##` section, from its heading to the next `##` or `#` heading. */
export function section(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  const all = headings(markdown);
  const start = all.find((h) => h.level === 2 && h.text === title);
  if (start === undefined) throw new Error(`The page has no "## ${title}" section`);
  const next = all.find((h) => h.line > start.line && h.level <= 2);
  return lines.slice(start.line - 1, next === undefined ? undefined : next.line - 1).join('\n');
}

/** The names of the recipes, `<!-- recipe: NAME -->`, of every page (README.md and docs/), in page order. */
export function recipeNames(all = pages()): string[] {
  return all.flatMap(({ markdown }) =>
    [...markdown.matchAll(/^<!-- recipe: (\S+) -->$/gm)].map(([, name]) => name ?? ''),
  );
}

/** The shell block right after `<!-- recipe: NAME -->`, on whichever page holds it, as a reader copies it. */
export function recipe(name: string, all = pages()): string {
  const marker = `<!-- recipe: ${name} -->\n`;
  const holders = all.filter(({ markdown }) => markdown.includes(marker));
  const markdown = holders[0]?.markdown ?? '';
  const at = markdown.indexOf(marker);
  if (holders.length !== 1 || markdown.indexOf(marker, at + 1) >= 0) {
    throw new Error(`README.md and docs/ need exactly one "<!-- recipe: ${name} -->"`);
  }
  const block = /^```sh\n([\s\S]*?)\n```\n/.exec(markdown.slice(at + marker.length));
  if (block?.[1] === undefined) {
    throw new Error(
      `"<!-- recipe: ${name} -->" in ${holders[0]?.path} is not followed at once by a \`\`\`sh block`,
    );
  }
  return block[1];
}
