/**
 * Who may finish an hour that a run claimed and did not finish, before its lease expires. A local run
 * records its process (host, pid) in the lease; a rerun on the same machine takes the hour over at once
 * when that process no longer exists, and waits out every other lease: a live process, another machine,
 * or a Lambda's lease, which names no process. The killed run's pages are really staged (fetchPages
 * against the Citrix stand-in) and published from s3rver; nothing is mocked.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { thisProcess } from '@citrix-monitor/testkit/lease-owner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, fetchPages } from '../../functions/domain/collector.ts';
import { commitKey } from '../../functions/domain/keys.ts';
import {
  type CommitRecord,
  type CommitTask,
  commitWindow,
  type Lease,
  readRecord,
} from '../../functions/domain/publish.ts';
import { HOUR, iso, pastHour, rowKey, rowsOf, startEnvironment, type TestEnvironment } from './harness.ts';

const KILLED = 'local-killed-run';
const ENTITIES = ['Sessions', 'Users'];
const MINUTE = 60_000;

let e: TestEnvironment;
let dead: number;
beforeAll(async () => {
  e = await startEnvironment({ rowsPerHour: 300, serverPageSize: 100 });
  dead = await deadPid();
});
afterAll(() => e.stop());

/** The id of a process that has just exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid ?? 0;
}

/** A collector of the local run (its process in the leases it takes), or of a Lambda (`lambda: true`). */
function collector(prefix: string, lambda = false): Collector {
  const base = e.collector({
    ENTITIES: ENTITIES.join(','),
    S3_PREFIX: prefix,
    WORK_PREFIX: `work/${prefix}`,
  });
  return lambda ? base : { ...base, ...thisProcess() };
}

/**
 * What a run killed while publishing leaves: its pages staged, and the hour's commit record claimed by
 * it with `lease`. Returns the commit task of the run that comes next.
 */
async function leftByAKilledRun(c: Collector, hour: number, lease: Lease): Promise<CommitTask> {
  const window = { start: iso(hour), end: iso(hour + HOUR) };
  const fetched: CommitTask['fetched'][number][] = [];
  for (const entity of ENTITIES) {
    const task = { ...window, entity, runId: KILLED, continuation: null };
    const done = await fetchPages(c, task, Date.now() + MINUTE);
    fetched.push({ entity, objects: done.objects, rows: done.rows });
  }
  const record: CommitRecord = {
    ...window,
    run: KILLED,
    status: 'publishing',
    entities: Object.fromEntries(fetched.map((f) => [f.entity, { objects: f.objects, rows: f.rows }])),
    claimed_at: new Date(Date.now() - MINUTE).toISOString(),
    lease,
  };
  await c.work.put(commitKey(c.config, hour), JSON.stringify(record), 'application/json');
  return { ...window, runId: 'local-rerun', mode: 'explicit', fetched };
}

const until = (fromNowMs: number) => new Date(Date.now() + fromNowMs).toISOString();
let worlds = 0;

describe('a rerun meeting the lease of a run that did not finish the hour', () => {
  it.each([
    ['a live process of this machine', () => ({ host: hostname(), pid: process.pid })],
    [
      'a process of another machine, even one whose pid is free here',
      () => ({ host: 'other-host', pid: dead }),
    ],
    ['a Lambda, whose lease names no process', () => ({})],
  ])('waits out the lease of %s: nothing written, the record untouched', async (_, owner) => {
    const prefix = `lease-${++worlds}`;
    const c = collector(prefix);
    const hour = pastHour(3);
    const lease: Lease = { holder: KILLED, until: until(15 * MINUTE), ...owner() };
    const task = await leftByAKilledRun(c, hour, lease);
    const before = await c.work.get(commitKey(c.config, hour));

    const result = await commitWindow(c, task);

    expect(result.outcome).toBe('publishing-elsewhere');
    expect(result.heldBy).toEqual(lease);
    expect((await c.work.get(commitKey(c.config, hour)))?.body.toString()).toBe(before?.body.toString());
    expect(await e.published(`${prefix}/`)).toEqual([]);
    expect(await c.work.get(c.config.stateKey)).toBeNull();
  });

  it('takes over at once the lease of a process of this machine that no longer exists, and publishes the hour once', async () => {
    const prefix = `lease-${++worlds}`;
    const c = collector(prefix);
    const hour = pastHour(3);
    const task = await leftByAKilledRun(c, hour, {
      holder: KILLED,
      until: until(19 * MINUTE),
      host: hostname(),
      pid: dead,
    });

    const result = await commitWindow(c, task);

    expect(result.outcome).toBe('published');
    expect(result.publishedBy).toBe(KILLED);
    const objects = await e.published(`${prefix}/`);
    for (const entity of ENTITIES) {
      const published = rowsOf(
        objects.map((o) => ({ ...o, key: o.key.replace(`${prefix}/`, 'citrix_monitor/') })),
        entity,
        hour,
      ).map((r) => rowKey(entity, r));
      const expected = e.standin
        .rowsFor(entity, { fromMs: hour, toMs: hour + HOUR })
        .map((r) => rowKey(entity, r));
      expect(published.sort(), entity).toEqual(expected.sort());
    }
    const record = (await readRecord(c, hour))?.record;
    expect(record?.status).toBe('published');
    expect(record?.lease).toMatchObject({ holder: 'local-rerun', host: hostname(), pid: process.pid });
    expect(result.state).toMatchObject({ lastHour: iso(hour), moved: true });
  });

  it("leaves a dead local process's lease to expire when the rerun is a Lambda, which cannot tell", async () => {
    const prefix = `lease-${++worlds}`;
    const c = collector(prefix, true);
    const hour = pastHour(3);
    const task = await leftByAKilledRun(c, hour, {
      holder: KILLED,
      until: until(5 * MINUTE),
      host: hostname(),
      pid: dead,
    });

    const result = await commitWindow(c, task);

    expect(result.outcome).toBe('publishing-elsewhere');
    expect(await e.published(`${prefix}/`)).toEqual([]);
  });

  it('takes over an expired lease that names no process, as before, and writes no process in a Lambda lease', async () => {
    const prefix = `lease-${++worlds}`;
    const c = collector(prefix, true);
    const hour = pastHour(3);
    const task = await leftByAKilledRun(c, hour, { holder: KILLED, until: until(-MINUTE) });

    const result = await commitWindow(c, task);

    expect(result.outcome).toBe('published');
    const lease = (await readRecord(c, hour))?.record.lease;
    expect(lease?.holder).toBe('local-rerun');
    expect(lease).not.toHaveProperty('host');
    expect(lease).not.toHaveProperty('pid');
  });
});

describe("the local run's liveness check", () => {
  it('calls gone only a process of this machine that no longer exists', () => {
    const { isGone, leaseOwner } = thisProcess();

    expect(leaseOwner).toEqual({ host: hostname(), pid: process.pid });
    expect(isGone?.({ host: hostname(), pid: dead })).toBe(true);
    expect(isGone?.({ host: hostname(), pid: process.pid })).toBe(false);
    expect(isGone?.({ host: 'other-host', pid: dead })).toBe(false);
  });
});
