/**
 * serverless.yml's deploy parameters and Lambda environment, and the configuration table (docs/configuration.md), hold
 * the settings schema's defaults (functions/domain/settings/registry.ts): a default changed in one place and not
 * the other fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultOf } from '../../functions/domain/settings/readers.ts';
import { SETTINGS, type Setting } from '../../functions/domain/settings/registry.ts';
import { settingsTable } from './configuration-table.ts';
import { block, resolveParams, serverlessYml } from './serverless-yml.ts';

const yml = serverlessYml();
const params = block(yml, ['params', 'default']);
const environment = block(yml, ['provider', 'environment']);

/** Every setting's default, other settings' defaults filled in: what a deployment with no parameters holds. */
const defaults: Record<string, string> = {};
for (const s of SETTINGS) defaults[s.name] = defaultOf(s, defaults) ?? '';

/** What serverless.yml should hold for `s`: its deployed value, else its default, else empty. */
const deployed = (s: Setting) => s.deployed ?? defaults[s.name] ?? '';

/** Variables the template sets that are not the collector's settings, with why. */
const NOT_SETTINGS = new Set(['NODE_OPTIONS']); // V8's young generation for a page's garbage

describe("serverless.yml's defaults", () => {
  it.each(SETTINGS.filter((s) => s.param !== undefined).map((s) => [s.param, s.name, s] as const))(
    'params.default.%s is the default of %s',
    (param, _name, s) => {
      expect(Object.keys(params)).toContain(param);
      expect(resolveParams(params[param as string] ?? '', params)).toBe(deployed(s));
    },
  );

  it('sets in the Lambda environment only settings of the schema', () => {
    const names = new Set(SETTINGS.map((s) => s.name));

    expect(Object.keys(environment).filter((name) => !names.has(name) && !NOT_SETTINGS.has(name))).toEqual(
      [],
    );
  });

  it.each(Object.keys(environment).filter((name) => !NOT_SETTINGS.has(name)))(
    'sets %s from its deploy parameter, or to its default',
    (name) => {
      const s = SETTINGS.find((candidate) => candidate.name === name);
      if (s === undefined) throw new Error(`${name} is not a setting of the schema`);
      const value = environment[name] ?? '';
      if (value.startsWith('!')) {
        // A CloudFormation condition: the created resource, or the parameter.
        expect(value).toContain(`\${param:${s.param}}`);
        return;
      }
      if (s.param !== undefined) expect(value).toBe(`\${param:${s.param}}`);
      expect(resolveParams(value, params)).toBe(deployed(s));
    },
  );
});

describe('the configuration table of docs/configuration.md', () => {
  it('is the table the schema makes: every setting, its default and meaning, and no other', () => {
    const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const table = page
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .join('\n');

    expect(
      table,
      'regenerate it: npx tsx -e "import(\'./test/package/configuration-table.ts\').then((m) => console.log(m.settingsTable()))"',
    ).toBe(settingsTable());
  });
});
