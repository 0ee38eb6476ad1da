/**
 * `npm run s3`, the README's S3 server for `npm run collect`, as a user meets it: its help, and a port
 * already in use (a second `npm run s3`, say), which it names with the way out instead of a stack trace.
 */
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runNode } from '../fixtures/child.ts';
import { terminalEnv } from './run.ts';

const S3_SERVER = fileURLToPath(new URL('../../packages/local-run/src/s3-server.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
let busy: Server | undefined;
afterEach(async () => {
  await new Promise((done) => (busy ? busy.close(done) : done(undefined)));
  busy = undefined;
});

const s3Server = (args: string[], env: Record<string, string> = {}) =>
  runNode(['--import', TSX, S3_SERVER, ...args], { env: terminalEnv(env) });

describe('npm run s3', () => {
  it('prints its options and the port it defaults to with --help, and exits 0', async () => {
    const { code, out } = await s3Server(['--help']);

    expect(code, out).toBe(0);
    expect(out).toContain('Usage: npm run s3 -- [--port N] [--bucket NAME] [--dir DIR]');
    expect(out).toContain('default: S3_PORT, else 4568');
  });

  it('names a port in use and how to choose another, and exits 2 without starting', async () => {
    busy = createServer();
    const port = await new Promise<number>((done) =>
      busy?.listen(0, '127.0.0.1', () => {
        const address = busy?.address();
        done(typeof address === 'object' && address !== null ? address.port : 0);
      }),
    );

    const { code, out } = await s3Server([], { S3_PORT: String(port) });

    expect(code, out).toBe(2);
    expect(out.trim()).toBe(
      `Port ${port} on 127.0.0.1 is in use (another npm run s3?): stop that, or choose another port with --port N or S3_PORT=N.`,
    );
  });

  it.each([
    [['--bogus'], "UsageError: Unknown option '--bogus'. See npm run s3 -- --help."],
    [
      ['--bucket', 'My_Bucket!'],
      'UsageError: --bucket "My_Bucket!" is not a bucket name: 3 to 63 lower-case letters, digits, dots and hyphens. See npm run s3 -- --help.',
    ],
  ])(
    'refuses %j in one line, as every local command does, and exits 2 without starting',
    async (args, said) => {
      const { code, out } = await s3Server(args);

      expect(code, out).toBe(2);
      expect(out.trim()).toBe(said);
    },
  );
});
