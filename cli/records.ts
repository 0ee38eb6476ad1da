import type { StorageLayout } from '../functions/domain/config.ts';
import { commitKey } from '../functions/domain/keys.ts';
import type { ObjectStore } from '../functions/domain/ports.ts';
import { type CommitRecord, readRecord } from '../functions/domain/publish.ts';
import { aws } from './errors.ts';

/** An hour's commit record, or null when the hour was never claimed. */
export type CommitRecords = (hour: number) => Promise<CommitRecord | null>;

/** Whether an hour was published, as its commit record says: `published`, `publishing`, or null (no record). */
export type HourRecords = (hour: number) => Promise<CommitRecord['status'] | null>;

/**
 * Reads the commit records under WORK_PREFIX/commits/ with the collector's own reader: they remember a
 * published hour even after the feed deleted its files, and who holds an hour being published.
 */
export function commitRecords(config: StorageLayout, work: ObjectStore): CommitRecords {
  return async (hour) => {
    const where = `S3 GetObject s3://${work.bucket}/${commitKey(config, hour)}`;
    return (await aws(where, () => readRecord({ config, work }, hour)))?.record ?? null;
  };
}

/** {@link commitRecords}, reduced to the status. */
export function hourRecords(config: StorageLayout, work: ObjectStore): HourRecords {
  const read = commitRecords(config, work);
  return async (hour) => (await read(hour))?.status ?? null;
}
