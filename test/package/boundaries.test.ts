/**
 * The product (functions/, statemachine/, cli/: what ships) never imports the tooling (packages/: the
 * test kit, the local run, the benches, the tools). Every module specifier of every .ts file of the
 * product, static, dynamic or required, and every `new URL('…', import.meta.url)` (a file started by
 * path), must neither resolve into packages/ nor name a package `@citrix-monitor/…`.
 */

import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { typeScriptFiles } from '@citrix-monitor/tools/shape';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PRODUCT = ['functions', 'statemachine', 'cli'];

/** The .ts files of a folder of the repository, relative to it. */
const filesOf = (folder: string): string[] =>
  typeScriptFiles(join(ROOT, folder)).map((path) => relative(ROOT, path));

/** The module specifiers of a source text, and the paths it opens relative to itself. */
function specifiers(text: string): string[] {
  const modules = ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
  const urls = [...text.matchAll(/new URL\(\s*['"`]([^'"`]+)['"`]\s*,\s*import\.meta\.url/g)].map(
    (match) => match[1] ?? '',
  );
  return [...modules, ...urls];
}

/** Why a specifier of `file` reaches the tooling, or null when it does not. */
function intoTooling(file: string, specifier: string): string | null {
  if (specifier.startsWith('@citrix-monitor/')) return 'names a tooling package';
  if (!specifier.startsWith('.')) return null;
  const target = relative(ROOT, resolve(ROOT, dirname(file), specifier));
  return target === 'packages' || target.startsWith('packages/') ? `resolves into ${target}` : null;
}

/** Every import of the product's files that reaches the tooling, as `file: specifier (why)`. */
function toolingImports(
  files: readonly string[],
  read = (file: string) => readFileSync(join(ROOT, file), 'utf8'),
) {
  return files.flatMap((file) =>
    specifiers(read(file)).flatMap((specifier) => {
      const why = intoTooling(file, specifier);
      return why === null ? [] : [`${file}: ${specifier} (${why})`];
    }),
  );
}

describe('the product and the tooling', () => {
  const files = PRODUCT.flatMap(filesOf);

  it('reads the .ts files of functions/, statemachine/ and cli/', () => {
    for (const file of ['functions/plan.ts', 'statemachine/collector.asl.ts', 'cli/main.ts'])
      expect(files).toContain(file);
  });

  it('has no import from the product into packages/ or of a @citrix-monitor/ package', () => {
    expect(toolingImports(files)).toEqual([]);
  });

  it('would see one: static, dynamic, required, by package name or by path', () => {
    const bad: Record<string, string> = {
      'functions/plan.ts': "import { runExecution } from '../packages/testkit/src/workflow.ts';",
      'functions/domain/hours.ts': "export type { Standin } from '@citrix-monitor/testkit/citrix-standin';",
      'cli/main.ts': "const m = await import('../packages/local-run/src/collect.ts');",
      'cli/bin.ts': "const LOCAL = new URL('../packages/local-run/src/collect.ts', import.meta.url);",
      'statemachine/write.ts': "const b = require('@citrix-monitor/bench/cost');",
      'functions/tenants.ts': "import { x } from '../functions/domain/packages.ts';",
    };
    expect(toolingImports(Object.keys(bad), (file) => bad[file] ?? '')).toEqual([
      'functions/plan.ts: ../packages/testkit/src/workflow.ts (resolves into packages/testkit/src/workflow.ts)',
      'functions/domain/hours.ts: @citrix-monitor/testkit/citrix-standin (names a tooling package)',
      'cli/main.ts: ../packages/local-run/src/collect.ts (resolves into packages/local-run/src/collect.ts)',
      'cli/bin.ts: ../packages/local-run/src/collect.ts (resolves into packages/local-run/src/collect.ts)',
      'statemachine/write.ts: @citrix-monitor/bench/cost (names a tooling package)',
    ]);
  });
});
