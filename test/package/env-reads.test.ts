/**
 * Only the edge reads process.env: the configuration is read once, where the process starts, into typed
 * options (functions/domain/config.ts `loadSettings`, functions/adapters/collectors.ts), and every other
 * module is handed what it needs. A module of functions/ or cli/ that reads process.env for itself fails
 * here. packages/ is tooling, not the product, and is not scanned.
 */

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { typeScriptFiles } from '@citrix-monitor/tools/shape';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url);

/** The modules that may read process.env, each with why. */
const EDGE: Readonly<Record<string, string>> = {
  'functions/adapters/lambda.ts':
    "the Lambda adapter builds the container's fleet at cold start from the Lambda's environment",
  'cli/main.ts': "the CLI's entry point hands its command the environment (a test gives its own)",
};

/** Every TypeScript module under `folder`, relative to the repository. */
const modules = (folder: string): string[] =>
  typeScriptFiles(fileURLToPath(new URL(folder, ROOT))).map((path) => relative(fileURLToPath(ROOT), path));

/** The code of a module, its comments left out: a comment may name process.env. */
const code = (path: string): string =>
  readFileSync(new URL(path, ROOT), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');

/** `process.env`, `process['env']`, or `const { env } = process`. */
const READS_ENV =
  /\bprocess\s*(\?\.|\.)\s*env\b|\bprocess\s*\[\s*['"`]env|\{[^}]*\benv\b[^}]*\}\s*=\s*process\b/;

describe('reads of process.env', () => {
  it('are made by the edge modules alone', () => {
    const readers = [...modules('functions/'), ...modules('cli/')].filter((path) =>
      READS_ENV.test(code(path)),
    );

    expect(readers.filter((path) => !(path in EDGE))).toEqual([]);
  });

  it('are still made by every module listed as an edge (a stale entry would allow a read that is not there)', () => {
    const listed = Object.keys(EDGE).filter((path) => !READS_ENV.test(code(path)));

    expect(listed).toEqual([]);
  });
});
