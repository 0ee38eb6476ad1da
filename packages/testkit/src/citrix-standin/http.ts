import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

/** The HTTP side of the stand-in: how it writes answers and reads requests, as the Citrix server does. */

const JSON_TYPE = 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8';
const gzipAsync = promisify(gzip);

/** Logs to stderr with STANDIN_VERBOSE=1. */
export const log =
  process.env.STANDIN_VERBOSE === '1'
    ? (...a: unknown[]) => console.error('[standin]', ...a)
    : () => undefined;

export const odataError = (code: string, message: string): string =>
  JSON.stringify({ error: { code, message } });
export const oauthError = (error: string, description: string): string =>
  JSON.stringify({ error, error_description: description });

/** Answers the request (gzipped when it accepts gzip). */
export type Reply = (status: number, body: string, headers?: Record<string, string>) => Promise<void>;

/** A request and the response that answers it. */
export interface Connection {
  req: IncomingMessage;
  res: ServerResponse;
}

/** An answer decided before it is written. */
export interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

function acceptsGzip(req: IncomingMessage): boolean {
  return String(req.headers['accept-encoding'] ?? '')
    .split(',')
    .some((item) => {
      const [coding = '', ...params] = item.split(';').map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return (coding === 'gzip' || coding === '*') && (q === undefined || Number(q.slice(2)) > 0);
    });
}

/** Writes an OData answer, gzipped when the request accepts gzip. */
export async function send({ req, res }: Connection, { status, body, headers = {} }: Answer): Promise<void> {
  const zip = acceptsGzip(req);
  const bytes = zip ? await gzipAsync(body, { level: 1 }) : Buffer.from(body);
  res.writeHead(status, {
    'Content-Type': JSON_TYPE,
    'OData-Version': '4.0',
    Vary: 'Accept-Encoding',
    ...(zip ? { 'Content-Encoding': 'gzip' } : {}),
    ...headers,
    'Content-Length': String(bytes.length),
  });
  res.end(bytes);
}

/** The request's body as text (at most 64 KiB). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 65_536) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

/** The page size a `Prefer: odata.maxpagesize=N` header asks for. */
export function preferredPageSize(req: IncomingMessage): number | undefined {
  const m = /(?:^|[,;\s])(?:odata\.)?maxpagesize\s*=\s*"?(\d+)/i.exec(String(req.headers.prefer ?? ''));
  const n = Number(m?.[1]);
  return n > 0 ? n : undefined;
}
