/**
 * The package's bin (`npx citrix-monitor`, cli/bin.ts) as an operator's machine runs it: by the Node 24
 * of the `node` dependency (node_modules/.bin/node), which runs TypeScript by stripping types, with no
 * tsx and no NODE_OPTIONS, and with every devDependency made unresolvable from our own files, as after
 * `npm ci --omit=dev` (without-dev-dependencies.ts). No mock: the S3 endpoint is a closed port.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;
const WITHOUT_DEV = ['--import', './test/cli/without-dev-dependencies.ts'];

interface Seen {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node [nodeArgs] script [args]` from the project root with only the given environment. */
function node(nodeArgs: string[], script: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<Seen>((resolve) => {
    execFile(
      NODE,
      [...nodeArgs, script, ...args],
      {
        cwd: ROOT,
        // No NODE_OPTIONS (no tsx loader), no AWS profile or region from this machine.
        env: {
          PATH: process.env.PATH ?? '',
          AWS_CONFIG_FILE: '/nonexistent',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
          ...env,
        },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('the citrix-monitor bin, run by Node 24 without tsx and without dev dependencies', () => {
  it('prints the usage with every command for --help and exits 0', async () => {
    const seen = await node(WITHOUT_DEV, 'cli/bin.ts', ['--help']);

    expect(seen.code, seen.stderr).toBe(0);
    expect(seen.stdout).toMatch(/^Usage: citrix-monitor <command> \[options\]/);
    for (const command of ['status', 'backfill', 'redrive']) expect(seen.stdout).toContain(`  ${command} `);
    expect(seen.stderr).toBe('');
  });

  it('runs status as far as its first AWS call (reading the tenant list), and names the failed call with exit 3', async () => {
    const seen = await node(
      WITHOUT_DEV,
      'cli/bin.ts',
      [
        'status',
        '--state-machine-arn',
        'arn:aws:states:eu-west-1:123456789012:stateMachine:citrix-monitor-collector-prod',
      ],
      {
        S3_BUCKET: 'nowhere',
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
        S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_MAX_ATTEMPTS: '1',
      },
    );

    expect(seen.code, seen.stderr).toBe(3);
    expect(seen.stderr).toContain(
      'citrix-monitor status: AwsCallFailed: S3 GetObject s3://nowhere/collector-work/citrix_monitor/tenants.json failed:',
    );
  });

  it('exits 2 when there are no AWS credentials, as help says, naming them and what to set', async () => {
    // Every endpoint a closed port of this machine, and no instance metadata: no request leaves it.
    const seen = await node(
      WITHOUT_DEV,
      'cli/bin.ts',
      ['status', '--state-machine-arn', 'arn:aws:states:eu-west-1:123456789012:stateMachine:x'],
      {
        S3_BUCKET: 'nowhere',
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
        AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:9',
        S3_FORCE_PATH_STYLE: 'true',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_MAX_ATTEMPTS: '1',
      },
    );

    expect(seen.code, seen.stderr).toBe(2);
    expect(seen.stderr).toMatch(
      /^citrix-monitor status: BadConfiguration: GET \S+ in bucket nowhere at http:\/\/127\.0\.0\.1:9: the AWS credentials are missing or refused \(CredentialsProviderError: /,
    );
  });

  it('is a real check: the local run, which needs aws-local-stepfunctions, does not start under it', async () => {
    const seen = await node(WITHOUT_DEV, 'packages/local-run/src/collect.ts', ['--help']);

    expect(seen.code).not.toBe(0);
    expect(seen.stderr).toContain("Cannot find package 'aws-local-stepfunctions'");
  });
});
