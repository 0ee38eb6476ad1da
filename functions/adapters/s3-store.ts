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
import type { ObjectStore } from '../domain/ports.ts';

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
