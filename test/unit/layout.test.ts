import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The folders say what a module is: functions/domain/ (the collector's rules, and the ports it needs),
// functions/adapters/ (S3, Citrix, Secrets Manager, Powertools, Lambda wiring), functions/lib/ (pure
// helpers). The arrows point inwards: this checks them on the import statements themselves.

const folder = (name: string) => new URL(`../../functions/${name}/`, import.meta.url);
const imports = (name: string) =>
  readdirSync(folder(name), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .flatMap((file) =>
      [...readFileSync(new URL(file, folder(name)), 'utf8').matchAll(/from '([^']+)'/g)].map(
        ([, spec]) => `${name}/${file} -> ${spec}`,
      ),
    );

describe('the layout of functions/', () => {
  it('reads the domain with its subfolders', () => {
    expect(imports('domain').some((line) => line.startsWith('domain/settings/'))).toBe(true);
  });

  it('keeps the domain free of adapters and of AWS and Powertools packages', () => {
    const outward = imports('domain').filter((line) =>
      /-> ((\.\.\/)+adapters\/|@aws-sdk\/|@aws-lambda-powertools\/|@middy\/)/.test(line),
    );

    expect(outward).toEqual([]);
  });

  it('keeps the helpers in lib/ free of the domain and the adapters', () => {
    const outward = imports('lib').filter((line) => /-> \.\.\//.test(line));

    expect(outward).toEqual([]);
  });
});
