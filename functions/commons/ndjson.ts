import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/**
 * One page as NDJSON: each raw OData row object on its own line, unchanged, as the SecOps
 * `CITRIX_MONITOR` parser expects. Compression runs on libuv's thread pool, off the event loop.
 */
export async function encodePage(rows: readonly unknown[], compression: 'none' | 'gzip'): Promise<Buffer> {
  let text = '';
  for (const row of rows) text += `${JSON.stringify(row)}\n`;
  const raw = Buffer.from(text, 'utf8');
  return compression === 'gzip' ? gzipAsync(raw) : raw;
}
