/**
 * The benches' command-line options, read in one place: each option a bench takes is named in camelCase and
 * given on the command line in kebab case (`heapMB` is `--heap-mb 128`), with its default and what its value
 * is read as, a number or a comma-separated list of numbers. An unknown option, or one without its value,
 * throws as parseArgs does (runIfMain names it); a value that is not a number reads as NaN, for the bench to
 * refuse with its usage.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** How one option's value is read: from its text on the command line, or undefined where it is not given. */
export type Option<T> = z.ZodType<T, string | undefined>;

/** A number, `fallback` where the option is not given. */
export function numberOption(fallback: number): Option<number> {
  return z.string().default(String(fallback)).transform(Number);
}

/** A number, or undefined where the option is not given. */
export function optionalNumberOption(): Option<number | undefined> {
  return z
    .string()
    .optional()
    .transform((text) => (text === undefined ? undefined : Number(text)));
}

/** A comma-separated list of numbers (`--minutes 5,15,60`), `fallback` where the option is not given. */
export function listOption(fallback: readonly number[]): Option<number[]> {
  return z.string().default(fallback.join(',')).transform(numbersOf);
}

/** As listOption, where `0` is none (`--windows 0` skips the windows bench): an empty list. */
export function listOrNoneOption(fallback: readonly number[]): Option<number[]> {
  return z
    .string()
    .default(fallback.join(','))
    .transform((text) => (text === '0' ? [] : numbersOf(text)));
}

/** The numbers of a comma-separated list. */
function numbersOf(text: string): number[] {
  return text.split(',').map(Number);
}

/** The option `--kebab-case` that the camelCase `name` is given as on the command line. */
export function flagOf(name: string): string {
  return name.replace(/[A-Z]+/g, (capitals) => `-${capitals.toLowerCase()}`);
}

/**
 * The command line's options (`args`, default the process's own), each read as `options` says, under its
 * camelCase name. Throws a parseArgs TypeError on an option not in `options` or one without its value.
 */
export function readOptions<S extends Record<string, Option<unknown>>>(
  options: S,
  args: string[] = process.argv.slice(2),
) {
  const names = Object.keys(options);
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(names.map((name) => [flagOf(name), { type: 'string' as const }])),
  });
  const given = Object.fromEntries(names.map((name) => [name, values[flagOf(name)]]));
  return z.object(options).parse(given);
}
