/**
 * `npm run collect` as a user runs it: a child process against the Citrix stand-in (one call at a time,
 * gzip, relative nextLinks, expiring tokens, injected 429/503) and s3rver. What is asserted is what the
 * user sees: the exit code, the message, the rows in S3 and the state file.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Ran, runNode } from '../fixtures/child.ts';
import { HOUR, iso, pastHour, rowKey, rowsOf, startEnvironment, type TestEnvironment } from './harness.ts';

let e: TestEnvironment | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

function collect(env: Record<string, string>, args: string[]): Promise<Ran> {
  return runNode(['--import', 'tsx', 'packages/local-run/src/collect.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

async function state(env: TestEnvironment) {
  const found = await env.store.get('collector-work/citrix_monitor/state.json');
  return found ? (JSON.parse(found.body.toString()) as { last_hour_utc: string }).last_hour_utc : null;
}

describe('npm run collect -- --hour H', () => {
  it('publishes every row of the hour once through 429s, 503s and an expired token, and commits the state', async () => {
    e = await startEnvironment({ rowsPerHour: 2500, serverPageSize: 400, tokenTtlSeconds: 3600 });
    const hour = pastHour(4);
    e.standin.injectFault({ kind: '429', times: 2 });
    e.standin.injectFault({ kind: '503-html', entity: 'Connections' });
    e.standin.expireAllTokens();

    const { code, out } = await collect({ ...e.env, MAX_CONCURRENCY: '3' }, ['--hour', iso(hour)]);

    expect(code, out).toBe(0);
    expect(out).toContain(`Hour ${iso(hour)}: 12,500 rows`);
    const objects = await e.published();
    for (const entity of ['Machines', 'Sessions', 'Connections', 'Applications', 'Users']) {
      const expected = e.standin
        .rowsFor(entity, { fromMs: hour, toMs: hour + HOUR })
        .map((r) => rowKey(entity, r));
      expect(
        rowsOf(objects, entity, hour)
          .map((r) => rowKey(entity, r))
          .sort(),
        entity,
      ).toEqual(expected.sort());
    }
    expect(await state(e)).toBe(iso(hour));
  });

  it('exits 3 (try later), names the hour, entity and cause, and leaves the state where it was when an entity keeps failing', async () => {
    e = await startEnvironment({ rowsPerHour: 50 });
    const before = pastHour(9);
    await e.store.put(
      'collector-work/citrix_monitor/state.json',
      JSON.stringify({ last_hour_utc: iso(before) }),
    );
    e.standin.failEntity('Sessions');

    // Every retry still happens (the client's and the state machine's), with 10 ms waits.
    const { code, out } = await collect(e.env, ['--hour', iso(before + HOUR), '--retry-interval-ms', '10']);

    expect(code).toBe(3);
    expect(out).toContain(`CitrixTransient: Hour ${iso(before + HOUR)}, entity Sessions`);
    expect(out).toContain('Service Unavailable');
    expect(out).toContain('\n  Run the same command again once the cause is fixed: ');
    expect(out).not.toContain('redrive');
    expect(await state(e)).toBe(iso(before));
    expect(await e.published()).toEqual([]);
  });

  it('says per tenant what a run with a failed tenant published, and to run the same command again, never to redrive', async () => {
    e = await startEnvironment(
      {
        rowsPerHour: 50,
        tenants: ['alpha', 'beta'].map((id, i) => ({
          customerId: `${id}cust`,
          clientId: `${id}-client`,
          clientSecret: `${id}-secret`,
          seed: i + 1,
        })),
      },
      { ALPHA_SECRET: 'alpha-secret', BETA_SECRET: 'beta-secret' },
    );
    const tenants = ['alpha', 'beta'].map((id) => ({
      id,
      customerId: `${id}cust`,
      clientId: `${id}-client`,
      clientSecretEnv: `${id.toUpperCase()}_SECRET`,
    }));
    await e.store.put('collector-work/citrix_monitor/tenants.json', JSON.stringify({ tenants }));
    e.standin.tenant('betacust').failEntity('Sessions');
    const hour = iso(pastHour(4));

    const { code, out } = await collect(e.env, ['--hour', hour, '--retry-interval-ms', '10']);

    expect(code, out).toBe(3);
    const lines = out.split('\n');
    expect(lines).toContain('  TenantsFailed: 1 of 2 tenants failed.');
    expect(lines).toContain('  Tenant alpha (customer alphacust):');
    expect(lines).toContain(`    Hour ${hour}: 250 rows, 5 objects published`);
    expect(lines).toContain('  Tenant beta (customer betacust):');
    expect(out).toContain(`\n    Failed: CitrixTransient: Hour ${hour}, entity Sessions, page 0: `);
    expect(lines).toContain('    Nothing of that window was published, and the state did not move past it.');
    expect(lines).toContain(
      '  Run the same command again once the cause is fixed: it collects what is not published yet (a window already published is not fetched again) and publishes nothing twice.',
    );
    expect(out).not.toMatch(/redrive|Nothing of a failed hour/);
  });

  it('says an hour published before was published by which run, what it holds, and that this run wrote nothing', async () => {
    e = await startEnvironment({ rowsPerHour: 50 });
    const first = await collect(e.env, []);
    expect(first.code, first.out).toBe(0);
    const published = await state(e);
    const hour = Date.parse(published ?? '');
    const run = /^Execution (\S+) SUCCEEDED/m.exec(first.out)?.[1];
    // The state put back an hour, as a restored or hand-edited state file would: the hour is due again.
    await e.store.put(
      'collector-work/citrix_monitor/state.json',
      JSON.stringify({ last_hour_utc: iso(hour - HOUR) }),
    );

    const { code, out } = await collect(e.env, []);

    expect(code, out).toBe(0);
    const lines = out.split('\n');
    expect(lines).toContain(
      `  Hour ${iso(hour)}: already published by run ${run} (250 rows in 5 objects); this run wrote nothing`,
    );
    expect(lines).toContain(`    Machines                         50 rows      1 object`);
    expect(lines).toContain(
      `  State s3://collector-test/collector-work/citrix_monitor/state.json: advanced from ${iso(hour)} to ${iso(hour + HOUR)}`,
    );
    expect(out).not.toContain('0 objects');
    expect(out).not.toContain('last_hour_utc');
  });

  it('logs a refused client secret and its retries at warn or error on stderr with --verbose, never the secret', async () => {
    e = await startEnvironment({ rowsPerHour: 20 });

    const { code, out } = await collect({ ...e.env, CITRIX_CLIENT_SECRET: 'not-the-secret' }, [
      '--verbose',
      '--retry-interval-ms',
      '0',
    ]);

    expect(code, out).toBe(2);
    const logged = out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const failures = logged.filter((r) => r.level === 'WARN' || r.level === 'ERROR');
    expect(failures, out).toContainEqual(expect.objectContaining({ error: 'CitrixAuthFailed' }));
    expect(out).not.toContain('not-the-secret');
    expect(out).not.toContain(e.standin.clientSecret);
  });

  it('fails on a nextLink to another host without sending the token there', async () => {
    const seen: string[] = [];
    const foreign = createServer((req, res) => {
      seen.push(req.headers.authorization ?? '(no token)');
      res.end('{"value":[]}');
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.3', r));
    e = await startEnvironment({ rowsPerHour: 300, serverPageSize: 100 });
    e.standin.injectFault({
      kind: 'foreign-nextlink',
      entity: 'Users',
      foreignUrl: `http://127.0.0.3:${(foreign.address() as AddressInfo).port}`,
    });

    const { code, out } = await collect(e.env, ['--hour', iso(pastHour(3))]);
    foreign.close();

    expect(code).toBe(1);
    expect(out).toContain('ForeignNextLink');
    expect(out).toContain('the token was not sent there');
    expect(seen).toEqual([]);
    expect(await state(e)).toBeNull();
  });

  it('refuses an hour that is not a whole UTC hour with exit code 2 and says what it expects', async () => {
    e = await startEnvironment();

    const { code, out } = await collect(e.env, ['--hour', '2026-11-24T10:30:00Z']);

    expect(code).toBe(2);
    expect(out).toContain('is not a whole UTC hour: expected e.g. 2026-11-24T10:00:00Z');
  });
});
