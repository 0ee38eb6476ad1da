/**
 * `npm run s3 -- [--port N] [--bucket NAME] [--dir DIR]`: the embedded S3 server (s3rver) on its own, for
 * `npm run collect` against the stand-in or a real API (docs/operating.md, "Running against a real or compatible
 * API from your machine"). It prints what to export in the collector's terminal, s3rver's own keys
 * included, and runs until Ctrl-C. Exit 0 when stopped; 2 for bad usage or a port in use (docs/operating.md, "Exit
 * codes").
 */
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { startLocalS3 } from '@citrix-monitor/testkit/s3';
import { UsageError } from '../../../cli/errors.ts';
import { wholeNumber } from '../../../functions/domain/config.ts';
import { isBucketName } from '../../../functions/domain/settings/parsers.ts';
import { commandOptions, reportFailure } from './preflight.ts';

/** The port when neither --port nor S3_PORT names one: s3rver's own default. */
const DEFAULT_S3_PORT = 4568;
const DEFAULT_BUCKET = 'citrix-local';
const DEFAULT_DIR = '.local-data/s3';

const USAGE = `Usage: npm run s3 -- [--port N] [--bucket NAME] [--dir DIR]
  An S3 server (s3rver) on 127.0.0.1 for npm run collect; Ctrl-C stops it.
  --port N       port to listen on (default: S3_PORT, else ${DEFAULT_S3_PORT})
  --bucket NAME  bucket it creates if missing (default ${DEFAULT_BUCKET})
  --dir DIR      where its objects are kept, one file each (default ${DEFAULT_DIR})`;

function options(): { port: number; bucket: string; dir: string } | 'help' {
  const values = commandOptions({
    port: { type: 'string' },
    bucket: { type: 'string' },
    dir: { type: 'string' },
  });
  if (values.help) return 'help';
  const fail = (message: string) => new UsageError(message);
  const port =
    values.port !== undefined
      ? wholeNumber(values.port, { what: '--port', fallback: DEFAULT_S3_PORT, min: 1, max: 65_535, fail })
      : wholeNumber(process.env.S3_PORT, {
          what: 'S3_PORT=',
          fallback: DEFAULT_S3_PORT,
          min: 1,
          max: 65_535,
          fail,
        });
  const bucket = values.bucket ?? DEFAULT_BUCKET;
  if (!isBucketName(bucket)) {
    throw new UsageError(
      `--bucket ${JSON.stringify(bucket)} is not a bucket name: 3 to 63 lower-case letters, digits, dots and hyphens.`,
    );
  }
  return { port, bucket, dir: resolve(values.dir ?? DEFAULT_DIR) };
}

/** Whether 127.0.0.1:port can be listened on (s3rver itself throws an unhandled error event when not). */
function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
}

async function main(): Promise<number> {
  const chosen = options();
  if (chosen === 'help') {
    console.log(USAGE);
    return 0;
  }
  const { port, bucket, dir } = chosen;
  if (!(await portFree(port))) {
    console.error(
      `Port ${port} on 127.0.0.1 is in use (another npm run s3?): stop that, or choose another port with --port N or S3_PORT=N.`,
    );
    return 2;
  }
  const s3 = await startLocalS3(dir, bucket, port);
  const { AWS_ENDPOINT_URL_S3, S3_FORCE_PATH_STYLE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } =
    s3.env;
  console.log(`S3 server (s3rver) listening on ${s3.endpoint}, bucket ${bucket}, objects in ${dir}/${bucket}/
In the terminal that runs npm run collect (s3rver accepts only its own keys, S3RVER):
  export AWS_ENDPOINT_URL_S3=${AWS_ENDPOINT_URL_S3} S3_FORCE_PATH_STYLE=${S3_FORCE_PATH_STYLE} AWS_REGION=${AWS_REGION}
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY} S3_BUCKET=${bucket}
Ctrl-C stops it; the objects stay.`);
  await new Promise<void>((done) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
  });
  await s3.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(reportFailure(err, 'npm run s3 -- --help')),
);
