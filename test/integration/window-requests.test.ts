/**
 * What one 5-minute window of one tenant costs in S3 requests, and what it leaves: the domain operations
 * the Tasks call (plan, fetchPages per entity, commitWindow) against the Citrix stand-in and a real S3
 * server (s3rver) behind the counting proxy of the benches (packages/bench/src/s3-counter.ts). Nothing is mocked.
 */
import { collectDue } from '@citrix-monitor/bench/one-window';
import { type S3Counter, type S3Requests, startS3Counter } from '@citrix-monitor/bench/s3-counter';
import { afterEach, describe, expect, it } from 'vitest';
import type { Collector } from '../../functions/domain/collector.ts';
import { ENTITIES, HOUR, iso, pastHour, startEnvironment, type TestEnvironment } from './harness.ts';

const MINUTE = 60_000;
const WINDOW = 5 * MINUTE;
/** SETTLE_MINUTES as deployed: a window is due 15 minutes after it ends. */
const SETTLE = 15 * MINUTE;
/** The PUT-tier requests of a window of five entities with rows, one staged object each. */
const PUT_TIER_OF_FIVE_ENTITIES = 16;
const STATE_KEY = 'collector-work/citrix_monitor/state.json';

let env: TestEnvironment | undefined;
let counter: S3Counter | undefined;
afterEach(async () => {
  await counter?.stop();
  await env?.stop();
  env = undefined;
  counter = undefined;
});

/** PUT, COPY, POST, LIST and DeleteObjects, as AWS bills them: s3rver's failed attempts left out. */
function putTier(): number {
  const kinds: ReadonlyArray<keyof S3Requests> = ['put', 'copy', 'post', 'list', 'deleteObjects'];
  return kinds.reduce((n, k) => n + (counter?.counts[k] ?? 0) - (counter?.serverErrors[k] ?? 0), 0);
}

/**
 * A tenant whose state ends at `hour`, its entities holding `rowsPerHour` rows an hour, and a collector
 * of 5-minute windows whose S3 requests go through the counter, at the clock at which the window
 * [hour, hour + 5 min) is the one due window.
 */
async function tenant(rowsPerHour: (entity: string) => number, hour: number) {
  const e = await startEnvironment({ rowsPerHour: (entity) => rowsPerHour(entity) });
  env = e;
  await e.store.put(STATE_KEY, JSON.stringify({ last_hour_utc: iso(hour - HOUR) }));
  const proxy = await startS3Counter(e.env.AWS_ENDPOINT_URL_S3 ?? '');
  counter = proxy;
  const clock = hour + WINDOW + SETTLE + 1000;
  const c: Collector = {
    ...e.collector({ AWS_ENDPOINT_URL_S3: proxy.endpoint, WINDOW_MINUTES: '5' }),
    now: () => clock,
  };
  return { e, c, clock };
}

describe('one 5-minute window of one tenant', () => {
  it(`costs at most ${PUT_TIER_OF_FIVE_ENTITIES} PUT-tier requests for five entities with rows, and no DeleteObjects`, async () => {
    const hour = pastHour(3);
    const { e, c, clock } = await tenant(() => 1200, hour);

    const [result] = await collectDue(c, { runId: 'run-five', clock });

    expect(result).toMatchObject({ outcome: 'published', objects: ENTITIES.length });
    expect(putTier()).toBeLessThanOrEqual(PUT_TIER_OF_FIVE_ENTITIES);
    expect(counter?.counts.deleteObjects).toBe(0);
    expect(await e.store.list('collector-work/citrix_monitor/staging/')).toEqual([]);
  });

  it('publishes no object for an entity with no rows in the window, and stages none', async () => {
    const hour = pastHour(3);
    const { e, c, clock } = await tenant((entity) => (entity === 'Applications' ? 0 : 1200), hour);

    const [result] = await collectDue(c, { runId: 'run-empty', clock });

    expect(result?.entities.Applications).toEqual({ objects: 0, rows: 0 });
    expect(await e.published('citrix_monitor/Applications/')).toEqual([]);
    expect((await e.published()).length).toBe(ENTITIES.length - 1);
    // Neither a staging PUT nor a COPY for it.
    expect(putTier()).toBeLessThanOrEqual(PUT_TIER_OF_FIVE_ENTITIES - 2);
  });
});
