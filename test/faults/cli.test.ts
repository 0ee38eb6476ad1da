/**
 * `npm run collect` as an operator runs it, in a child process, against the Citrix stand-in and Ceph RGW:
 * catching up from a state four hours behind, and a run killed with SIGKILL part-way through (while it
 * fetches, and while it publishes), then run again. The bucket's own version history is the witness
 * that no published key was written twice. To catch a run in the middle of publishing, its S3 traffic
 * goes through a small proxy (publishGate) that holds its writes to the published prefix after the first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { type Standin, startStandin } from '@citrix-monitor/testkit/citrix-standin';
import { afterEach, describe, expect, it } from 'vitest';
import { s3ClientFromEnv } from '../../functions/adapters/collectors.ts';
import { commitKey } from '../../functions/domain/keys.ts';
import type { CommitRecord } from '../../functions/domain/publish.ts';
import { newestDueHour } from '../fixtures/time.ts';
import { HOUR, iso, minute, rgwEnv, STATE_KEY } from './world.ts';

const ENTITIES = ['Sessions', 'Connections', 'Users'];
const KEY: Record<string, string> = { Sessions: 'SessionKey' };
let standins: Standin[] = [];
afterEach(async () => {
  await Promise.all(standins.map((s) => s.stop()));
  standins = [];
});

async function setUp(name: string, standinOptions: Parameters<typeof startStandin>[0]) {
  const standin = await startStandin(standinOptions);
  standins.push(standin);
  const env: Record<string, string> = {
    ...rgwEnv(),
    S3_BUCKET: name,
    WORK_BUCKET: `${name}-work`,
    ...standin.collectorEnv(),
    ENTITIES: ENTITIES.join(','),
  };
  const s3 = s3ClientFromEnv(env);
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  await s3.send(new CreateBucketCommand({ Bucket: `${name}-work` }));
  const versions = async () => {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: name, Prefix: 'citrix_monitor/' }));
    return (out.Versions ?? []).map((v) => v.Key ?? '');
  };
  const rows = async (entity: string, hour: number) => {
    const keys = (await versions()).filter(
      (k) =>
        k.startsWith(`citrix_monitor/${entity}/`) &&
        k.includes(`_${iso(hour).slice(0, 13).replaceAll('-', '')}_`),
    );
    const found: string[] = [];
    for (const key of keys) {
      const body = await (
        await s3.send(new GetObjectCommand({ Bucket: name, Key: key }))
      ).Body?.transformToString();
      for (const line of (body ?? '').split('\n').filter(Boolean))
        found.push(String((JSON.parse(line) as Record<string, unknown>)[KEY[entity] ?? 'Id']));
    }
    return found.sort();
  };
  /** The state's position: the last whole hour published, and the end of the last window (its next hour). */
  const state = async () => {
    const out = await s3.send(new GetObjectCommand({ Bucket: `${name}-work`, Key: STATE_KEY }));
    const file = JSON.parse((await out.Body?.transformToString()) ?? '{}') as {
      last_hour_utc?: string;
      last_window_end?: string;
    };
    return { lastHour: file.last_hour_utc, end: file.last_window_end };
  };
  const setState = (hour: number) =>
    s3.send(
      new PutObjectCommand({
        Bucket: `${name}-work`,
        Key: STATE_KEY,
        Body: JSON.stringify({ last_hour_utc: iso(hour) }),
      }),
    );
  const record = async (hour: number) => {
    const key = commitKey(
      {
        prefix: 'citrix_monitor',
        workPrefix: 'collector-work/citrix_monitor',
        stagingPrefix: 'collector-work/citrix_monitor/staging',
        compression: 'none',
      },
      hour,
    );
    const out = await s3.send(new GetObjectCommand({ Bucket: `${name}-work`, Key: key }));
    return JSON.parse((await out.Body?.transformToString()) ?? '{}') as CommitRecord;
  };
  return { standin, env, versions, rows, state, setState, record };
}

/**
 * A proxy in front of the S3 endpoint that passes everything but holds, unanswered, every write to the
 * published prefix of `feedBucket` after the first. `firstPublished` resolves once that first object is
 * written: the process using the proxy has then claimed the hour and is in the middle of publishing it.
 */
