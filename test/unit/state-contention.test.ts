/**
 * A commit whose compare-and-swap of the state file keeps losing to another writer, over in-memory stores
 * (test/fixtures/memory-collector.ts): the other writer is a store that refuses every conditional write of
 * the state file, as S3 does when someone else wrote it first. No Citrix call is made.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_CONTRACT } from '../../functions/domain/errors.ts';
import { commitWindow } from '../../functions/domain/publish.ts';
import { memoryCollector } from '../fixtures/memory-collector.ts';
import { MemoryStore } from '../fixtures/memory-store.ts';

/** A work bucket where another writer always gets to the state file first. */
class ContendedState extends MemoryStore {
  private readonly stateKey: string;
  constructor(stateKey: string) {
    super();
    this.stateKey = stateKey;
  }
  override async putIf(...args: Parameters<MemoryStore['putIf']>) {
    return args[0] === this.stateKey ? { written: false as const } : super.putIf(...args);
  }
}

describe('a state file that keeps changing while a window is committed', () => {
  it('fails the commit with StateContended, which the state machine retries, not StateCorrupt', async () => {
    const c = memoryCollector(
      { ENTITIES: 'Sessions' },
      {
        firstPageUrl: () => 'unused',
        keyPageUrl: () => 'unused',
        resolveNextLink: (link) => link,
        fetchPage: () => Promise.reject(new Error('a commit calls no Citrix API')),
      },
    );
    const contended = { ...c, work: new ContendedState(c.config.stateKey) };

    const error = await commitWindow(contended, {
      start: '2026-11-24T10:00Z',
      end: '2026-11-24T11:00Z',
      runId: 'run-1',
      mode: 'scheduled',
      fetched: [{ entity: 'Sessions', objects: 0, rows: 0 }],
    }).catch((err: unknown) => err);

    expect(error).toMatchObject({
      name: 'StateContended',
      message: expect.stringMatching(/kept changing.*run again/),
    });
    expect(ERROR_CONTRACT.StateContended.treatment).toBe('retriable');
  });
});
