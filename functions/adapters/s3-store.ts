import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { BadConfiguration, CollectorError, StorageTransient } from '../domain/errors.ts';
import type { ObjectStore } from '../domain/ports.ts';

const unquoted = (etag: string | undefined) => (etag ?? '').replaceAll('"', '');

/** S3's answers that a later retry may cure: the SDK's own retries have already been spent on them. */
const TRANSIENT_S3 = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);
/** Network failures of a request (Node's codes, and the SDK's request timeout). */
const TRANSIENT_NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'TimeoutError',
  'RequestTimeout',
]);
/** Refusals of the credentials themselves: the keys are unknown, wrong or expired. */
const BAD_CREDENTIALS = new Set([
  'CredentialsProviderError',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
]);

/** Where the store's requests go, as an operator would set it: `AWS_ENDPOINT_URL_S3`, or AWS S3 in a region. */
async function describeEndpoint(client: S3Client): Promise<string> {
  if (client.config.isCustomEndpoint && client.config.endpoint) {
    const { protocol, hostname, port, path } = await client.config.endpoint();
    return `${protocol}//${hostname}${port ? `:${port}` : ''}${path === '/' ? '' : path}`;
  }
  const region = await client.config.region().catch(() => null);
  return region ? `AWS S3 in ${region}` : 'AWS S3';
}

/** Node's network errors carry a `code` (ECONNRESET); the SDK's own carry their name. */
const codeOf = (err: Error): string => ('code' in err && typeof err.code === 'string' ? err.code : err.name);

/** The HTTP status of an AWS answer (`$metadata.httpStatusCode`), if the error came with one. */
function httpStatusOf(err: Error): number | undefined {
  const metadata: unknown = '$metadata' in err ? err.$metadata : undefined;
  if (typeof metadata !== 'object' || metadata === null || !('httpStatusCode' in metadata)) return undefined;
  return typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/**
 * Whether an AWS SDK failure is one a later attempt may cure (throttling, a 5xx, a reset, a timeout): the
 * SDK has already retried it. Shared by the S3 store and the Secrets Manager read of the client secret.
 */
export function isTransientAwsFailure(err: Error): boolean {
  const name = codeOf(err);
  const status = httpStatusOf(err);
  return TRANSIENT_S3.has(name) || TRANSIENT_NETWORK.has(name) || (status !== undefined && status >= 500);
}

/**
 * An S3 failure in the collector's vocabulary, naming the bucket, the endpoint and what to do:
 * StorageTransient for what a later retry may cure (503 SlowDown, 500 InternalError, a reset, a timeout, a
 * refused connection: the SDK has already retried them), BadConfiguration for a missing bucket, refused access,
 * missing or refused credentials and a missing region. The collector's own errors, and anything else (a bug),
 * go through unchanged. `action` says what was being done, e.g. `PUT runs/x.json`.
 */
export function s3Failure(
  err: unknown,
  {
    bucket,
    endpoint,
    action,
  }: { readonly bucket: string; readonly endpoint: string; readonly action: string },
): unknown {
  if (!(err instanceof Error) || err instanceof CollectorError) return err;
  const where = `${action} in bucket ${bucket} at ${endpoint}`;
  const cause = { cause: err };
  const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
  const name = codeOf(err);
  if (name === 'NoSuchBucket')
    return new BadConfiguration(
      `The bucket ${bucket} does not exist at ${endpoint}: create it, or set S3_BUCKET (WORK_BUCKET for the work bucket) to a bucket that does.`,
      cause,
    );
  // Before the 403s: refused keys come as 403 too.
  if (BAD_CREDENTIALS.has(name))
    return new BadConfiguration(
      `${where}: the AWS credentials are missing or refused (${name}: ${err.message}). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or run with a role that has them.`,
      cause,
    );
  if (name === 'AccessDenied' || name === 'AllAccessDisabled' || status === 403)
    return new BadConfiguration(
      `${where}: access denied (${name}). Give the function's role (or the AWS credentials in use) the S3 permissions on ${bucket} that serverless.yml grants the collector's functions: at least s3:GetObject, s3:PutObject and s3:ListBucket.`,
      cause,
    );
  if (/Region is missing/i.test(err.message))
    return new BadConfiguration(
      `${where}: no AWS region is set. Set AWS_REGION to the bucket's region.`,
      cause,
    );
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301)
    return new BadConfiguration(
      `${where}: the bucket is in another region (${name}). Set AWS_REGION to the bucket's region.`,
      cause,
    );
  if (isTransientAwsFailure(err))
    return new StorageTransient(
      `${where} failed after the AWS SDK's own retries (${name}${status ? `, HTTP ${status}` : ''}: ${err.message}): S3 or the network is failing for now, and a later attempt may succeed.`,
      cause,
    );
  return err;
}

