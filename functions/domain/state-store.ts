import type { Config } from './config.ts';
import { StateCorrupt } from './errors.ts';
import { formatHour, HOUR_MS, parseHour } from './hours.ts';
import type { ObjectStore } from './ports.ts';
import { describeIssues, type StateFile, stateFileSchema } from './schemas.ts';
import { formatMinute, parseMinute } from './windows.ts';

export type { StateFile };

export interface State {
  /** The newest whole hour committed (`last_hour_utc`), or null when there is no state file yet. */
  readonly lastHourMs: number | null;
  /**
   * The end of the newest window committed: where the next window starts. `last_window_end`, or the end of
   * `last_hour_utc` in a file written before windows (or whose `last_hour_utc` was set by hand since).
   */
  readonly end: number | null;
  /** ETag of the state file for the compare-and-swap, or null when it does not exist. */
  readonly etag: string | null;
  /** The file as read, for the fields beyond `last_hour_utc`. */
  readonly file: Partial<StateFile> | null;
}

/** Reads the state file; a file that exists but cannot be understood is {@link StateCorrupt}, never "no state". */
export async function readState(
  store: Pick<ObjectStore, 'bucket' | 'get'>,
  config: Pick<Config, 'stateKey'>,
): Promise<State> {
  const found = await store.get(config.stateKey);
  if (!found) return { lastHourMs: null, end: null, etag: null, file: null };
  const where = `s3://${store.bucket}/${config.stateKey}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(found.body.toString('utf8'));
  } catch {
    throw new StateCorrupt(
      `The state file ${where} is not valid JSON. Restore it, or write {"last_hour_utc": "YYYY-MM-DDTHH:00:00Z"} with the last hour that was collected; nothing was collected or published.`,
    );
  }
  const file = stateFileSchema.safeParse(parsed);
  const hour = file.success ? parseHour(file.data.last_hour_utc) : null;
  if (!file.success || hour === null) {
    const text =
      typeof parsed === 'object' && parsed !== null && 'last_hour_utc' in parsed
        ? parsed.last_hour_utc
        : null;
    const why = file.success ? '' : ` (${describeIssues(file.error)})`;
    throw new StateCorrupt(
      `The state file ${where} has no valid "last_hour_utc" (found ${JSON.stringify(text ?? null)})${why}: expected a whole UTC hour such as "2026-11-24T10:00:00Z". Fix the file; nothing was collected or published.`,
    );
  }
  return { lastHourMs: hour, end: endOf(hour, file.data.last_window_end), etag: found.etag, file: file.data };
}

/**
 * Where the state is: `last_window_end` when it lies within the hour after `last_hour_utc` (the last whole
 * hour published), as the collector writes it; otherwise the end of `last_hour_utc`, so that an operator
 * who sets `last_hour_utc` by hand (as docs/secops-feed.md says, to go back or forward) moves the state.
 */
function endOf(lastHour: number, windowEnd: string | undefined): number {
  const end = windowEnd === undefined ? null : parseMinute(windowEnd);
  return end !== null && end >= lastHour + HOUR_MS && end < lastHour + 2 * HOUR_MS ? end : lastHour + HOUR_MS;
}

/** The last whole hour published when the windows published end at `end`. */
export const lastWholeHour = (end: number) => Math.floor(end / HOUR_MS) * HOUR_MS - HOUR_MS;

/** Where a state file is written: the work bucket, and the key in it. */
export interface StateFileAt {
  readonly work: Pick<ObjectStore, 'putIf'>;
  readonly config: Pick<Config, 'stateKey'>;
}

/** A move of the state: from the state as read to the end of the window published. */
export interface StateMove {
  /** The state as read: its ETag makes the write a compare-and-swap. */
  readonly previous: State;
  readonly end: number;
}

/**
 * Advances the state file to the window that ends at `end` with a compare-and-swap: `If-Match` on the ETag
 * that was read, or `If-None-Match: *` when there was no file. Returns false if another writer got there
 * first. `last_hour_utc` stays what Google's guide made it, the last whole hour published.
 */
export async function writeState(
  { work: store, config }: StateFileAt,
  { previous, end }: StateMove,
  context: Omit<StateFile, 'last_hour_utc' | 'last_window_end'>,
): Promise<boolean> {
  const body: StateFile = {
    last_hour_utc: formatHour(lastWholeHour(end)),
    last_window_end: formatMinute(end),
    ...context,
  };
  // Some S3-compatible servers (Ceph RGW 16) refuse a quoted ETag in If-Match; AWS accepts both forms.
  const condition = previous.etag === null ? ({ ifNoneMatch: '*' } as const) : { ifMatch: previous.etag };
  const outcome = await store.putIf(config.stateKey, `${JSON.stringify(body, null, 2)}\n`, condition);
  return outcome.written;
}

/**
 * Which entities were deliberately left out: those the previous state collected that ENTITIES no longer
 * lists, kept with the first hour collected without them until they are listed again. The collector
 * never drops an entity on its own; this records an operator's choice where the next reader looks.
 */
export function excludedEntities(
  previous: Partial<StateFile> | null,
  entities: readonly string[],
  hour: string,
): StateFile['excluded_entities'] {
  const kept = (previous?.excluded_entities ?? []).filter((e) => !entities.includes(e.entity));
  const dropped = (previous?.entities ?? []).filter(
    (e) => !entities.includes(e) && !kept.some((k) => k.entity === e),
  );
  return [...kept, ...dropped.map((entity) => ({ entity, since: hour }))];
}
