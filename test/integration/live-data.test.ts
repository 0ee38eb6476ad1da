/**
 * Live data: the real ASL and handlers against the Citrix Monitor stand-in over HTTP and a real S3 server
 * (s3rver), while the stand-in changes rows it has already delivered (their ModifiedDate moves to now, so
 * they leave the hour being paged), as the real Monitor Service does. Nothing is mocked here.
 */
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR, iso, pastHour, rowKey, rowsOf, startEnvironment, type TestEnvironment } from './harness.ts';

const CHURNING = ['Sessions', 'Machines'];
const ROWS = 3000;
const PAGE = 100;

let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

/** Collects one hour of Sessions and Machines while one delivered row per page changes. */
async function collectWhileRowsChange(extraEnv: Record<string, string>) {
  env = await startEnvironment({
    rowsPerHour: ROWS,
    serverPageSize: PAGE,
    churn: { entities: CHURNING, rowsPerPage: 1 },
  });
  const e = env;
  const hour = pastHour(4);
  const before = new Map(
    CHURNING.map((entity) => [entity, e.standin.rowsFor(entity, { fromMs: hour, toMs: hour + HOUR })]),
  );
  const collector = e.collector({ ENTITIES: CHURNING.join(','), PAGE_SIZE: String(PAGE), ...extraEnv });

  const outcome = await runExecution(collector, { input: { hour: iso(hour) } });

  const objects = await e.published();
  return CHURNING.map((entity) => {
    const delivered = before.get(entity) ?? [];
    const changed = new Set(e.standin.changes(entity).map((c) => String(c.key)));
    const published = rowsOf(objects, entity, hour);
    const count = new Map<string, number>();
    for (const row of published) count.set(rowKey(entity, row), (count.get(rowKey(entity, row)) ?? 0) + 1);
    const original = new Map(delivered.map((row) => [rowKey(entity, row), row]));
    const unchanged = delivered.filter((row) => !changed.has(rowKey(entity, row)));
    return {
      entity,
      outcome,
      rowsInHour: delivered.length,
      changed: changed.size,
      unchanged: unchanged.length,
      lost: unchanged.filter((row) => !count.has(rowKey(entity, row))).map((row) => rowKey(entity, row)),
      duplicated: [...count].filter(([, n]) => n > 1).map(([key]) => key),
      /** Published rows that are not the version of the hour as it was before paging began. */
      altered: published.filter((row) => {
        const was = original.get(rowKey(entity, row));
        return was === undefined || JSON.stringify(was) !== JSON.stringify(row);
      }),
    };
  });
}

describe('rows that change while their hour is paged', () => {
  it('publishes every row that did not change exactly once, and a changed row at most once, as delivered', async () => {
    const results = await collectWhileRowsChange({});

    for (const r of results) {
      expect(r.outcome.status, r.outcome.cause).toBe('SUCCEEDED');
      expect(r.rowsInHour, r.entity).toBe(ROWS);
      expect(r.changed, `${r.entity}: rows changed under the pager`).toBeGreaterThanOrEqual(ROWS / PAGE - 1);
      expect(r.lost, `${r.entity}: unchanged rows lost`).toEqual([]);
      expect(r.duplicated, `${r.entity}: rows published twice`).toEqual([]);
      expect(r.altered, `${r.entity}: rows not as delivered`).toEqual([]);
    }
  });

  it('loses unchanged rows when the same hour is paged by the server nextLinks (offsets)', async () => {
    const results = await collectWhileRowsChange({ NEXTLINK_PAGING: CHURNING.join(',') });

    for (const r of results) {
      expect(r.outcome.status, r.outcome.cause).toBe('SUCCEEDED');
      expect(r.changed, r.entity).toBeGreaterThanOrEqual(ROWS / PAGE - 1);
      // Each delivered row that leaves the window moves every later row one offset down: one row skipped.
      expect(r.lost.length, `${r.entity}: unchanged rows lost by offset paging`).toBeGreaterThanOrEqual(
        ROWS / PAGE / 2,
      );
      expect(r.duplicated, r.entity).toEqual([]);
    }
  });
});

describe('deep offsets', () => {
  it('publishes an hour by key where following nextLinks runs into the server query timeout', async () => {
    // Each skipped row costs the server 0.1 ms and a query has 100 ms: past 1,000 rows of offset it times out.
    env = await startEnvironment({
      rowsPerHour: 2000,
      serverPageSize: 100,
      msPerSkippedRow: 0.1,
      queryTimeoutMs: 100,
    });
    const e = env;
    const hour = pastHour(4);
    const run = (extra: Record<string, string>) =>
      runExecution(e.collector({ ENTITIES: 'Users', PAGE_SIZE: '100', ...extra }), {
        input: { hour: iso(hour) },
        retryIntervalMs: 1,
      });

    const byLink = await run({ NEXTLINK_PAGING: 'Users' });
    const byKey = await run({});

    expect(byLink.status).toBe('FAILED');
    expect(byLink.error).toBe('CitrixTransient');
    expect(byLink.cause).toMatch(/Users, page 1\d: Citrix answered HTTP 500, ".*time.*out/i);
    expect(byKey.status, byKey.cause).toBe('SUCCEEDED');
    const published = rowsOf(await e.published(), 'Users', hour).map((r) => rowKey('Users', r));
    expect(published).toEqual(
      e.standin.rowsFor('Users', { fromMs: hour, toMs: hour + HOUR }).map((r) => rowKey('Users', r)),
    );
  });
});
