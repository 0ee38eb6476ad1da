/**
 * What the commit deletes of a run's staged objects, and what it leaves: the objects the fetches counted go
 * once the window is published; an object a crashed attempt staged beyond the count is never published
 * and is left to the bucket's lifecycle rule; a run whose claim another run took over leaves its objects
 * to that run. Pages are really fetched from the Citrix stand-in, staged and published on s3rver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, fetchPages } from '../../functions/domain/collector.ts';
import { StorageTransient } from '../../functions/domain/errors.ts';
import { commitKey, stagingKey } from '../../functions/domain/keys.ts';
import {
  type CommitRecord,
  type CommitTask,
  commitWindow,
  readRecord,
} from '../../functions/domain/publish.ts';
import { readState } from '../../functions/domain/state-store.ts';
import { pastHour, rowKey, startEnvironment, type TestEnvironment } from './harness.ts';

const MINUTE = 60_000;
const WINDOW = 5 * MINUTE;
const ENTITIES = ['Sessions', 'Users'];
const at = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

let e: TestEnvironment;
beforeAll(async () => {
  e = await startEnvironment({ rowsPerHour: 1200 });
});
afterAll(() => e.stop());

let worlds = 0;
function collector(): { c: Collector; prefix: string } {
  const prefix = `staging-${++worlds}`;
  const c = e.collector({
    ENTITIES: ENTITIES.join(','),
    WINDOW_MINUTES: '5',
    S3_PREFIX: prefix,
    WORK_PREFIX: `work/${prefix}`,
  });
  return { c, prefix };
}

/** Run `runId` fetches every entity of the window that starts at `start`: its commit task. */
async function fetched(c: Collector, runId: string, start: number): Promise<CommitTask> {
  const window = { start: at(start), end: at(start + WINDOW) };
  const done: CommitTask['fetched'] = [];
  for (const entity of ENTITIES) {
    const r = await fetchPages(c, { ...window, entity, runId, continuation: null }, Date.now() + MINUTE);
    done.push({ entity, objects: r.objects, rows: r.rows });
  }
  return { ...window, runId, mode: 'scheduled', fetched: done };
}

/** The row keys published under the prefix, per entity (duplicates kept), and the stand-in's of the window. */
async function rows(prefix: string, start: number) {
  const objects = await e.published(`${prefix}/`);
  const got = objects.flatMap(({ key, rows }) =>
    rows.map((r) => `${key.split('/')[1]} ${rowKey(key.split('/')[1] ?? '', r)}`),
  );
  const want = ENTITIES.flatMap((entity) =>
    e.standin
      .rowsFor(entity, { fromMs: start, toMs: start + WINDOW })
      .map((r) => `${entity} ${rowKey(entity, r)}`),
  );
  return { got: got.sort(), want: want.sort(), keys: objects.map((o) => o.key.split('/').at(-1)) };
}

describe("the commit and the run's staged objects", () => {
  it('publishes only the objects the fetches counted, each row once, when a crashed attempt staged one more', async () => {
    const { c, prefix } = collector();
    const start = pastHour(3);
    const task = await fetched(c, 'run-crashed', start);
    // An attempt that crashed had grouped the pages otherwise: it staged Sessions' rows once more, as
    // object 1, which the retry that completed the entity never counted.
    const bounds = { start, end: start + WINDOW };
    const extra = stagingKey(c.config, 'run-crashed', { entity: 'Sessions', window: bounds, object: 1 });
    const counted = await e.store.get(
      stagingKey(c.config, 'run-crashed', { entity: 'Sessions', window: bounds, object: 0 }),
    );
    await e.store.put(extra, counted?.body ?? '');
    expect(task.fetched.map((f) => f.objects)).toEqual([1, 1]);

    const result = await commitWindow(c, task);

    expect(result).toMatchObject({ outcome: 'published', objects: 2 });
    const { got, want, keys } = await rows(prefix, start);
    expect(got).toEqual(want);
    expect(keys.sort()).toEqual(ENTITIES.map((entity) => `${entity}_${stamp(start)}_00000.ndjson`).sort());
    expect((await readRecord(c, start))?.record.entities.Sessions?.objects).toBe(1);
    // The counted objects are deleted; the one beyond the count is left to the staging lifecycle rule.
    expect(await e.store.list(`work/${prefix}/staging/`)).toEqual([extra]);
  });

  it('leaves its staged objects to the run that took its claim over, which then publishes them once', async () => {
    const { c, prefix } = collector();
    const start = pastHour(3) + WINDOW;
    const task = await fetched(c, 'run-a', start);
    const staged = await e.store.list(`work/${prefix}/staging/`);
    // Run A claimed the window and stopped; run B took the expired lease over and is publishing A's objects.
    const record: CommitRecord = {
      start: at(start),
      end: at(start + WINDOW),
      run: 'run-a',
      status: 'publishing',
      entities: Object.fromEntries(task.fetched.map((f) => [f.entity, { objects: f.objects, rows: f.rows }])),
      claimed_at: new Date(Date.now() - 30 * MINUTE).toISOString(),
      lease: { holder: 'run-b', until: new Date(Date.now() + 15 * MINUTE).toISOString() },
    };
    await e.store.put(commitKey(c.config, start), JSON.stringify(record), 'application/json');

    const late = await commitWindow(c, task);
    const kept = await e.store.list(`work/${prefix}/staging/`);
    const byB = await commitWindow(c, { ...task, runId: 'run-b', fetched: [] });

    expect(late.outcome).toBe('publishing-elsewhere');
    expect(kept).toEqual(staged);
    expect(byB).toMatchObject({ outcome: 'published', publishedBy: 'run-a', objects: 2 });
    const { got, want } = await rows(prefix, start);
    expect(got).toEqual(want);
  });
});

describe('the order of a commit', () => {
  it('moves the state only once every object is published: a publication that fails leaves it, and the next attempt publishes once', async () => {
    const { c, prefix } = collector();
    const start = pastHour(3) + 2 * WINDOW;
    const state = {
      last_hour_utc: at(start - (start % (60 * MINUTE)) - 60 * MINUTE),
      last_window_end: at(start),
    };
    await c.work.put(c.config.stateKey, JSON.stringify(state), 'application/json');
    const task = await fetched(c, 'run-order', start);
    // The feed's bucket refuses the second copy, as S3 may answer 503 SlowDown past the SDK's retries.
    let copies = 0;
    const failing: Collector = {
      ...c,
      feed: Object.assign(Object.create(c.feed), {
        copyIfAbsent: (...args: Parameters<Collector['feed']['copyIfAbsent']>) => {
          copies += 1;
          if (copies === 2) return Promise.reject(new StorageTransient('SlowDown: the copy was refused'));
          return c.feed.copyIfAbsent(...args);
        },
      }),
    };

    await expect(commitWindow(failing, task)).rejects.toThrow(StorageTransient);

    expect(copies).toBe(2);
    expect((await readState(c.work, c.config)).end).toBe(start);
    const retried = await commitWindow(c, task);
    expect(retried).toMatchObject({ outcome: 'published', state: { moved: true, to: at(start + WINDOW) } });
    const { got, want } = await rows(prefix, start);
    expect(got).toEqual(want);
  });
});

/** The window stamp of a published name: `20261124T1005` for the 5-minute window that starts at 10:05. */
const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace(/[-:]/g, '');
