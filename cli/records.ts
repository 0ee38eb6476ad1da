import { type CommitRecord, recordsOfHour } from '../functions/domain/commit-records.ts';
import { type StorageLayout, tenantLayout } from '../functions/domain/config.ts';
import { HOUR_MS } from '../functions/domain/hours.ts';
import { commitHourPrefix } from '../functions/domain/keys.ts';
import type { ObjectStore } from '../functions/domain/ports.ts';
import { windowOf } from '../functions/domain/windows.ts';
import { aws } from './errors.ts';

/**
 * The commit records of the windows that start in an hour, oldest first; empty when none was claimed.
 * An hour collected in whole-hour windows has one record (`commits/20261124T10.json`), one collected in
 * 5-minute windows up to twelve (`…T10.json`, `…T1005.json`, …).
 */
export type CommitRecords = (hour: number) => Promise<CommitRecord[]>;

/**
 * Whether an hour was published, as its commit records say: `published` when the windows they publish
 * cover the whole hour, `publishing` when some window of it was claimed but not every one is published
 * (a window being published, or windows not collected yet), or null when it has no record.
 */
export type HourStatus = CommitRecord['status'] | null;
export type HourRecords = (hour: number) => Promise<HourStatus>;

/**
 * Reads the commit records under WORK_PREFIX/commits/ with the collector's own reader: they remember a
 * published window even after the feed deleted its files, and who holds a window being published.
 */
export function commitRecords(config: StorageLayout, work: ObjectStore): CommitRecords {
  return (hour) =>
    aws(`S3 ListObjectsV2/GetObject s3://${work.bucket}/${commitHourPrefix(config, hour)}*`, () =>
      recordsOfHour({ config, work }, hour),
    );
}

/** Whether the published windows among `records` cover the hour (see {@link HourStatus}). */
export function hourStatus(hour: number, records: readonly CommitRecord[]): HourStatus {
  if (records.length === 0) return null;
  const published = records
    .filter((r) => r.status === 'published')
    .map((r) => windowOf(r.start, r.end, 'A commit record'))
    .sort((a, b) => a.start - b.start);
  let covered = hour;
  for (const w of published) {
    if (w.start > covered) break;
    covered = Math.max(covered, w.end);
  }
  return covered >= hour + HOUR_MS ? 'published' : 'publishing';
}

/** {@link commitRecords}, reduced to the hour's status. */
export function hourRecords(config: StorageLayout, work: ObjectStore): HourRecords {
  const read = commitRecords(config, work);
  return async (hour) => hourStatus(hour, await read(hour));
}

/**
 * Whether an hour was published, for some tenants: `tenants` (ids of the tenant list), or every listed
 * tenant when null. `published` only when every one's commit records cover the hour; `publishing` when
 * some record exists; null when none does. Without a tenant list (`listed` null), the environment's one
 * tenant, whatever `tenants` says.
 */
export type TenantRecords = (hour: number, tenants?: readonly string[] | null) => Promise<HourStatus>;

export function tenantRecords(
  config: StorageLayout,
  work: ObjectStore,
  listed: readonly string[] | null,
): TenantRecords {
  const single = hourRecords(config, work);
  const of = (id: string) => hourRecords(tenantLayout(config, id), work);
  return async (hour, tenants) => {
    if (listed === null) return single(hour);
    const ids = tenants ?? listed;
    const statuses = await Promise.all(ids.map((id) => of(id)(hour)));
    if (statuses.length > 0 && statuses.every((s) => s === 'published')) return 'published';
    return statuses.some((s) => s !== null) ? 'publishing' : null;
  };
}
