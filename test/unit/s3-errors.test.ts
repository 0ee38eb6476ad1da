/**
 * How the S3 store names its failures, against real HTTP servers on 127.0.0.1: s3rver (a real S3 server)
 * for a missing bucket, and a small server answering as S3 does when it is overloaded, failing or refusing
 * (s3rver cannot be made to answer 503 SlowDown or 403 AccessDenied). Missing credentials come from a
 * credentials provider that has none, as the SDK's default chain ends on a machine without any.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { S3RVER_CREDENTIALS, startLocalS3 } from '@citrix-monitor/testkit/s3';
import { afterEach, describe, expect, it } from 'vitest';
import { s3ClientFromEnv } from '../../functions/adapters/collectors.ts';
import { s3Failure, s3Store } from '../../functions/adapters/s3-store.ts';
import { BadConfiguration, StateCorrupt, StorageTransient } from '../../functions/domain/errors.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A server that answers every request with `answer` (or drops it), on a free port. */
async function serve(answer: (res: import('node:http').ServerResponse) => void): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** S3's XML error answer. */
const s3Error = (status: number, code: string) => (res: import('node:http').ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`,
  );
};

/** A client of `endpoint` that tries once (the SDK's own retries are not what is tested here). */
const client = (endpoint: string, requestTimeout?: number) =>
  new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: S3RVER_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: 'S3RVER' },
    ...(requestTimeout ? { requestHandler: { requestTimeout, throwOnRequestTimeout: true } } : {}),
  });

async function failureOf(action: Promise<unknown>): Promise<Error> {
  const err = await action.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error(`expected a failure, got ${String(err)}`);
  return err;
}

describe('an S3 failure that a later retry may cure', () => {
  it.each([
    [503, 'SlowDown'],
    [500, 'InternalError'],
  ])(
    'is StorageTransient after HTTP %i %s, naming the bucket, the key and the endpoint',
    async (status, code) => {
      const endpoint = await serve(s3Error(status, code));

      const err = await failureOf(s3Store(client(endpoint), 'data').put('a/b.json', '{}'));

      expect(err).toBeInstanceOf(StorageTransient);
      expect(err.message).toContain(`PUT a/b.json in bucket data at ${endpoint}`);
      expect(err.message).toContain(code);
    },
  );

  it('is StorageTransient when the connection is reset', async () => {
    const endpoint = await serve((res) => res.socket?.destroy());

    const err = await failureOf(s3Store(client(endpoint), 'data').get('a.json'));

    expect(err).toBeInstanceOf(StorageTransient);
    expect(err.message).toContain(endpoint);
  });

  it('is StorageTransient when S3 does not answer in time', async () => {
    const endpoint = await serve(() => {});

    const err = await failureOf(s3Store(client(endpoint, 50), 'data').list('runs/'));

    expect(err).toBeInstanceOf(StorageTransient);
    expect(err.message).toContain(`LIST runs/ in bucket data at ${endpoint}`);
  });

  it('is StorageTransient when nothing listens at the endpoint', async () => {
    const endpoint = await serve(() => {});
    await cleanups.pop()?.();

    const err = await failureOf(s3Store(client(endpoint), 'data').get('a.json'));

    expect(err).toBeInstanceOf(StorageTransient);
    expect(err.message).toContain('ECONNREFUSED');
  });
});

describe('an S3 failure of the configuration', () => {
  it('names a bucket that does not exist, where, and what to set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 's3-errors-'));
    const s3 = await startLocalS3(dir, 'exists');
    cleanups.push(async () => {
      await s3.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const err = await failureOf(s3Store(s3ClientFromEnv(s3.env), 'missing').get('state.json'));

    expect(err).toBeInstanceOf(BadConfiguration);
    expect(err.message).toBe(
      `The bucket missing does not exist at ${s3.endpoint}: create it, or set S3_BUCKET (WORK_BUCKET for the work bucket) to a bucket that does.`,
    );
  });

  it('names refused access and the permissions to give', async () => {
    const endpoint = await serve(s3Error(403, 'AccessDenied'));

    const err = await failureOf(
      s3Store(client(endpoint), 'data').putIf('s.json', '{}', { ifNoneMatch: '*' }),
    );

    expect(err).toBeInstanceOf(BadConfiguration);
    expect(err.message).toMatch(new RegExp(`^PUT s.json in bucket data at ${endpoint}: access denied`));
  });

  it('names keys that S3 refuses as credentials, not as a missing permission', async () => {
    const endpoint = await serve(s3Error(403, 'InvalidAccessKeyId'));

    const err = await failureOf(s3Store(client(endpoint), 'data').get('a.json'));

    expect(err).toBeInstanceOf(BadConfiguration);
    expect(err.message).toContain('the AWS credentials are missing or refused (InvalidAccessKeyId');
  });

  it('names missing credentials and the variables that give them', async () => {
    const endpoint = await serve(s3Error(500, 'InternalError'));
    const none = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: async () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), {
          name: 'CredentialsProviderError',
        });
      },
    });

    const err = await failureOf(s3Store(none, 'data').get('a.json'));

    expect(err).toBeInstanceOf(BadConfiguration);
    expect(err.message).toContain('AWS_ACCESS_KEY_ID');
  });

  it('names a missing region and AWS_REGION', async () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    cleanups.push(() => {
      for (const [name, value] of Object.entries(saved))
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    });
    const endpoint = await serve(s3Error(500, 'InternalError'));
    const env = { ...S3RVER_CREDENTIALS, AWS_ENDPOINT_URL_S3: endpoint, S3_FORCE_PATH_STYLE: 'true' };

    const err = await failureOf(s3Store(s3ClientFromEnv(env), 'data').get('a.json'));

    expect(err).toBeInstanceOf(BadConfiguration);
    expect(err.message).toBe(
      `GET a.json in bucket data at ${endpoint}: no AWS region is set. Set AWS_REGION to the bucket's region.`,
    );
  });
});

describe('an error that is not S3 failing', () => {
  it("goes through unchanged when it is one of the collector's own", () => {
    const own = new StateCorrupt('the state file is not JSON');

    expect(
      s3Failure(own, { bucket: 'data', endpoint: 'AWS S3 in us-east-1', action: 'GET state.json' }),
    ).toBe(own);
  });

  it('goes through unchanged when it is a bug', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'length')");

    expect(
      s3Failure(bug, { bucket: 'data', endpoint: 'AWS S3 in us-east-1', action: 'GET state.json' }),
    ).toBe(bug);
  });
});
