import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { commitHandler } from '../../functions/commit.ts';
import { BadConfiguration, StateCorrupt } from '../../functions/domain/errors.ts';
import { readRecord } from '../../functions/domain/publish.ts';
import type { Fleet } from '../../functions/domain/tenants.ts';
import { fetchPageHandler } from '../../functions/fetch-page.ts';
import { MemoryStore } from '../fixtures/memory-store.ts';

const HOUR = '2026-11-24T10:00:00Z';
const HOUR_END = '2026-11-24T11:00:00Z';
const layout = {
  bucket: 'logs-bucket',
  workBucket: 'logs-bucket',
  prefix: 'citrix_monitor',
  workPrefix: 'collector-work/citrix_monitor',
  stateKey: 'collector-work/citrix_monitor/state.json',
  compression: 'none',
  entities: ['Sessions'],
  windowMinutes: 60,
  settleMinutes: 15,
  maxHoursPerRun: 24,
  stagingPrefix: 'collector-work/citrix_monitor/staging',
  tenantsKey: 'collector-work/citrix_monitor/tenants.json',
  tenantConcurrency: 40,
} as const;

describe('a commit record that does not fit', () => {
  it('is StateCorrupt naming the field, never read as a window not published', async () => {
    const work = new MemoryStore();
    await work.put(
      'collector-work/citrix_monitor/commits/20261124T10.json',
      JSON.stringify({
        start: HOUR,
        end: HOUR_END,
        run: 'exec-1',
        status: 'published',
        entities: { Sessions: { pages: 3, rows: 2500 } },
        claimed_at: '2026-11-24T11:20:00.000Z',
        lease: { holder: 'exec-1', until: '2026-11-24T11:40:00.000Z' },
      }),
    );

    const error = await readRecord({ config: layout, work }, Date.parse(HOUR)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StateCorrupt);
    expect(String(error)).toContain('entities.Sessions.objects');
  });
});

describe('a Task event that does not fit', () => {
  it('fails the step with BadConfiguration naming the field, before any work', async () => {
    const unused = () => {
      throw new Error('the collector was built for an event that does not fit');
    };
    const handler = fetchPageHandler(unused as () => Fleet);
    const context = { getRemainingTimeInMillis: () => 900_000 } as Context;

    const event = {
      start: HOUR,
      end: HOUR_END,
      entity: 'Sessions',
      continuation: null,
    } as unknown as Parameters<typeof handler>[0];

    const error = await handler(event, context).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BadConfiguration);
    expect((error as Error).message).toContain('FetchPages step received an event it cannot read (runId:');
  });

  it('tells an execution in flight across a deploy that renamed a field to start anew: nothing was done', async () => {
    const unused = () => {
      throw new Error('the collector was built for an event that does not fit');
    };
    const handler = commitHandler(unused as () => Fleet);
    // The Commit event of the definition before windows were called windows: `hour`, where it is `start` now.
    const event = {
      hour: HOUR,
      end: HOUR_END,
      runId: 'run-before-the-deploy',
      mode: 'scheduled',
      fetched: [],
    } as unknown as Parameters<typeof handler>[0];

    const error = await handler(event, {} as Context).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BadConfiguration);
    expect((error as Error).message).toMatch(
      /^The Commit step received an event it cannot read \(start: .*\) and did nothing\. Either the execution was started before a deploy that changed the events the steps exchange: start a new execution instead of redriving it/,
    );
  });
});
