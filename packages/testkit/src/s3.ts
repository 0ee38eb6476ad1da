import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import S3rver from 's3rver';

/** s3rver's fixed, documented local credentials (not a secret: s3rver accepts only these). */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } as const;

export interface LocalS3 {
  /** Environment for the collector and the SDK: endpoint, path style, region and s3rver's credentials. */
  readonly env: Record<string, string>;
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * An embedded S3 server (s3rver) on 127.0.0.1, with its data under `directory`, on `port` (0: any free
 * port). It ignores conditional writes, so it serves the local run and most tests; the exactly-once
 * tests use Ceph RGW.
 */
export async function startLocalS3(directory: string, bucket: string, port = 0): Promise<LocalS3> {
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const writing = `${directory}.writing`;
  server.store.putObject = durablePut(server.store, writing);
  const listening = await server.run();
  const endpoint = `http://127.0.0.1:${listening.port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'us-east-1',
      ...S3RVER_CREDENTIALS,
    },
    stop: async () => {
      await server.close();
      rmSync(writing, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver's PUT as S3 does it: the object is whole on disk before the response, and a GET sees the old
 * object or the new one, never a part. s3rver's own putObject answers before its write stream has
 * finished, and writes over the object in place: a GET right after the response, or during a PUT of the
 * same key, read an empty or half-written state file (`Unexpected end of JSON input`, 2 runs in 20 of
 * test/integration/windows.test.ts on a loaded machine). Here the body is written to a file of its own,
 * beside the bucket's folder (a listing, which walks that folder, never meets it), its metadata next, then
 * the file renamed onto the object (rename is atomic).
 */
function durablePut(store: S3rver['store'], writing: string): S3rver['store']['putObject'] {
  mkdirSync(writing, { recursive: true });
  return async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    const body = Buffer.isBuffer(object.content) ? object.content : await buffer(object.content);
    const md5 = createHash('md5').update(body).digest('hex');
    const written = join(writing, randomUUID());
    await mkdir(dirname(path), { recursive: true });
    await writeFile(written, body);
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    await rename(written, path);
    return { size: body.length, md5 };
  };
}
