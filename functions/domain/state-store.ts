import type { Config } from './config.ts';
import { StateCorrupt } from './errors.ts';
import { formatHour, parseHour } from './hours.ts';
import type { ObjectStore } from './ports.ts';
import { describeIssues, type StateFile, stateFileSchema } from './schemas.ts';

export type { StateFile };

export interface State {
  /** The newest committed hour, or null when there is no state file yet. */
  readonly lastHour: number | null;
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
  if (!found) return { lastHour: null, etag: null, file: null };
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
    const text = (parsed as { last_hour_utc?: unknown } | null)?.last_hour_utc;
    const why = file.success ? '' : ` (${describeIssues(file.error)})`;
    throw new StateCorrupt(
      `The state file ${where} has no valid "last_hour_utc" (found ${JSON.stringify(text ?? null)})${why}: expected a whole UTC hour such as "2026-11-24T10:00:00Z". Fix the file; nothing was collected or published.`,
    );
  }
  return { lastHour: hour, etag: found.etag, file: file.data };
}

/**
 * Advances the state file to `hour` with a compare-and-swap: `If-Match` on the ETag that was read, or
 * `If-None-Match: *` when there was no file. Returns false if another writer got there first.
 */
export async function writeState(
  store: Pick<ObjectStore, 'putIf'>,
  config: Pick<Config, 'stateKey'>,
  previous: State,
  hour: number,
  context: Omit<StateFile, 'last_hour_utc'>,
): Promise<boolean> {
  const body: StateFile = { last_hour_utc: formatHour(hour), ...context };
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
