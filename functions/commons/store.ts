import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';

/** The result of a conditional write: written, or refused because the precondition did not hold. */
export type WriteOutcome = { written: true; etag: string } | { written: false };

/**
 * A small view of one S3 bucket: what the collector needs, with S3's conditional writes made explicit.
 * ETags go in and out without their quotes (S3 sends them quoted; Ceph RGW refuses a quoted `If-Match`).
 * test/contract/object-store.ts is the contract, run against an in-memory store and Ceph RGW.
 */
export interface ObjectStore {
  readonly bucket: string;
  /** The object's body and ETag, or null if there is no such key. */
  get(key: string): Promise<{ body: Buffer; etag: string } | null>;
  /** Unconditional write (staging only: staging keys may be rewritten by a retry). */
  put(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  /** Writes only if the key does not exist (`If-None-Match: *`), or only over `ifMatch` (`If-Match`). */
  putIf(
    key: string,
    body: Buffer | string,
    condition: { ifNoneMatch: '*' } | { ifMatch: string },
  ): Promise<WriteOutcome>;
  /**
   * Server-side copy of `from` (in `fromBucket`) to `to` with `If-None-Match: *` on the destination (AWS S3 enforces it
   * on CopyObject; some S3-compatible servers ignore it, which the commit step's lease makes harmless).
   * `source-missing` when `from` does not exist.
   */
  copyIfAbsent(
    fromBucket: string,
    from: string,
    to: string,
  ): Promise<'written' | 'exists' | 'source-missing'>;
  /**
   * Whether the key was ever written, even if it was deleted since (it has a version or a delete
   * marker). Null when the bucket is not versioned and so cannot tell.
   */
  everWritten(key: string): Promise<boolean | null>;
  list(prefix: string): Promise<string[]>;
  deleteAll(keys: readonly string[]): Promise<void>;
}

const unquoted = (etag: string | undefined) => (etag ?? '').replaceAll('"', '');

function preconditionFailed(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.$metadata.httpStatusCode === 412 || err.name === 'PreconditionFailed')
  );
}

function conflict(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.$metadata.httpStatusCode === 409 || err.name === 'ConditionalRequestConflict')
  );
}

/** Retries S3's 409 ConditionalRequestConflict, which AWS documents as "retry the upload". */
async function withConflictRetry<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (err) {
      if (!conflict(err) || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt * Math.random()));
    }
  }
}

/** An S3 client from the environment: `AWS_ENDPOINT_URL_S3` and `S3_FORCE_PATH_STYLE` for S3-compatible servers. */
export function s3ClientFromEnv(env: Record<string, string | undefined> = process.env): S3Client {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
  } = env;
  return new S3Client({
    ...(region ? { region } : {}),
    ...(env.AWS_ENDPOINT_URL_S3 ? { endpoint: env.AWS_ENDPOINT_URL_S3 } : {}),
    // Explicit keys only when the given environment has them; otherwise the SDK's default chain (the Lambda role).
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, sessionToken } }
      : {}),
    forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true',
  });
}

export function s3Store(client: S3Client, bucket: string): ObjectStore {
  let versioned: Promise<boolean> | null = null;
  return {
    bucket,
    async get(key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = await out.Body?.transformToByteArray();
        return { body: Buffer.from(bytes ?? []), etag: unquoted(out.ETag) };
      } catch (err) {
        if (
          err instanceof S3ServiceException &&
          (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)
        )
          return null;
        throw err;
      }
    },
    async put(key, body, contentType = 'application/x-ndjson') {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
      );
    },
    async putIf(key, body, condition) {
      try {
        const out = await withConflictRetry(() =>
          client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentType: key.endsWith('.json') ? 'application/json' : 'application/x-ndjson',
              ...('ifNoneMatch' in condition
                ? { IfNoneMatch: '*' }
                : { IfMatch: unquoted(condition.ifMatch) }),
            }),
          ),
        );
        return { written: true, etag: unquoted(out.ETag) };
      } catch (err) {
        if (preconditionFailed(err)) return { written: false };
        throw err;
      }
    },
    async copyIfAbsent(fromBucket, from, to) {
      try {
        await withConflictRetry(() =>
          client.send(
            new CopyObjectCommand({
              Bucket: bucket,
              Key: to,
              CopySource: `${fromBucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
              IfNoneMatch: '*',
            }),
          ),
        );
        return 'written';
      } catch (err) {
        if (preconditionFailed(err)) return 'exists';
        if (
          err instanceof S3ServiceException &&
          (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)
        )
          return 'source-missing';
        throw err;
      }
    },
    async everWritten(key) {
      versioned ??= client
        .send(new GetBucketVersioningCommand({ Bucket: bucket }))
        .then((out) => out.Status === 'Enabled' || out.Status === 'Suspended')
        .catch((err: unknown) => {
          // A server without versioning support cannot tell; a refused permission is a deployment error.
          if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 403) throw err;
          return false;
        });
      const supported = await versioned.catch((err: unknown) => {
        versioned = null; // ask again next time, once the permission is fixed
        throw err;
      });
      if (!supported) return null;
      const out = await client.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, MaxKeys: 10 }),
      );
      return [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].some((v) => v.Key === key);
    },
    async list(prefix) {
      const keys: string[] = [];
      for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix })) {
        for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      }
      return keys;
    },
    async deleteAll(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
        await client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }),
        );
      }
    },
  };
}
