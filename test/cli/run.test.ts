/**
 * `citrix-monitor run`: the local run (packages/local-run/src/collect.ts) in a child process, its exit code passed
 * through. Only refusals are exercised here, which need no network at all; the local run itself is
 * covered by the integration tests. The Step Functions API is mocked with aws-sdk-client-mock (world.ts)
 * as in every CLI test, though `run` never calls it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, stopS3, world } from './world.ts';

beforeAll(startS3);
afterAll(stopS3);

describe('run', () => {
  it('refuses an --hour that is not an hour with exit 2, pointing at its own help', async () => {
    const seen = await world().cli(['run', '--hour', 'yesterday']);

    expect(seen.code).toBe(2);
    expect(seen.stderr).toBe(
      'citrix-monitor run: UsageError: --hour "yesterday" is not a whole UTC hour: expected e.g. 2026-11-24T10:00:00Z. See citrix-monitor run --help.\n',
    );
  });

  it("passes the local run's refusal of an hour not due yet and its exit code 2 through", async () => {
    const seen = await world().cli(['run', '--hour', '2099-01-01T00:00:00Z']);

    expect(seen.code).toBe(2);
    expect(seen.stderr).toMatch(
      /^UsageError: --hour 2099-01-01T00:00:00Z is not due yet: give an hour up to .*\. See citrix-monitor run --help\.\n$/,
    );
  });

  it('passes a configuration error through with exit 2, and wraps the output as JSON with --json', async () => {
    const w = world({
      S3_BUCKET: '',
      CITRIX_CUSTOMER_ID: '',
      CITRIX_CLIENT_ID: '',
      CITRIX_CLIENT_SECRET: '',
    });

    const seen = await w.cli(['run', '--json', '--hour', '2026-11-24T10:00:00Z']);

    expect(seen.code).toBe(2);
    expect(seen.stderr).toMatch(/BadConfiguration: \w+ is not set/);
    expect(JSON.parse(seen.stdout)).toEqual({ command: 'run', exitCode: 2, output: '' });
  });

  it('refuses an option the local run does not have, without starting it', async () => {
    const seen = await world().cli(['run', '--stage', 'dev']);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toContain("Unknown option '--stage'");
  });
});
