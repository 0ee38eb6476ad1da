import type { Config } from './config.ts';
import { hourParts } from './hours.ts';
import { claimStamp, type Window, windowStamp } from './windows.ts';

type Layout = Pick<Config, 'prefix' | 'workPrefix' | 'stagingPrefix' | 'compression'>;

function extension(layout: Layout): string {
  return layout.compression === 'gzip' ? '.ndjson.gz' : '.ndjson';
}

/** Which object: of which entity and window, and its index among the window's objects of that entity. */
export interface ObjectPlace {
  readonly entity: string;
  readonly window: Window;
  readonly object: number;
}

/**
 * The published key of one staged object (a group of Citrix pages' rows):
 * `{prefix}/{Entity}/year=YYYY/month=MM/day=DD/hour=HH/{name}`, in the folder of the window's hour. The
 * name depends only on (window, entity, object index), so a retry can never
 * publish the same rows under a second name, and a conditional write can refuse to publish it twice; a
 * whole hour keeps the name it always had (`Sessions_20261124T10_00000`), a shorter window has its start
 * minute in it (`Sessions_20261124T1005_00000`), so a folder's names sort by window start.
 */
export function publishedKey(layout: Layout, { entity, window, object }: ObjectPlace): string {
  const p = hourParts(window.start);
  const name = `${entity}_${windowStamp(window)}_${String(object).padStart(5, '0')}${extension(layout)}`;
  return `${layout.prefix}/${entity}/year=${p.year}/month=${p.month}/day=${p.day}/hour=${p.hour}/${name}`;
}

/**
 * Where one run stages an object before its window is published. Keyed by run (the execution name), so
 * two executions collecting the same window never overwrite each other's objects; a redrive keeps the
 * execution name and so finds its own objects again.
 */
export function stagingKey(layout: Layout, runId: string, { entity, window, object }: ObjectPlace): string {
  return `${stagingRunPrefix(layout, runId, window)}${entity}/${String(object).padStart(5, '0')}${extension(layout)}`;
}

/** Everything one run staged for one window, removed once the window is published. */
export function stagingRunPrefix(layout: Layout, runId: string, window: Window): string {
  return `${layout.stagingPrefix}/${windowStamp(window)}/${runId}/`;
}

/**
 * The commit record of the window that starts at `startMs`: who claimed it, what it publishes, and whether
 * it finished. Keyed by the start alone (`commits/20261124T10.json` on the hour, as always,
 * `commits/20261124T1005.json` otherwise): one claim per start, whatever the window's size.
 */
export function commitKey(layout: Layout, startMs: number): string {
  return `${layout.workPrefix}/commits/${claimStamp(startMs)}.json`;
}

/** The commit records of the windows that start in the hour `hourMs`: `commits/20261124T10`… */
export function commitHourPrefix(layout: Layout, hourMs: number): string {
  return `${layout.workPrefix}/commits/${claimStamp(hourMs)}`;
}

/** The window start a commit record's key names (`…/commits/20261124T10.json`, `…/20261124T1005.json`). */
export function startOfCommitKey(key: string): number | null {
  const m = /\/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})?\.json$/.exec(key);
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5] ?? 0));
}
