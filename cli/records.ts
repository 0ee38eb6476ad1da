import { type StorageLayout, tenantLayout } from '../functions/domain/config.ts';
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

/**
 * Whether an hour was published, for some tenants: `tenants` (ids of the tenant list), or every listed
 * tenant when null. `published` only when every one's commit record says so; `publishing` when some
 * record exists; null when none does. Without a tenant list (`listed` null), the environment's one
 * tenant, whatever `tenants` says.
 */
export type TenantRecords = (
  hour: number,
  tenants?: readonly string[] | null,
) => Promise<CommitRecord['status'] | null>;

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
