import { describe, expect, it } from 'vitest';
import { commitKey, publishedKey, stagingKey, stagingRunPrefix } from '../../functions/domain/keys.ts';

const plain = {
  prefix: 'citrix_monitor',
  workPrefix: 'collector-work/citrix_monitor',
  stagingPrefix: 'collector-work/citrix_monitor/staging',
  compression: 'none',
} as const;
const gzipped = { ...plain, compression: 'gzip' } as const;
const start = Date.parse('2026-11-24T10:00:00Z');
/** The whole hour 10:00-11:00. */
const hour = { start, end: start + 3_600_000 };

describe('publishedKey', () => {
  it('lays an object out by entity and hour, the way the SecOps feed reads it', () => {
    expect(publishedKey(plain, { entity: 'Sessions', window: hour, object: 3 })).toBe(
      'citrix_monitor/Sessions/year=2026/month=11/day=24/hour=10/Sessions_20261124T10_00003.ndjson',
    );
  });

  it('ends in .ndjson.gz when objects are compressed', () => {
    expect(publishedKey(gzipped, { entity: 'Sessions', window: hour, object: 3 })).toBe(
      'citrix_monitor/Sessions/year=2026/month=11/day=24/hour=10/Sessions_20261124T10_00003.ndjson.gz',
    );
  });

  it('pads the calendar parts of an early hour in January', () => {
    const early = Date.parse('2027-01-05T03:00:00Z');

    expect(
      publishedKey(plain, {
        entity: 'Machines',
        window: { start: early, end: early + 3_600_000 },
        object: 1,
      }),
    ).toBe('citrix_monitor/Machines/year=2027/month=01/day=05/hour=03/Machines_20270105T03_00001.ndjson');
  });

  it('gives the same key for the same hour, entity and object, so a retry cannot publish twice', () => {
    expect(publishedKey(plain, { entity: 'Sessions', window: hour, object: 3 })).toBe(
      publishedKey(plain, { entity: 'Sessions', window: hour, object: 3 }),
    );
  });

  it('gives each object of an hour its own key', () => {
    expect(publishedKey(plain, { entity: 'Sessions', window: hour, object: 1 })).not.toBe(
      publishedKey(plain, { entity: 'Sessions', window: hour, object: 2 }),
    );
  });
});

describe('staging and commit keys', () => {
  it('never lie under the published prefix the feed ingests', () => {
    const keys = [
      stagingKey(plain, 'run-a', { entity: 'Sessions', window: hour, object: 3 }),
      stagingRunPrefix(plain, 'run-a', hour),
      commitKey(plain, start),
    ];

    expect(keys.filter((key) => key.startsWith('citrix_monitor/'))).toEqual([]);
  });

  it('stage an object under the run prefix of its hour, so that removing the prefix removes it', () => {
    expect(stagingKey(plain, 'run-a', { entity: 'Sessions', window: hour, object: 3 })).toBe(
      `${stagingRunPrefix(plain, 'run-a', hour)}Sessions/00003.ndjson`,
    );
  });

  it('give the same staging key for the same run, so a redrive finds its own objects', () => {
    expect(stagingKey(plain, 'run-a', { entity: 'Sessions', window: hour, object: 3 })).toBe(
      stagingKey(plain, 'run-a', { entity: 'Sessions', window: hour, object: 3 }),
    );
  });

  it('give two runs of the same hour different staging keys', () => {
    expect(stagingKey(plain, 'run-a', { entity: 'Sessions', window: hour, object: 3 })).not.toBe(
      stagingKey(plain, 'run-b', { entity: 'Sessions', window: hour, object: 3 }),
    );
  });

  it('keep one commit record per hour under the work prefix', () => {
    expect(commitKey(plain, start)).toBe('collector-work/citrix_monitor/commits/20261124T10.json');
  });
});