function preconditionFailed(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.$metadata.httpStatusCode === 412 || err.name === 'PreconditionFailed')
  );
}

/** 404 for the key (not for the bucket, which is a configuration error). */
function noSuchKey(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    err.name !== 'NoSuchBucket' &&
    (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)
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

/** What an S3 client needs beyond the SDK's defaults: an S3-compatible server, its keys, its addressing. */
export interface S3Options {
  /** Unset: the SDK's own (AWS_REGION in a Lambda). */
  readonly region?: string;
  /** AWS_ENDPOINT_URL_S3: an S3-compatible server; unset, AWS S3. */
  readonly endpoint?: string;
  /** Unset: the SDK's default chain (the Lambda role). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** S3_FORCE_PATH_STYLE. */
  readonly forcePathStyle: boolean;
}

/** An S3 client for `options`. */
export function s3Client(options: S3Options): S3Client {
  return new S3Client({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    forcePathStyle: options.forcePathStyle,
  });
}

/**
 * One bucket through `client`. A failure that the collector's steps can act on comes out in their vocabulary
 * ({@link s3Failure}): StorageTransient is retried by the state machine, BadConfiguration is not.
 */
export function s3Store(client: S3Client, bucket: string): ObjectStore {
  const store = plainStore(client, bucket);
  const guard =
    <A extends unknown[], R>(method: (...args: A) => Promise<R>, action: (...args: A) => string) =>
    async (...args: A): Promise<R> => {
      try {
        return await method(...args);
      } catch (err) {
        throw s3Failure(err, { bucket, endpoint: await describeEndpoint(client), action: action(...args) });
      }
    };
  return {
    bucket,
    get: guard(store.get, (key) => `GET ${key}`),
    put: guard(store.put, (key) => `PUT ${key}`),
    putIf: guard(store.putIf, (key) => `PUT ${key}`),
    copyIfAbsent: guard(store.copyIfAbsent, (fromBucket, from, to) => `COPY ${fromBucket}/${from} to ${to}`),
    everWritten: guard(store.everWritten, (key) => `LIST versions of ${key}`),
    list: guard(store.list, (prefix) => `LIST ${prefix}`),
    deleteAll: guard(store.deleteAll, (keys) => `DELETE ${keys.length} keys`),
    deleteEach: guard(store.deleteEach, (keys) => `DELETE ${keys.length} keys one by one`),
  };
}

/** The bucket the S3 calls below address, and the client they go through. */
interface Bucket {
  readonly client: S3Client;
  readonly bucket: string;
}

/** The S3 calls themselves, their failures as the SDK throws them. */
function plainStore(client: S3Client, bucket: string): ObjectStore {
  const at: Bucket = { client, bucket };
  return {
    bucket,
    get: (key) => getObject(at, key),
    put: (key, body, contentType) => putObject(at, { key, body }, contentType),
    putIf: (key, body, condition) => putObjectIf(at, { key, body }, condition),
    copyIfAbsent: (fromBucket, from, to) => copyObjectIfAbsent(at, { fromBucket, from, to }),
    everWritten: versionHistory(at),
    list: (prefix) => listKeys(at, prefix),
    deleteAll: (keys) => deleteKeys(at, keys),
    deleteEach: (keys) => deleteEachKey(at, keys),
  };
}

// Reads.

async function getObject({ client, bucket }: Bucket, key: string): ReturnType<ObjectStore['get']> {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await out.Body?.transformToByteArray();
    return { body: Buffer.from(bytes ?? []), etag: unquoted(out.ETag) };
  } catch (err) {
    if (noSuchKey(err)) return null;
    throw err;
  }
}

