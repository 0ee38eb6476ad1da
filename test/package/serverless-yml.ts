/**
 * serverless.yml's plain `key: value` blocks, read as text (the file's CloudFormation tags, `!If` and
 * `!Ref`, are left as the text they are): enough for the tests that tie its values to the code's.
 */
import { readFileSync } from 'node:fs';

export const serverlessYml = (): string =>
  readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8');

const scalar = (raw: string): string => {
  const value = raw.replace(/\s+#.*$/, '').trim();
  return /^'.*'$|^".*"$/.test(value) ? value.slice(1, -1) : value;
};

/**
 * The `key: value` lines directly under `path` (e.g. `['params', 'default']`), values unquoted. A key whose
 * value is a block of its own maps to ''.
 */
export function block(yml: string, path: readonly string[]): Record<string, string> {
  const lines = yml.split('\n');
  const depthOf = (line: string) => line.length - line.trimStart().length;
  let start = 0;
  path.forEach((key, level) => {
    const at = lines.findIndex(
      (line, i) => i >= start && depthOf(line) === 2 * level && line.trim() === `${key}:`,
    );
    if (at < 0) throw new Error(`serverless.yml has no ${path.slice(0, level + 1).join('.')}`);
    start = at + 1;
  });
  const inner = 2 * path.length;
  const entries: Record<string, string> = {};
  for (const line of lines.slice(start)) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const depth = depthOf(line);
    if (depth < inner) break;
    const m = depth === inner ? /^ *([A-Za-z0-9_]+):(.*)$/.exec(line) : null;
    if (m?.[1] !== undefined) entries[m[1]] = scalar(m[2] ?? '');
  }
  return entries;
}

/** `${param:name}` of `value` replaced by params.default's value (to a fixed point); other variables left as written. */
export function resolveParams(value: string, params: Readonly<Record<string, string>>): string {
  let resolved = value;
  for (let i = 0; i < 5 && resolved.includes('${param:'); i++) {
    resolved = resolved.replace(/\$\{param:([A-Za-z0-9]+)\}/g, (all, name: string) => params[name] ?? all);
  }
  return resolved;
}
