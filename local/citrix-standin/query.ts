import { addTicks, compareInstants, type Instant, parseInstant } from './time.ts';

/** A query the stand-in rejects with 400 and an OData error naming the problem. */
export class QueryError extends Error {
  override name = 'QueryError';
}

/** Half-open interval `[lo, hi)` on one time field; null is unbounded. */
export interface Range {
  lo: Instant | null;
  hi: Instant | null;
}

/** What the query needs to know about an entity. */
export interface EntityShape {
  name: string;
  fields: readonly string[];
  timeFields: readonly string[];
}

/** The paging cursor behind `$skiptoken`: next row (hour start, index), rows delivered, pages served. */
export interface Cursor {
  h: number;
  i: number;
  n: number;
  p: number;
}

/** Parsed OData system query options. */
export interface QueryOptions {
  ranges: Map<string, Range>;
  top?: number;
  count: boolean;
  cursor?: Cursor;
  /** Raw `name=value` segments except `$skiptoken`, kept as the client encoded them, for nextLinks. */
  kept: string[];
}

const OPTIONS = new Set(['$filter', '$top', '$count', '$orderby', '$skiptoken']);
const OPS = new Set(['eq', 'ge', 'gt', 'le', 'lt']);

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    throw new QueryError(`The query string contains an invalid percent-encoding: '${text}'.`);
  }
}

/** Encodes a cursor as an opaque `$skiptoken`. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.h}.${c.i}.${c.n}.${c.p}`).toString('base64url');
}

function decodeCursor(token: string): Cursor {
  const parts = /^(-?\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
  if (!parts) throw new QueryError(`Invalid $skiptoken '${token}'.`);
  const [h, i, n, p] = parts.slice(1).map(Number);
  return { h: h ?? 0, i: i ?? 0, n: n ?? 0, p: p ?? 0 };
}

/** Parses a raw (still percent-encoded) query string against an entity. Throws QueryError. */
export function parseQuery(raw: string, entity: EntityShape): QueryOptions {
  const out: QueryOptions = { ranges: new Map(), count: false, kept: [] };
  const seen = new Set<string>();
  for (const segment of raw.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    const name = decode(eq < 0 ? segment : segment.slice(0, eq));
    const value = eq < 0 ? '' : decode(segment.slice(eq + 1));
    if (name !== '$skiptoken') out.kept.push(segment);
    if (!name.startsWith('$')) continue;
    if (!OPTIONS.has(name))
      throw new QueryError(`The query option '${name}' is not supported by the stand-in.`);
    if (seen.has(name)) throw new QueryError(`Query option '${name}' was specified more than once.`);
    seen.add(name);
    if (name === '$filter') out.ranges = parseFilter(value, entity);
    else if (name === '$skiptoken') out.cursor = decodeCursor(value);
    else if (name === '$orderby') checkOrderBy(value, entity);
    else if (name === '$top' && /^\d{1,15}$/.test(value)) out.top = Number(value);
    else if (name === '$count' && (value === 'true' || value === 'false')) out.count = value === 'true';
    else throw new QueryError(`Invalid value '${value}' for ${name}.`);
  }
  return out;
}

function property(name: string, entity: EntityShape): string {
  if (!entity.fields.includes(name)) {
    throw new QueryError(`Could not find a property named '${name}' on type '${entity.name}'.`);
  }
  return name;
}

// The stand-in always serves ModifiedDate ascending (ties by key), so only orderings it honours pass.
function checkOrderBy(value: string, entity: EntityShape): void {
  value.split(',').forEach((item, k) => {
    const m = /^\s*(\w+)(?:\s+(asc|desc))?\s*$/.exec(item);
    if (!m?.[1]) throw new QueryError(`Syntax error in $orderby '${value}'.`);
    property(m[1], entity);
    if (m[2] === 'desc' || (k === 0 && m[1] !== 'ModifiedDate')) {
      throw new QueryError(`The stand-in only serves $orderby=ModifiedDate asc, not '${value}'.`);
    }
  });
}

/**
 * Parses a `$filter` that is a conjunction (`and`, optional parentheses) of `Field op literal` on time
 * fields, with unquoted DateTimeOffset literals, into one half-open range per field.
 */
export function parseFilter(text: string, entity: EntityShape): Map<string, Range> {
  const tokens = text.match(/'[^']*'?|[()]|[^\s()]+/g) ?? [];
  const ranges = new Map<string, Range>();
  let pos = 0;
  const fail = (why: string): never => {
    throw new QueryError(`The query specified in the URI is not valid. ${why} in $filter '${text}'.`);
  };
  const next = (): string => tokens[pos++] ?? fail('Unexpected end of expression');
  const comparison = (): void => {
    const field = next();
    if (field === '(') {
      conjunction();
      if (next() !== ')') fail("')' expected");
      return;
    }
    if (field === 'not') fail("Only conjunctions with 'and' are supported; found 'not'");
    if (!/^\w+$/.test(field)) fail(`A property name was expected, found '${field}'`);
    property(field, entity);
    if (!entity.timeFields.includes(field)) {
      fail(`'${field}' is not a time field of ${entity.name} (filterable: ${entity.timeFields.join(', ')})`);
    }
    const op = next();
    if (!OPS.has(op)) fail(`Unsupported operator '${op}'`);
    const literal = next();
    if (literal.startsWith("'") || /^datetime(offset)?'/i.test(literal)) {
      fail(
        `The quoted literal ${literal} cannot be compared with DateTimeOffset '${field}' (write it unquoted)`,
      );
    }
    const at = parseInstant(literal) ?? fail(`'${literal}' is not a valid DateTimeOffset literal`);
    const r = ranges.get(field) ?? { lo: null, hi: null };
    const raise = (lo: Instant): void => {
      if (!r.lo || compareInstants(lo, r.lo) > 0) r.lo = lo;
    };
    const lower = (hi: Instant): void => {
      if (!r.hi || compareInstants(hi, r.hi) < 0) r.hi = hi;
    };
    if (op === 'ge' || op === 'eq') raise(at);
    if (op === 'gt') raise(addTicks(at, 1));
    if (op === 'lt') lower(at);
    if (op === 'le' || op === 'eq') lower(addTicks(at, 1));
    ranges.set(field, r);
  };
  const conjunction = (): void => {
    comparison();
    while (tokens[pos] === 'and') {
      pos++;
      comparison();
    }
    if (tokens[pos] === 'or') fail("Only conjunctions with 'and' are supported; found 'or'");
  };
  if (tokens.length === 0) fail('Empty expression');
  conjunction();
  if (pos < tokens.length) fail(`Unexpected '${tokens[pos]}'`);
  return ranges;
}
