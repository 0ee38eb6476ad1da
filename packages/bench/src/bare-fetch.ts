/**
 * The baseline: one token, then a serial loop of plain `fetch` over the entity-hour paged by key (the
 * window, `$orderby=<key> asc`, `$top`, and after the first page `and <key> gt <last key>`), with the
 * headers the collector sends; each body read as text and parsed, rows counted, nothing written. The
 * fastest a client can page through the hour one call at a time. Written apart from the collector's
 * client on purpose: it is the yardstick, not a second copy.
 *
 * Started by bench.ts with BENCH_HOUR (e.g. 2026-11-24T10:00:00Z), BENCH_ENTITY, BENCH_KEY (the key field,
 * a Guid or an integer), PAGE_SIZE and the API_BASE/CITRIX_* of the stand-in. Prints one JSON line (see
 * result.ts).
 */
import { z } from 'zod';
import { fail, finish, need } from './result.ts';

const apiBase = need('API_BASE');
const customerId = need('CITRIX_CUSTOMER_ID');
const entity = need('BENCH_ENTITY');
const key = need('BENCH_KEY');
const pageSize = Number(need('PAGE_SIZE'));
const from = new Date(need('BENCH_HOUR'));
const to = new Date(from.getTime() + 3_600_000);
const instant = (d: Date) => d.toISOString().replace('.000Z', 'Z');
const tokenSchema = z.object({ access_token: z.string() });

/**
 * An OData page's rows, its last row's key and whether it links a next page. Only the envelope and the last
 * row are checked: the yardstick parses each page, it does not walk the rows a second time.
 */
function readPage(text: string): { rows: number; last: string | number | undefined; nextLink: boolean } {
  const body: unknown = JSON.parse(text);
  if (typeof body !== 'object' || body === null || !('value' in body) || !Array.isArray(body.value)) {
    throw new Error(`a page without a value array: ${text.slice(0, 200)}`);
  }
  const lastRow: unknown = body.value.at(-1);
  const last =
    typeof lastRow === 'object' && lastRow !== null
      ? Object.entries(lastRow).find(([k]) => k === key)?.[1]
      : undefined;
  return {
    rows: body.value.length,
    last: typeof last === 'string' || typeof last === 'number' ? last : undefined,
    nextLink: '@odata.nextLink' in body && body['@odata.nextLink'] !== undefined,
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const tokenRes = await fetch(`${apiBase}/cctrustoauth2/${customerId}/tokens/clients`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: need('CITRIX_CLIENT_ID'),
      client_secret: need('CITRIX_CLIENT_SECRET'),
    }),
  });
  if (!tokenRes.ok) throw new Error(`token request answered HTTP ${tokenRes.status}`);
  const { access_token: token } = tokenSchema.parse(await tokenRes.json());
  const headers = {
    Authorization: `CWSAuth bearer=${token}`,
    'Citrix-CustomerId': customerId,
    Accept: 'application/json',
    'Accept-Encoding': 'gzip',
    Prefer: `odata.maxpagesize=${pageSize}`,
  };
  // The half-open hour on ModifiedDate; the last key goes back as the server wrote it (Guid or integer).
  const window = `ModifiedDate ge ${instant(from)} and ModifiedDate lt ${instant(to)}`;
  const urlAfter = (last: string | number | null) => {
    const filter = last === null ? window : `${window} and ${key} gt ${last}`;
    const query = new URLSearchParams({ $filter: filter, $orderby: `${key} asc`, $top: String(pageSize) });
    return `${apiBase}/monitorodata/${entity}?${query.toString().replaceAll('+', '%20')}`;
  };
  let url: string | null = urlAfter(null);
  let rows = 0;
  let pages = 0;
  while (url) {
    const res: Response = await fetch(url, { headers });
    const text = await res.text();
    if (res.status !== 200)
      throw new Error(`page ${pages} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    const page = readPage(text);
    rows += page.rows;
    pages += 1;
    const { last } = page;
    const more = page.nextLink || page.rows >= pageSize;
    url = more && last !== undefined ? urlAfter(last) : null;
  }
  finish({ rows, pages, seconds: (performance.now() - started) / 1000 });
}

main().catch(fail);
