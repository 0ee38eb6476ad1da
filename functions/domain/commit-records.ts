import type { StorageLayout } from './config.ts';
import { StateCorrupt } from './errors.ts';
import { commitHourPrefix, commitKey, startOfCommitKey } from './keys.ts';
import type { ObjectStore } from './ports.ts';
import { type CommitRecord, commitRecordSchema, describeIssues } from './schemas.ts';
import { formatMinute, windowOf } from './windows.ts';

/**
 * Reading the commit records under WORK_PREFIX/commits/: what the plan, the commit and the CLI know of
 * the windows claimed and published. One record per window start (see {@link commitKey}).
 */

export type { CommitRecord };

/** The commit record of the window that starts at `start`. */
export async function readRecord(
  c: { readonly config: StorageLayout; readonly work: Pick<ObjectStore, 'bucket' | 'get'> },
  start: number,
): Promise<{ record: CommitRecord; etag: string } | null> {
  const key = commitKey(c.config, start);
  const found = await c.work.get(key);
  if (!found) return null;
  const corrupt = (why: string) =>
    new StateCorrupt(
      `The commit record s3://${c.work.bucket}/${key} cannot be read (${why}). It says whether the window that starts at ${formatMinute(start)} was published; check the published prefix for that hour, then fix or delete the record.`,
    );
  let json: unknown;
  try {
    json = JSON.parse(found.body.toString('utf8'));
  } catch {
    throw corrupt('not valid JSON');
  }
  const parsed = commitRecordSchema.safeParse(json);
  if (!parsed.success) throw corrupt(describeIssues(parsed.error));
  const recorded = windowOf(parsed.data.start, parsed.data.end, 'its window');
  if (recorded.start !== start) throw corrupt(`it is the record of the window at ${parsed.data.start}`);
  return { record: parsed.data, etag: found.etag };
}

/** The commit records of the windows that start in the hour `hourMs`, oldest first. */
export async function recordsOfHour(
  c: { readonly config: StorageLayout; readonly work: Pick<ObjectStore, 'bucket' | 'get' | 'list'> },
  hourMs: number,
): Promise<CommitRecord[]> {
  const starts = (await c.work.list(commitHourPrefix(c.config, hourMs)))
    .map(startOfCommitKey)
    .filter((start): start is number => start !== null)
    .sort((a, b) => a - b);
  const found = await Promise.all(starts.map((start) => readRecord(c, start)));
  return found.flatMap((f) => (f ? [f.record] : []));
}
