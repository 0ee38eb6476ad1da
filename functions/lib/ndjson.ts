import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/**
 * Rows as NDJSON: each raw OData row object on its own line, unchanged, as the SecOps `CITRIX_MONITOR`
 * parser expects.
 */
export function ndjsonLines(rows: readonly unknown[]): Buffer {
  let text = '';
  for (const row of rows) text += `${JSON.stringify(row)}\n`;
  return Buffer.from(text, 'utf8');
}

/** Compresses NDJSON for an object, on libuv's thread pool, off the event loop. */
export async function compress(raw: Buffer, compression: 'none' | 'gzip'): Promise<Buffer> {
  return compression === 'gzip' ? gzipAsync(raw) : raw;
}
