import { type Filter, type OrderItem, parseFilter, parseOrderBy, QueryError, type Schema } from './filter.ts';

export { QueryError } from './filter.ts';

/** Parsed OData system query options of one request. */
export interface QueryOptions {
  filter: Filter | null;
  /** The total order: `$orderby` with the key appended (key order when absent). */
  orderby: OrderItem[];
  top?: number;
  skip: number;
  count: boolean;
  /** Every `name=value` of the query string, decoded, in request order: the nextLink is built from them. */
  params: [string, string][];
}

const OPTIONS = new Set(['$filter', '$top', '$skip', '$count', '$orderby']);
/** Web API OData parses `$top` and `$skip` as Int32. */
const INT32_MAX = 2 ** 31 - 1;

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    throw new QueryError(`The query string contains an invalid percent-encoding: '${text}'.`);
  }
}

function count(name: string, value: string): number {
  const n = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n <= INT32_MAX)) {
    throw new QueryError(
      `Invalid value '${value}' for ${name} query option found. It must be a non-negative Int32.`,
    );
  }
  return n;
}

/** Parses a raw (still percent-encoded) query string against an entity. Throws QueryError. */
export function parseQuery(raw: string, schema: Schema): QueryOptions {
  const params: [string, string][] = [];
  const seen = new Set<string>();
  let filter: string | undefined;
  let orderby: string | undefined;
  const out: Omit<QueryOptions, 'filter' | 'orderby'> = { skip: 0, count: false, params };
  for (const segment of raw.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    const name = decode(eq < 0 ? segment : segment.slice(0, eq));
    const value = eq < 0 ? '' : decode(segment.slice(eq + 1));
    params.push([name, value]);
    if (!name.startsWith('$')) continue;
    if (name === '$skiptoken') {
      throw new QueryError(
        "Query option 'SkipToken' is not allowed. This server pages with $skip: follow @odata.nextLink or send $skip.",
      );
    }
    if (!OPTIONS.has(name))
      throw new QueryError(`The query option '${name}' is not supported by the stand-in.`);
    if (seen.has(name)) throw new QueryError(`Query option '${name}' was specified more than once.`);
    seen.add(name);
    if (name === '$filter') filter = value;
    else if (name === '$orderby') orderby = value;
    else if (name === '$top') out.top = count(name, value);
    else if (name === '$skip') out.skip = count(name, value);
    else if (value === 'true' || value === 'false') out.count = value === 'true';
    else throw new QueryError(`Invalid value '${value}' for $count: true or false expected.`);
  }
  return {
    ...out,
    filter: filter === undefined ? null : parseFilter(filter, schema),
    orderby: parseOrderBy(orderby, schema),
  };
}

/** .NET's Uri.EscapeDataString: everything but RFC 3986's unreserved characters is escaped. */
function escapeData(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The query of the next page as Web API OData's GetNextPageHelper writes it: every parameter re-escaped in
 * request order, `$top` decreased by the page size, `$skip` and `$skiptoken` dropped, and
 * `$skip=<previous skip + page size>` appended last.
 */
export function nextPageQuery(q: QueryOptions, pageSize: number): string {
  const parts: string[] = [];
  for (const [name, value] of q.params) {
    const lower = name.toLowerCase();
    if (lower === '$skip' || lower === '$skiptoken') continue;
    const v = lower === '$top' && q.top !== undefined ? String(q.top - pageSize) : value;
    const key = name.startsWith('$') ? `$${escapeData(name.slice(1))}` : escapeData(name);
    parts.push(`${key}=${escapeData(v)}`);
  }
  parts.push(`$skip=${q.skip + pageSize}`);
  return parts.join('&');
}
