import type { Config } from './config.ts';
import { hourParts } from './hours.ts';

type Layout = Pick<Config, 'prefix' | 'workPrefix' | 'stagingPrefix' | 'compression'>;

function extension(layout: Layout): string {
  return layout.compression === 'gzip' ? '.ndjson.gz' : '.ndjson';
}

function hourStamp(hourMs: number): string {
  const p = hourParts(hourMs);
  return `${p.year}${p.month}${p.day}T${p.hour}`;
}

/**
 * The published key of one page: `{prefix}/{Entity}/year=YYYY/month=MM/day=DD/hour=HH/{name}`.
 * The name depends only on (hour, entity, page), so a retry can never publish the same rows under a
 * second name, and a conditional write can refuse to publish it twice.
 */
export function publishedKey(layout: Layout, entity: string, hourMs: number, page: number): string {
  const p = hourParts(hourMs);
  const name = `${entity}_${hourStamp(hourMs)}_${String(page).padStart(5, '0')}${extension(layout)}`;
  return `${layout.prefix}/${entity}/year=${p.year}/month=${p.month}/day=${p.day}/hour=${p.hour}/${name}`;
}

/**
 * Where one run stages a page before the hour is published. Keyed by run (the execution name), so
 * two executions collecting the same hour never overwrite each other's pages; a redrive keeps the
 * execution name and so finds its own pages again.
 */
export function stagingKey(
  layout: Layout,
  runId: string,
  entity: string,
  hourMs: number,
  page: number,
): string {
  return `${stagingRunPrefix(layout, runId, hourMs)}${entity}/${String(page).padStart(5, '0')}${extension(layout)}`;
}

/** Everything one run staged for one hour, removed once the hour is published. */
export function stagingRunPrefix(layout: Layout, runId: string, hourMs: number): string {
  return `${layout.stagingPrefix}/${hourStamp(hourMs)}/${runId}/`;
}

/** The per-hour commit record: who claimed the hour, what it publishes, and whether it finished. */
export function commitKey(layout: Layout, hourMs: number): string {
  return `${layout.workPrefix}/commits/${hourStamp(hourMs)}.json`;
}