async function publishGate(upstream: string, feedBucket: string) {
  const target = new URL(upstream);
  let publishes = 0;
  let published: () => void = () => {};
  const firstPublished = new Promise<void>((resolve) => {
    published = resolve;
  });
  const server = createServer((req, res) => {
    const publish = req.method === 'PUT' && req.url?.startsWith(`/${feedBucket}/citrix_monitor/`) === true;
    if (publish && publishes++ > 0) return; // held: never forwarded, never answered
    const { expect: _, ...headers } = req.headers; // the proxy streams the body at once
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        if (publish) answer.on('end', published);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    firstPublished,
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

function collect(
  env: Record<string, string>,
  args: string[] = [],
): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; out: string }> } {
  // Node runs the TypeScript itself (type stripping), as the CLI's bin does: no tsx.
  const child = spawn(process.execPath, ['packages/local-run/src/collect.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, out })),
  );
  return { child, done };
}

/**
 * The newest due hour on the real clock: `npm run collect` runs in a child process that plans on its own
 * clock (it takes no start time), so a run started in the last instant before an hour is due (HH:14:59)
 * can plan one hour more than this says: the tests that depend on it take either, or stay two hours back.
 */
const newestDue = () => newestDueHour(Date.now());
const tag = Date.now().toString(36);

/** Every row of the hour published once, each published key written once (one version), the state at the hour's end. */
async function expectPublishedOnce(w: Awaited<ReturnType<typeof setUp>>, hour: number): Promise<void> {
  for (const entity of ENTITIES) {
    const expected = w.standin
      .rowsFor(entity, { fromMs: hour, toMs: hour + HOUR })
      .map((r) => String(r[KEY[entity] ?? 'Id']))
      .sort();
    expect(await w.rows(entity, hour), entity).toEqual(expected);
  }
  const keys = await w.versions();
  expect(keys.length).toBe(ENTITIES.length); // one staged group, so one published object, per entity-hour
  expect(new Set(keys).size, 'a published key has two versions').toBe(keys.length);
  expect(await w.state()).toEqual({ lastHour: iso(hour), end: minute(hour + HOUR) });
}

describe('npm run collect on Ceph RGW', () => {
  it('publishes exactly the due hours, each once, when the state is 4 hours behind, and leaves the state on the newest', async () => {
    const w = await setUp(`catchup-${tag}`, { rowsPerHour: 120, serverPageSize: 50 });
    // The child plans on its own clock, at an instant between these two: one more hour is due if the
    // run starts at HH:14:59 and plans after HH:15, so the newest hour it may publish is either.
    const first = newestDue();
    await w.setState(first - 4 * HOUR);

    const { code, out } = await collect(w.env).done;
    const last = newestDue();

    expect(code, out).toBe(0);
    const newest = Date.parse((await w.state())?.lastHour ?? '');
    expect([first, last]).toContain(newest);
    for (let hour = first - 3 * HOUR; hour <= newest; hour += HOUR) {
      for (const entity of ENTITIES) {
        const expected = w.standin
          .rowsFor(entity, { fromMs: hour, toMs: hour + HOUR })
          .map((r) => String(r[KEY[entity] ?? 'Id']))
          .sort();
        expect(await w.rows(entity, hour), `${entity} ${iso(hour)}`).toEqual(expected);
      }
    }
    expect(await w.rows('Sessions', first - 4 * HOUR)).toEqual([]);
    const keys = await w.versions();
    expect(new Set(keys).size).toBe(keys.length);
    expect(await w.state()).toEqual({ lastHour: iso(newest), end: minute(newest + HOUR) });
    expect(out).toContain(
      `state.json: advanced from ${minute(first - 3 * HOUR)} to ${minute(newest + HOUR)} over `,
    );
  });

  it('publishes an hour exactly once when a run is killed part-way through and run again', async () => {
    const w = await setUp(`killed-${tag}`, { rowsPerHour: 600, serverPageSize: 20, latencyMs: 15 });
    const hour = newestDue() - 2 * HOUR;

    const first = collect(w.env, ['--hour', iso(hour)]);
    while (w.standin.stats.dataRequests < 40) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    const killed = await first.done;
    const second = await collect(w.env, ['--hour', iso(hour)]).done;

    expect(killed.signal).toBe('SIGKILL');
    expect(second.code, second.out).toBe(0);
    await expectPublishedOnce(w, hour);
  });

  it('takes over at once, and publishes exactly once, an hour whose run was killed while publishing it', async () => {
    const name = `killed-publishing-${tag}`;
    const w = await setUp(name, { rowsPerHour: 300, serverPageSize: 100 });
    const hour = newestDue() - 2 * HOUR;
    const gate = await publishGate(w.env.AWS_ENDPOINT_URL_S3 ?? '', name);

    const first = collect({ ...w.env, AWS_ENDPOINT_URL_S3: gate.endpoint }, ['--hour', iso(hour)]);
    await gate.firstPublished;
    const claimed = await w.record(hour);
    const publishedBeforeKill = await w.versions();
    first.child.kill('SIGKILL');
    const killed = await first.done;
    await gate.close();
    const second = await collect(w.env, ['--hour', iso(hour)]).done;

    expect(killed.signal).toBe('SIGKILL');
    // The kill landed inside publishing: the hour claimed, leased to the killed process, one object out.
    expect(claimed.status).toBe('publishing');
    expect(claimed.lease).toMatchObject({ host: hostname(), pid: first.child.pid });
    expect(Date.parse(claimed.lease.until)).toBeGreaterThan(Date.now() + 10 * 60_000);
    expect(publishedBeforeKill).toHaveLength(1);
    // A rerun that left the lease to its holder would exit 3 (another run holds the hour), not 0.
    expect(second.code, second.out).toBe(0);
    expect(second.out).toMatch(new RegExp(`Hour ${iso(hour)}: [\\d,]+ rows, 2 objects published`));
    await expectPublishedOnce(w, hour);
    expect((await w.record(hour)).status).toBe('published');
  });
});
