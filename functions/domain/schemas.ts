import { z } from 'zod';
import { parseHour } from './hours.ts';

/**
 * The shapes the collector reads from outside its own memory: the JSON it keeps in S3 (the state file,
 * the commit records) and the events the state machine passes to its Tasks. Parsed, never cast: a value
 * of another shape is an error that names the field, not a crash three functions later.
 */

const hourText = z
  .string()
  .refine((text) => parseHour(text) !== null, 'expected a whole UTC hour such as "2026-11-24T10:00:00Z"');
const count = z.number().int().nonnegative();

/** The state file: `last_hour_utc` as in Google's guide (so its users keep their place), plus context. */
export const stateFileSchema = z.looseObject({
  last_hour_utc: hourText,
  updated_at: z.string().optional(),
  updated_by: z.string().optional(),
  entities: z.array(z.string()).optional(),
  /** Entities an operator stopped collecting (removed from ENTITIES), with the first hour collected without them. */
  excluded_entities: z.array(z.object({ entity: z.string(), since: hourText })).optional(),
});
export type StateFile = z.infer<typeof stateFileSchema>;

/**
 * Objects published and rows, per entity. Records and task results written before staged objects had a
 * name of their own call the objects `pages`: they read the same.
 */
const entityCounts = z.union([
  z.object({ objects: count, rows: count }),
  z.object({ pages: count, rows: count }).transform(({ pages, rows }) => ({ objects: pages, rows })),
]);
export type EntityCounts = z.infer<typeof entityCounts>;

/**
 * Who may publish the hour now (`holder`, a run), until when. A local run adds its process (`host`,
 * `pid`); a Lambda, and every record written before they existed, has neither.
 */
const leaseSchema = z.object({
  holder: z.string(),
  until: z.string(),
  host: z.string().optional(),
  pid: z.number().int().positive().optional(),
});
export type Lease = z.infer<typeof leaseSchema>;

/**
 * The per-hour commit record under WORK_PREFIX/commits/. It names the one run whose staged objects are
 * published (the claim), who may write them now (the lease), and whether that finished. It is never
 * deleted: it remembers the hour after the feed has deleted the published files.
 */
export const commitRecordSchema = z.object({
  hour: hourText,
  run: z.string().min(1),
  status: z.enum(['publishing', 'published']),
  entities: z.record(z.string(), entityCounts),
  claimed_at: z.string(),
  lease: leaseSchema,
  published_at: z.string().optional(),
});
export type CommitRecord = z.infer<typeof commitRecordSchema>;

/** The Plan Task's event: the execution input and the execution name, which keys this run's staging. */
export const planEventSchema = z.object({
  input: z.looseObject({ hour: z.unknown().optional() }).nullish(),
  runId: z.string().min(1),
});
export type PlanEvent = z.infer<typeof planEventSchema>;

/**
 * Counts so far; `stalls` is how many invocations in a row ended their budget without a page (a run
 * that makes no progress must end, not loop).
 */
const progress = { requests: count, rows: count, bytes: count, stalls: count.optional() };
const keyValue = z.union([z.string().min(1), z.number().int()]);

/**
 * Where a page-fetch invocation stopped: the cursor of the first Citrix page not received (`after`, the
 * last key, when paging by key; `nextLink` when paging by the server's links), and the counts so far.
 * A continuation written before objects had their own name holds the next object's index in `page`.
 */
const continuationSchema = z.union([
  z.object({ after: keyValue.nullable(), objects: count, ...progress }),
  z.object({ nextLink: z.string().min(1), objects: count, ...progress }),
  z
    .object({ nextLink: z.string().min(1), page: count, ...progress })
    .transform(({ page, ...rest }) => ({ ...rest, objects: page })),
]);
export type Continuation = z.infer<typeof continuationSchema>;

/** The FetchPages Task's event: one entity-hour of one run, and where to go on from. */
export const fetchTaskSchema = z.object({
  hour: z.string(),
  entity: z.string(),
  runId: z.string().min(1),
  continuation: continuationSchema.nullable(),
});
export type FetchTask = z.infer<typeof fetchTaskSchema>;

/** The Commit Task's event: the hour, the run, and what each entity's fetch staged. */
export const commitTaskSchema = z.object({
  hour: z.string(),
  runId: z.string().min(1),
  mode: z.enum(['scheduled', 'explicit']),
  fetched: z.array(
    z.union([
      z.object({ entity: z.string(), objects: count, rows: count }),
      z
        .object({ entity: z.string(), pages: count, rows: count })
        .transform(({ pages, ...rest }) => ({ ...rest, objects: pages })),
    ]),
  ),
});
export type CommitTask = z.infer<typeof commitTaskSchema>;

/** One problem a schema found: Zod's issues and Standard Schema's (what Powertools' parser reports) alike. */
interface Issue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** A one-line account of what does not fit a schema: each field path and what was wrong with it. */
export function describeIssues(issues: z.ZodError | readonly Issue[]): string {
  const list: readonly Issue[] = issues instanceof z.ZodError ? issues.issues : issues;
  return list
    .map((issue) => {
      const path = (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p));
      return `${path.length ? path.join('.') : '(the whole value)'}: ${issue.message}`;
    })
    .join('; ');
}
