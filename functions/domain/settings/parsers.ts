import { z } from 'zod';
import { closestEntity } from './entities.ts';

/**
 * The parsers of the settings' text: numbers, flags, buckets, key prefixes, API bases, lists of names.
 */

/**
 * A parser of a setting's text (trimmed, never empty). An issue's message is what follows the setting in
 * the error: `is invalid: expected …`; `{name}` in it stands for the setting (`API_BASE`, or a listed
 * tenant's `apiBase`).
 */
export type Parser<T> = z.ZodType<T, string>;

export const text: Parser<string> = z.string();

/** A whole number from `min` to `max`; `why` follows the range in the message (what the bounds protect). */
export const whole = (min: number, max: number, why = ''): Parser<number> =>
  z
    .string()
    .refine(
      (s) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max,
      `is invalid: expected a whole number from ${min} to ${max}${why}`,
    )
    .transform(Number);

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(
      z.enum(values, { error: `is invalid: expected ${values.map((v) => JSON.stringify(v)).join(' or ')}` }),
    );

/** The S3 naming rules of general purpose buckets (S3 User Guide, "General purpose bucket naming rules"). */
export function isBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !/^(xn--|sthree-|amzn-s3-demo-)/.test(name) &&
    !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)
  );
}

export const bucket: Parser<string> = z
  .string()
  .refine(
    isBucketName,
    'is not an S3 bucket name: expected 3 to 63 lower-case letters, digits, dots and hyphens, beginning and ending with a letter or digit, e.g. "citrix-monitor-logs" (S3 bucket naming rules)',
  );

export const keyPrefix: Parser<string> = z
  .string()
  .transform((s) => s.replace(/^\/+|\/+$/g, ''))
  .refine(
    (s) => s !== '' && !s.includes('//') && !/[\\{}^%`"<>#|]/.test(s),
    'is invalid: expected an S3 key prefix such as "citrix_monitor"',
  );

export const objectKey: Parser<string> = z
  .string()
  .transform((s) => s.replace(/^\/+/, ''))
  .refine(
    (s) => s !== '',
    'is invalid: expected an S3 key such as "collector-work/citrix_monitor/state.json"',
  );

const HOST_ONLY = '{name} must be the host only, e.g. https://api.cloud.com (the collector adds the paths)';

/** An API base: an http(s) origin, normalised (`https://api.cloud.com`, lower-case host, no trailing slash). */
export const apiBaseParser: Parser<string> = z.string().transform((raw, ctx) => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('is not a URL: expected e.g. https://api.cloud.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return fail('is invalid: expected an http(s) base URL, e.g. https://api.cloud.com');
  if (url.username || url.password)
    return fail(
      `holds a user name or password: ${HOST_ONLY}; the client's credentials are the client ID and secret`,
    );
  if (url.search || url.hash)
    return fail('is invalid: expected an http(s) base URL with no query, e.g. https://api.cloud.com');
  const path = url.pathname.replace(/\/+$/, '');
  if (path) return fail(`has a path (${path}): ${HOST_ONLY}`);
  return url.origin;
});

const ENTITY_NAME = /^[A-Z][A-Za-z0-9]*$/;

/** A comma-separated list of names, each once. */
export const nameList = (what: string): Parser<string[]> =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
    )
    .refine((list) => new Set(list).size === list.length, `lists ${what} twice`);

export const entityList: Parser<string[]> = nameList('an entity').superRefine((list, ctx) => {
  const bad = list.filter((e) => !ENTITY_NAME.test(e) && !closestEntity(e));
  if (list.length === 0 || bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `is invalid: expected a comma-separated list of Monitor entity names such as "Machines,Sessions"${bad.length ? ` (not an entity name: ${bad.join(', ')})` : ''}`,
    });
  }
});

export const flag: Parser<boolean> = oneOf(['true', 'false'] as const).transform((s) => s === 'true');
