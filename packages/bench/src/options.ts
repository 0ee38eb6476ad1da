/**
 * The benches' command-line options, read in one place: each option a bench takes is named in camelCase and
 * given on the command line in kebab case (`heapMB` is `--heap-mb 128`), with its default and what its value
 * is read as, a number or a comma-separated list of numbers, and the numbers the bench takes. An unknown
 * option, or one without its value, throws as parseArgs does (runIfMain names it); a value the bench does not
 * take (out of its range, or not a number) makes the options undefined, for the bench to print its usage.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** How one option's value is read: from its text on the command line, or undefined where it is not given. */
export type Option<T> = z.ZodType<T, string | undefined>;

/** What a bench takes of an option's number: true where it is in the option's range. */
export type Valid = (n: number) => boolean;

/** Any number, but not NaN (a value that is not a number): an option the bench takes in any range. */
const anyNumber: Valid = (n) => !Number.isNaN(n);

/** Numbers of at least `min` (NaN is not one). */
export const atLeast =
  (min: number): Valid =>
  (n) =>
    n >= min;

/** Numbers above `min` (NaN is not one). */
export const above =
  (min: number): Valid =>
  (n) =>
    n > min;

/** Whole numbers from `min` to `max`. */
export const whole =
  (min: number, max = Number.POSITIVE_INFINITY): Valid =>
  (n) =>
    Number.isInteger(n) && n >= min && n <= max;

/** The numbers of `allowed`. */
export const oneOf =
  (allowed: readonly number[]): Valid =>
  (n) =>
    allowed.includes(n);

/** A number, `fallback` where the option is not given; `valid` says which the bench takes. */
export function numberOption(fallback: number, valid: Valid = anyNumber): Option<number> {
  return z.string().default(String(fallback)).transform(Number).refine(valid);
}

/** A number, or undefined where the option is not given; `valid` says which the bench takes. */
export function optionalNumberOption(valid: Valid = anyNumber): Option<number | undefined> {
  return z
    .string()
    .optional()
    .transform((text) => (text === undefined ? undefined : Number(text)))
    .refine((n) => n === undefined || valid(n));
}

/**
 * A comma-separated list of numbers (`--minutes 5,15,60`), `fallback` where the option is not given;
 * `valid` says which numbers the bench takes.
 */
export function listOption(fallback: readonly number[], valid: Valid = anyNumber): Option<number[]> {
  return z
    .string()
    .default(fallback.join(','))
    .transform(numbersOf)
    .refine((list) => list.every(valid));
}

/** As listOption, where `0` is none (`--windows 0` skips the windows bench): an empty list. */
export function listOrNoneOption(fallback: readonly number[], valid: Valid = anyNumber): Option<number[]> {
  return z
    .string()
    .default(fallback.join(','))
    .transform((text) => (text === '0' ? [] : numbersOf(text)))
    .refine((list) => list.every(valid));
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
 * camelCase name, or undefined where a value is not one the bench takes. Throws a parseArgs TypeError on an
 * option not in `options` or one without its value.
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
  const read = z.object(options).safeParse(given);
  return read.success ? read.data : undefined;
}
