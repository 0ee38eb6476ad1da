import { mkdirSync } from 'node:fs';
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
    stop: () => server.close(),
  };
}
