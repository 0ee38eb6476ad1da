import { describe, expect, it } from 'vitest';
import {
  type Collector,
  type FetchResult,
  type FetchTask,
  fetchPages,
  MAX_STALLS,
} from '../../functions/domain/collector.ts';
import { CitrixTransient } from '../../functions/domain/errors.ts';
import { OutOfTime, type Page } from '../../functions/domain/ports.ts';
import { memoryCollector } from '../fixtures/memory-collector.ts';

// fetchPages over a Citrix port whose every request is still being retried when the invocation's
// budget ends (a server slower than FETCH_BUDGET_SECONDS, or 429s asking for longer waits). The
// integration tests run the real client against the stand-in; this is the case they cannot reach fast.

const HOUR = '2026-11-24T10:00:00Z';
const HOUR_END = '2026-11-24T11:00:00Z';
const neverInTime: Collector = memoryCollector(
  { ENTITIES: 'Sessions' },
  {
    firstPageUrl: () => 'first',
    keyPageUrl: () => 'next',
    resolveNextLink: (link) => link,
    fetchPage: async (): Promise<Page> => {
      throw new OutOfTime('the budget ended during the retries');
    },
  },
);

describe('fetchPages when no page comes within a budget', () => {
  it('hands back the same cursor, counting the invocations that made no progress', async () => {
    const first = await fetchPages(
      neverInTime,
      { start: HOUR, end: HOUR_END, entity: 'Sessions', runId: 'r', continuation: null },
      0,
    );

    expect(first).toMatchObject({
      done: false,
      rows: 0,
      objects: 0,
      continuation: { after: null, stalls: 1 },
    });
  });

  it(`fails the entity with CitrixTransient after ${MAX_STALLS} such invocations in a row, instead of looping`, async () => {
    let result: FetchResult | null = null;
    let failure: unknown;
    for (let n = 0; n < MAX_STALLS && failure === undefined; n++) {
      const task: FetchTask = {
        start: HOUR,
        end: HOUR_END,
        entity: 'Sessions',
        runId: 'r',
        continuation: result?.continuation ?? null,
      };
      result = await fetchPages(neverInTime, task, 0).catch((err: unknown) => {
        failure = err;
        return result;
      });
    }

    expect(failure).toBeInstanceOf(CitrixTransient);
    expect(failure).toMatchObject({ window: HOUR, entity: 'Sessions' });
    expect((failure as Error).message).toContain(
      `Hour ${HOUR}, entity Sessions: no Citrix page came in ${MAX_STALLS} invocations`,
    );
  });
});
