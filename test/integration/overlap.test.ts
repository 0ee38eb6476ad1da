/**
 * Claims of overlapping windows: two runs of different window sizes (a deployment whose WINDOW_MINUTES
 * changed while a run was under way) that planned from the same state. Pages are really fetched from the
 * Citrix stand-in and staged, and published to s3rver; nothing is mocked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, fetchPages } from '../../functions/domain/collector.ts';
import { commitKey } from '../../functions/domain/keys.ts';
import { type CommitRecord, type CommitTask, commitWindow } from '../../functions/domain/publish.ts';
import { HOUR, pastHour, rowKey, startEnvironment, type TestEnvironment } from './harness.ts';

const ENTITIES = ['Sessions', 'Users'];
const MIN = 60_000;
const at = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

let e: TestEnvironment;
beforeAll(async () => {
  e = await startEnvironment({ rowsPerHour: 240, serverPageSize: 50 });
});
afterAll(() => e.stop());

let worlds = 0;
function collector(): { c: Collector; prefix: string } {
  const prefix = `overlap-${++worlds}`;
  return {
    prefix,
    c: e.collector({ ENTITIES: ENTITIES.join(','), S3_PREFIX: prefix, WORK_PREFIX: `work/${prefix}` }),
  };
}

/** Run `runId` fetches the window [from, to) of every entity: its commit task. */
async function fetched(c: Collector, runId: string, from: number, to: number): Promise<CommitTask> {
  const done: CommitTask['fetched'][number][] = [];
  for (const entity of ENTITIES) {
    const r = await fetchPages(
      c,
      { start: at(from), end: at(to), entity, runId, continuation: null },
      Date.now() + MIN,
    );
    done.push({ entity, objects: r.objects, rows: r.rows });
  }
  return { start: at(from), end: at(to), runId, mode: 'scheduled', fetched: done };
}

/** Every published row key of the prefix, per entity (duplicates kept), and the stand-in's rows of [from, to). */
async function rows(prefix: string, from: number, to: number) {
  const objects = await e.published(`${prefix}/`);
  const got = objects.flatMap(({ key, rows }) =>
    rows.map((r) => `${key.split('/')[1]} ${rowKey(key.split('/')[1] ?? '', r)}`),
  );
  const want = ENTITIES.flatMap((entity) =>
    e.standin.rowsFor(entity, { fromMs: from, toMs: to }).map((r) => `${entity} ${rowKey(entity, r)}`),
  );
  return { got: got.sort(), want: want.sort() };
}

describe('windows of two sizes planned from the same state', () => {
  it('publishes the window claimed first and nothing of a later claim that overlaps it, even from another start', async () => {
    const { c, prefix } = collector();
    const h = pastHour(4);
    const hourly = await fetched(c, 'run-60', h + 25 * MIN, h + HOUR);
    const first5 = await fetched(c, 'run-5', h + 25 * MIN, h + 30 * MIN);
    const next5 = await fetched(c, 'run-5', h + 30 * MIN, h + 35 * MIN);

    const a = await commitWindow(c, hourly);
    const b1 = await commitWindow(c, first5);
    const b2 = await commitWindow(c, next5);

    expect(a.outcome).toBe('published');
    expect([b1.outcome, b2.outcome]).toEqual(['publishing-elsewhere', 'publishing-elsewhere']);
    expect(b2.state.reason).toContain('claimed the window that starts at');
    expect(await c.work.get(commitKey(c.config, h + 30 * MIN))).toBeNull();
    const { got, want } = await rows(prefix, h + 25 * MIN, h + HOUR);
    expect(got).toEqual(want);
  });

  it('removes the claim of a run that died before checking it, and publishes the window that overlaps it once', async () => {
    const { c, prefix } = collector();
    const h = pastHour(4);
    const stale: CommitRecord = {
      start: at(h),
      end: at(h + HOUR),
      run: 'run-dead',
      status: 'publishing',
      entities: { Sessions: { objects: 1, rows: 1 } },
      claimed_at: at(h + 2 * HOUR),
      lease: { holder: 'run-dead', until: new Date(Date.now() - MIN).toISOString() },
      unchecked: true,
    };
    await c.work.put(commitKey(c.config, h), JSON.stringify(stale));
    const task = await fetched(c, 'run-5', h + 5 * MIN, h + 10 * MIN);

    const result = await commitWindow(c, task);

    expect(result.outcome).toBe('published');
    expect(await c.work.get(commitKey(c.config, h))).toBeNull();
    const { got, want } = await rows(prefix, h + 5 * MIN, h + 10 * MIN);
    expect(got).toEqual(want);
  });

  it('sees a checked claim that overlaps it behind the unchecked claim of a run still checking its own', async () => {
    const { c, prefix } = collector();
    const h = pastHour(4);
    const hourly = await fetched(c, 'run-60', h, h + HOUR);
    expect((await commitWindow(c, hourly)).outcome).toBe('published');
    const racing: CommitRecord = {
      start: at(h + 20 * MIN),
      end: at(h + 25 * MIN),
      run: 'run-racing',
      status: 'publishing',
      entities: {},
      claimed_at: at(h + 2 * HOUR),
      lease: { holder: 'run-racing', until: new Date(Date.now() + 10 * MIN).toISOString() },
      unchecked: true,
    };
    await c.work.put(commitKey(c.config, h + 20 * MIN), JSON.stringify(racing));

    const late = await commitWindow(c, await fetched(c, 'run-5', h + 30 * MIN, h + 35 * MIN));

    expect(late.outcome).toBe('publishing-elsewhere');
    const { got, want } = await rows(prefix, h, h + HOUR);
    expect(got).toEqual(want);
  });
});
