/**
 * The baseline: one token, then a serial loop of plain `fetch` over the entity-hour's first page and its
 * `@odata.nextLink`s, with the headers the collector sends; each body read as text and parsed, rows
 * counted, nothing written. The fastest a client can page through the hour one call at a time.
 *
 * Started by bench.ts with BENCH_HOUR (e.g. 2026-11-24T10:00:00Z), BENCH_ENTITY and the API_BASE/CITRIX_* of
 * the stand-in. Prints one JSON line (see result.ts).
 */
import { fail, finish, need } from './result.ts';

const apiBase = need('API_BASE');
const customerId = need('CITRIX_CUSTOMER_ID');
const entity = need('BENCH_ENTITY');
const from = new Date(need('BENCH_HOUR'));
const to = new Date(from.getTime() + 3_600_000);
const instant = (d: Date) => d.toISOString().replace('.000Z', 'Z');

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
  const { access_token: token } = (await tokenRes.json()) as { access_token: string };
  const headers = {
    Authorization: `CWSAuth bearer=${token}`,
    'Citrix-CustomerId': customerId,
    Accept: 'application/json',
    'Accept-Encoding': 'gzip',
    Prefer: 'odata.maxpagesize=1000',
  };
  // The collector's first page: the half-open hour on ModifiedDate, oldest first, fully percent-encoded.
  const filter = `ModifiedDate ge ${instant(from)} and ModifiedDate lt ${instant(to)}`;
  const query = new URLSearchParams({ $filter: filter, $orderby: 'ModifiedDate asc' });
  let url: string | null = `${apiBase}/monitorodata/${entity}?${query.toString().replaceAll('+', '%20')}`;
  let rows = 0;
  let pages = 0;
  while (url) {
    const res = await fetch(url, { headers });
    const text = await res.text();
    if (res.status !== 200)
      throw new Error(`page ${pages} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as { value: unknown[]; '@odata.nextLink'?: string };
    rows += body.value.length;
    pages += 1;
    const link = body['@odata.nextLink'];
    url = link ? new URL(link, url).href : null;
  }
  finish({ rows, pages, seconds: (performance.now() - started) / 1000 });
}

main().catch(fail);