async function listKeys({ client, bucket }: Bucket, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
  }
  return keys;
}

// Writes: the unconditional one (staging only), and the conditional ones (If-None-Match, If-Match).

/** An object to write: its key and its body. */
interface ObjectWrite {
  readonly key: string;
  readonly body: Buffer | string;
}

/** A copy of another bucket's object to a key of this bucket. */
interface ObjectCopy {
  readonly fromBucket: string;
  /** The key in `fromBucket`. */
  readonly from: string;
  /** The key in this bucket. */
  readonly to: string;
}

async function putObject(
  { client, bucket }: Bucket,
  { key, body }: ObjectWrite,
  contentType = 'application/x-ndjson',
): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

async function putObjectIf(
  { client, bucket }: Bucket,
  { key, body }: ObjectWrite,
  condition: Parameters<ObjectStore['putIf']>[2],
): ReturnType<ObjectStore['putIf']> {
  try {
    const out = await withConflictRetry(() =>
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: key.endsWith('.json') ? 'application/json' : 'application/x-ndjson',
          ...('ifNoneMatch' in condition ? { IfNoneMatch: '*' } : { IfMatch: unquoted(condition.ifMatch) }),
        }),
      ),
    );
    return { written: true, etag: unquoted(out.ETag) };
  } catch (err) {
    if (preconditionFailed(err)) return { written: false };
    throw err;
  }
}

async function copyObjectIfAbsent(
  { client, bucket }: Bucket,
  { fromBucket, from, to }: ObjectCopy,
): ReturnType<ObjectStore['copyIfAbsent']> {
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
    if (noSuchKey(err)) return 'source-missing';
    throw err;
  }
}

// Versions: whether a key was ever written, on a bucket that keeps versions.

/** `everWritten`; asks once whether the bucket keeps versions (again after a failure, once it is fixed). */
function versionHistory(at: Bucket): ObjectStore['everWritten'] {
  let versioned: Promise<boolean> | null = null;
  return async (key) => {
    versioned ??= keepsVersions(at);
    const supported = await versioned.catch((err: unknown) => {
      versioned = null; // ask again next time, once the permission is fixed
      throw err;
    });
    if (!supported) return null;
    const out = await at.client.send(
      new ListObjectVersionsCommand({ Bucket: at.bucket, Prefix: key, MaxKeys: 10 }),
    );
    return [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].some((v) => v.Key === key);
  };
}

async function keepsVersions({ client, bucket }: Bucket): Promise<boolean> {
  try {
    const out = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    return out.Status === 'Enabled' || out.Status === 'Suspended';
  } catch (err) {
    // A server without versioning support cannot tell; a refused permission is a deployment error.
    if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 403) throw err;
    return false;
  }
}

// Deletes.
/** DeleteObjects is billed as a PUT, a DeleteObject nothing: one request per key, this many at a time. */
const DELETES_AT_ONCE = 8;

async function deleteKeys({ client, bucket }: Bucket, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
  }
}

async function deleteEachKey({ client, bucket }: Bucket, keys: readonly string[]): Promise<void> {
  const queue = [...keys];
  const worker = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        // S3 answers 204 for a key that does not exist; a server that answers 404 means the same.
        if (!noSuchKey(err)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETES_AT_ONCE, queue.length) }, worker));
}
