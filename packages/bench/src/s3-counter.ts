/**
 * A counting HTTP proxy on 127.0.0.1 in front of an S3 server (s3rver): every request the collector sends
 * reaches the server through it and is counted by the kind S3 bills it as. Bodies are streamed through
 * untouched and the Host header is kept, so SigV4 signatures still verify.
 */
import { Agent, createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { z } from 'zod';

/** Requests by kind. AWS bills PUT, COPY, POST and LIST requests in one tier, GET and all others in another. */
export const s3Requests = z.object({
  put: z.number(),
  copy: z.number(),
  /** POST other than a multi-object delete. */
  post: z.number(),
  /** ListObjects(V2), ListObjectVersions, ListMultipartUploads: GET on the bucket itself. */
  list: z.number(),
  /** DeleteObjects (POST ?delete). */
  deleteObjects: z.number(),
  get: z.number(),
  head: z.number(),
  /** DELETE of one object (free on AWS). */
  delete: z.number(),
  other: z.number(),
});
export type S3Requests = z.infer<typeof s3Requests>;

export const noRequests = (): S3Requests => ({
  put: 0,
  copy: 0,
  post: 0,
  list: 0,
  deleteObjects: 0,
  get: 0,
  head: 0,
  delete: 0,
  other: 0,
});

/** Every kind of request, in the order of `S3Requests`. */
export const REQUEST_KINDS: readonly (keyof S3Requests)[] = s3Requests.keyof().options;

/** The kind of one path-style request (`/bucket` or `/bucket/key`). */
export function classify(method: string, url: string, headers: IncomingHttpHeaders): keyof S3Requests {
  const parsed = new URL(url, 'http://s3.invalid');
  const query = parsed.searchParams;
  const onBucket = parsed.pathname.replace(/^\/+|\/+$/g, '').split('/').length === 1;
  switch (method) {
    case 'PUT':
      return headers['x-amz-copy-source'] ? 'copy' : 'put';
    case 'POST':
      return query.has('delete') ? 'deleteObjects' : 'post';
    case 'GET':
      if (query.has('list-type') || query.has('versions') || query.has('uploads')) return 'list';
      // ListObjects v1 is a GET on the bucket with no sub-resource; ?versioning, ?location… are "other".
      if (onBucket) return [...query.keys()].every((k) => LIST_PARAMS.has(k)) ? 'list' : 'other';
      return 'get';
    case 'HEAD':
      return 'head';
    case 'DELETE':
      return 'delete';
    default:
      return 'other';
  }
}

const LIST_PARAMS = new Set(['prefix', 'delimiter', 'marker', 'max-keys', 'encoding-type']);

export interface S3Counter {
  /** The endpoint to give the collector (AWS_ENDPOINT_URL_S3). */
  readonly endpoint: string;
  /** Every request, by kind. */
  readonly counts: S3Requests;
  /**
   * Of those, the ones the server answered with 5xx (the SDK retries them). s3rver fails a DeleteObjects
   * of two or more keys of one folder at the first attempt (it removes the emptied folder twice: ENOENT).
   */
  readonly serverErrors: S3Requests;
  reset(): void;
  stop(): Promise<void>;
}

/** The counts a proxy keeps, replaced by `reset()`. */
interface Tally {
  counts: S3Requests;
  serverErrors: S3Requests;
}

/** A server that passes each request on to `upstream`, counting it by kind in `tally` (and its 5xx answers). */
function countingProxy(upstream: URL, agent: Agent, tally: Tally): Server {
  return createServer((req, res) => {
    const method = req.method ?? 'GET';
    const kind = classify(method, req.url ?? '/', req.headers);
    tally.counts[kind] += 1;
    // `expect` is never signed (SigV4 leaves it out): the proxy answers 100-continue itself.
    const { expect: _, ...headers } = req.headers;
    const out = request(
      {
        agent,
        host: upstream.hostname,
        port: upstream.port,
        method,
        path: req.url,
        headers,
      },
      (back) => {
        if ((back.statusCode ?? 0) >= 500) tally.serverErrors[kind] += 1;
        res.writeHead(back.statusCode ?? 502, back.headers);
        back.pipe(res);
      },
    );
    out.on('error', (err) => {
      if (res.headersSent) res.destroy(err);
      else res.writeHead(502).end(String(err));
    });
    req.pipe(out);
  });
}

/** Listens on a free port of 127.0.0.1, and returns it. */
async function listenLocally(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('the S3 counter is not listening on a port');
  return address.port;
}

export async function startS3Counter(target: string): Promise<S3Counter> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const tally: Tally = { counts: noRequests(), serverErrors: noRequests() };
  const server = countingProxy(upstream, agent, tally);
  const port = await listenLocally(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get counts() {
      return tally.counts;
    },
    get serverErrors() {
      return tally.serverErrors;
    },
    reset() {
      tally.counts = noRequests();
      tally.serverErrors = noRequests();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
