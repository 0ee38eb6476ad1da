import type { z } from 'zod';
import { BadConfiguration } from '../errors.ts';
import { type Parser, whole } from './parsers.ts';
import { LAG_ALARM_HOURS, SETTINGS, type Setting } from './registry.ts';

/** Reading a setting from the environment: its text, its default, its parser, and the messages of a refusal. */

type Env = Record<string, string | undefined>;

/** How a message shows a value: quoted, any `user:password@` of a URL left out. */
export const quoted = (value: string | undefined): string =>
  JSON.stringify(value?.replace(/\/\/[^/@]*@/, '//…@'));

/** A setting's default with the `{OTHER}` of other settings' values filled in. */
export const defaultOf = (s: Setting, values: Readonly<Record<string, string>> = {}): string | undefined =>
  s.default?.replace(/\{([A-Z0-9_]+)\}/g, (_, name: string) => values[name] ?? '');

/**
 * A required setting that is not set. Still a {@link BadConfiguration} to the state machine; `setting`
 * lets a caller add what applies to that setting alone (the tenant list, when no Citrix tenant is set).
 */
export class MissingSetting extends BadConfiguration {
  readonly setting: string;
  constructor(setting: string) {
    const s = SETTINGS.find((candidate) => candidate.name === setting);
    const deployed = s?.param && !s.setByStack ? `; deployed: --param="${s.param}=…"` : '';
    super(
      `${setting} is not set: it is required, ${s?.required}. Locally: export ${setting}=${s?.example ?? '…'}${deployed} (docs/configuration.md).`,
    );
    this.setting = setting;
  }
}

const missing = (s: Setting): MissingSetting => new MissingSetting(s.name);

/**
 * An empty value of a setting that has a default: the user typed the variable, so the default is not what
 * they meant, and taking it without a word would hide the mistake (`ENTITIES=` collecting five entities).
 */
const empty = (s: Setting, values: Readonly<Record<string, string>>): BadConfiguration =>
  new BadConfiguration(
    `${s.name} is empty: give it a value, or leave it unset for its default, ${quoted(defaultOf(s, values))}.`,
  );

/** A value given for a setting, and how a message about it names and shows it. */
export interface GivenValue {
  /** How a message names the setting: a variable (`API_BASE="…"`), or a listed tenant's field (`apiBase "…"`). */
  readonly name: string;
  /** The text given. */
  readonly raw: string;
  /** A secret's value: a message leaves the text out. */
  readonly secret?: boolean | undefined;
}

/** The message of a value `parse` refused: `NAME="value" is invalid: expected …`. */
function refused({ name, raw, secret = false }: GivenValue, issues: z.core.$ZodIssue[]): BadConfiguration {
  const shown = secret ? '' : /^[A-Z]/.test(name) ? `=${quoted(raw)}` : ` ${quoted(raw)}`;
  const message = (issues[0]?.message ?? 'is invalid').replaceAll('{name}', name);
  return new BadConfiguration(`${name}${shown} ${message}.`);
}

/** Parses `raw` with `parse`, or throws {@link refused}. */
export function parseAs<T>(given: GivenValue, parse: Parser<T>): T {
  const result = parse.safeParse(given.raw);
  if (!result.success) throw refused(given, result.error.issues);
  return result.data;
}

/** How {@link read} reads a setting. */
export interface ReadOptions<T> {
  /** Other settings' values, to fill the `{OTHER}` in the setting's default. */
  readonly values?: Readonly<Record<string, string>>;
  /** A parser in place of the setting's own (a range that depends on another setting). */
  readonly parse?: Parser<T>;
}

/**
 * A setting's value: the variable's text (trimmed), or its default, parsed. Undefined when it is unset and
 * has no default, unless it is required: then a {@link BadConfiguration} says what it is for and how to set it.
 */
export function read<T>(
  env: Env,
  s: Setting<T>,
  { values = {}, parse = s.parse }: ReadOptions<T> = {},
): T | undefined {
  const given = env[s.name]?.trim();
  if (given === '' && s.default && !s.emptyIsUnset) throw empty(s, values);
  const raw = given || defaultOf(s, values);
  if (raw === undefined) {
    if (s.required) throw missing(s);
    return undefined;
  }
  return parseAs({ name: s.name, raw, secret: s.secret }, parse);
}

/** {@link read} for a setting that always has a value (a default, or required). */
export function value<T>(env: Env, s: Setting<T>, values: Readonly<Record<string, string>> = {}): T {
  const result = read(env, s, { values });
  if (result === undefined) throw missing(s);
  return result;
}

/** The whole number {@link wholeNumber} reads: its range, its fallback, and how an error names it. */
export interface WholeNumberOptions {
  /** Names the setting in the error (`PAGE_SIZE=…`, `--limit …`). */
  readonly what: string;
  /** The number when the text is empty. */
  readonly fallback: number;
  readonly min: number;
  readonly max: number;
  /** Makes the error (BadConfiguration by default). */
  readonly fail?: (message: string) => Error;
}

/** A whole number from `min` to `max`, or `fallback` when `raw` is empty. */
export function wholeNumber(
  raw: string | undefined,
  { what, fallback, min, max, fail = (message) => new BadConfiguration(message) }: WholeNumberOptions,
): number {
  const trimmed = raw?.trim();
  if (!trimmed) return fallback;
  const result = whole(min, max).safeParse(trimmed);
  if (result.success) return result.data;
  const shown = `${what}${what.endsWith('=') ? '' : ' '}${JSON.stringify(trimmed)}`;
  throw fail(`${shown} ${result.error.issues[0]?.message}.`);
}

/** LAG_ALARM_HOURS: the lag, in hours, above which `citrix-monitor status` is unhealthy. */
export const lagAlarmHours = (env: Env): number => value(env, LAG_ALARM_HOURS);
