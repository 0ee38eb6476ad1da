/**
 * The local S3 server keeps S3's read-after-write promise: once a PUT is answered, a GET returns the whole
 * object, and a GET during a PUT of the same key returns the old object or the new one, never a part.
 * s3rver alone does not (it answers before its write has finished), which made tests that read the state
 * file right after an execution fail now and then on a loaded machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type LocalS3, startLocalS3 } from '@citrix-monitor/testkit/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BUCKET = 'durable';
let dir: string;
let s3: LocalS3;
let client: S3Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'testkit-s3-'));
  s3 = await startLocalS3(join(dir, 's3'), BUCKET);
  client = new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const put = (key: string, body: Buffer) =>
  client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
const get = async (key: string) => {
  const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
};
/** A body of `size` bytes, all `fill`, so that a part of one is told from the whole of another. */
const body = (size: number, fill: number) => Buffer.alloc(size, fill);

describe('the local S3 server', () => {
  it('returns the old object or the new one to GETs made during PUTs of the same key, never a part', async () => {
    const size = 4 * 1024 * 1024;
    await put('record.json', body(size, 0));

    const seen = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const [read] = await Promise.all([get('record.json'), put('record.json', body(size, i + 1))]);
        return read;
      }),
    );

    for (const read of seen) {
      expect(read.length).toBe(size);
      expect(read.every((byte) => byte === read[0])).toBe(true);
    }
  });
});
