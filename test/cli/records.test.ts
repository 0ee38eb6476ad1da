/**
 * Whether an hour is published, from the commit records of its windows (cli/records.ts): read from a real
 * S3 server (s3rver) as the CLI reads them, and decided by whether the published windows cover the hour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitRecords, hourStatus } from '../../cli/records.ts';
import { s3ClientFromEnv } from '../../functions/adapters/collectors.ts';
import { s3Store } from '../../functions/adapters/s3-store.ts';
import { loadLayout } from '../../functions/domain/config.ts';
import type { CommitRecord } from '../../functions/domain/publish.ts';
import { BUCKET, hour, REGION, startS3, stopS3, world } from './world.ts';

beforeAll(startS3);
afterAll(stopS3);

const H = hour('2026-11-24T10:00:00Z');

/** A record of the window `start`..`end` (minutes of the hour 10:00). */
const record = (start: number, end: number, status: CommitRecord['status'] = 'published'): CommitRecord => {
  const at = (minute: number) => new Date(H + minute * 60_000).toISOString().replace('.000Z', 'Z');
  return {
    start: at(start),
    end: at(end),
    run: 'run-1',
    status,
    entities: {},
    claimed_at: '2026-11-24T11:00:00.000Z',
    lease: { holder: 'run-1', until: '2026-11-24T11:20:00.000Z' },
  };
};

describe('hourStatus', () => {
  it.each([
    ['no record', [], null],
    ['the whole hour, one 60-minute window', [record(0, 60)], 'published'],
    ['twelve 5-minute windows', Array.from({ length: 12 }, (_, i) => record(i * 5, i * 5 + 5)), 'published'],
    ['windows of sizes changed mid-hour', [record(30, 60), record(0, 5), record(5, 30)], 'published'],
    ['its first 5-minute window alone', [record(0, 5)], 'publishing'],
    ['a gap: 10:05..10:10 not claimed', [record(0, 5), record(10, 60)], 'publishing'],
    ['a window still being published', [record(0, 30), record(30, 60, 'publishing')], 'publishing'],
  ])('%s', (_, records, expected) => {
    expect(hourStatus(H, records as CommitRecord[])).toBe(expected);
  });
});

describe('commitRecords', () => {
  it("reads every window record of the hour, oldest first, and no other hour's", async () => {
    const w = world({ WINDOW_MINUTES: '5' });
    await w.writeRecord('2026-11-24T10:55:00Z', 'published', undefined, { end: '2026-11-24T11:00:00Z' });
    await w.writeRecord('2026-11-24T10:00:00Z', 'published', undefined, { end: '2026-11-24T10:05:00Z' });
    await w.writeRecord('2026-11-24T10:05:00Z', 'publishing', undefined, { end: '2026-11-24T10:10:00Z' });
    await w.writeRecord('2026-11-24T11:00:00Z', 'published', undefined, { end: '2026-11-24T11:05:00Z' });
    const store = s3Store(s3ClientFromEnv({ ...w.env, AWS_REGION: REGION }), BUCKET);

    const records = await commitRecords(loadLayout(w.env), store)(H);

    expect(records.map((r) => [r.start, r.end, r.status])).toEqual([
      ['2026-11-24T10:00:00Z', '2026-11-24T10:05:00Z', 'published'],
      ['2026-11-24T10:05:00Z', '2026-11-24T10:10:00Z', 'publishing'],
      ['2026-11-24T10:55:00Z', '2026-11-24T11:00:00Z', 'published'],
    ]);
  });
});
