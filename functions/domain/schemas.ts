import { z } from 'zod';
import { parseHour } from './hours.ts';
import { parseMinute } from './windows.ts';

/**
 * The shapes the collector reads from outside its own memory: the JSON it keeps in S3 (the state file,
 * the commit records) and the events the state machine passes to its Tasks. Parsed, never cast: a value
 * of another shape is an error that names the field, not a crash three functions later.
 */

const hourText = z
  .string()
  .refine((text) => parseHour(text) !== null, 'expected a whole UTC hour such as "2026-11-24T10:00:00Z"');
const minuteText = z
  .string()
  .refine((text) => parseMinute(text) !== null, 'expected a whole UTC minute such as "2026-11-24T10:05:00Z"');
const count = z.number().int().nonnegative();

/** The state file: `last_hour_utc` as in Google's guide (so its users keep their place), plus context. */
export const stateFileSchema = z.looseObject({
  last_hour_utc: hourText,
  /** The end of the last window published (windows shorter than an hour); absent: the end of `last_hour_utc`. */
  last_window_end: minuteText.optional(),
  updated_at: z.string().optional(),
  updated_by: z.string().optional(),
  entities: z.array(z.string()).optional(),
  /** Entities an operator stopped collecting (removed from ENTITIES), with the first hour collected without them. */
  excluded_entities: z.array(z.object({ entity: z.string(), since: hourText })).optional(),
});
export type StateFile = z.infer<typeof stateFileSchema>;

/** Objects published and rows, per entity. */
const entityCounts = z.object({ objects: count, rows: count });
export type EntityCounts = z.infer<typeof entityCounts>;

/**
 * Who may publish the window now (`holder`, a run), until when. A local run adds its process (`host`,
 * `pid`); a Lambda has neither.
 */
const leaseSchema = z.object({
  holder: z.string(),
  until: z.string(),
  host: z.string().optional(),
  pid: z.number().int().positive().optional(),
});
export type Lease = z.infer<typeof leaseSchema>;

/**
 * The per-window commit record under WORK_PREFIX/commits/. It names the one run whose staged objects are
 * published (the claim), who may write them now (the lease), and whether that finished. It is never
 * deleted: it remembers the window after the feed has deleted the published files.
 */
export const commitRecordSchema = z.object({
  /** The window's start. */
  start: minuteText,
  /** The window's end. */
  end: minuteText,
  run: z.string().min(1),
  status: z.enum(['publishing', 'published']),
  entities: z.record(z.string(), entityCounts),
  claimed_at: z.string(),
  lease: leaseSchema,
  published_at: z.string().optional(),
  /**
   * A fresh claim not yet checked against the claims of overlapping windows (runs of another window size):
   * nothing of it is published before the check clears this.
   */
  unchecked: z.literal(true).optional(),
});
export type CommitRecord = z.infer<typeof commitRecordSchema>;

const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ENTITY = /^[A-Z][A-Za-z0-9]*$/;

/** One tenant of the tenant list. The client secret itself never is in it: only where to find it. */
export const tenantSchema = z
  .strictObject({
    id: z
      .string()
      .regex(TENANT_ID, 'expected 1 to 63 lower-case letters, digits and hyphens, such as "acme"'),
    customerId: z.string().trim().min(1, 'expected the Citrix Cloud customer ID'),
    clientId: z.string().trim().min(1, 'expected the API client ID'),
    clientSecretArn: z.string().trim().min(1).optional(),
    clientSecretEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')
      .optional(),
    apiBase: z.string().trim().min(1).optional(),
    entities: z
      .array(z.string().regex(ENTITY, 'expected a Monitor entity name such as "Sessions"'))
      .min(1)
      .refine((list) => new Set(list).size === list.length, 'lists an entity twice')
      .optional(),
  })
  .refine(
    (t) => (t.clientSecretArn === undefined) !== (t.clientSecretEnv === undefined),
    'expected exactly one of clientSecretArn (the Secrets Manager secret, in AWS) and clientSecretEnv (local runs)',
  );
export type Tenant = z.infer<typeof tenantSchema>;

/** The tenant list document (TENANTS_KEY): `{"tenants": [...]}`, each id once. */
export const tenantListSchema = z.strictObject({
  tenants: z
    .array(tenantSchema)
    .min(1, 'expected at least one tenant')
    .refine((list) => new Set(list.map((t) => t.id)).size === list.length, 'lists a tenant id twice'),
});

/** The tenant a Task works for: a listed tenant, or null (and, from older state machines, absent) for the environment's one tenant. */
const taskTenant = tenantSchema.nullish().transform((t) => t ?? null);

/** A tenant of the map over tenants: its index in the run's tenant list, or (state machines before run lists) its entry. */
const tenantRef = z
  .union([z.number().int().nonnegative(), tenantSchema])
  .nullish()
  .transform((t) => t ?? null);

/** The Tenants Task's event and the Plan Task's: the execution input and the execution name, which keys this run's staging. */
export const planEventSchema = z.object({
  input: z.looseObject({ hour: z.unknown().optional(), tenants: z.unknown().optional() }).nullish(),
  runId: z.string().min(1),
  tenant: tenantRef,
  /** Hours the tenant may catch up in this execution, from state machines that rationed them; MAX_HOURS_PER_RUN when absent. */
  maxHours: count.min(1).nullish(),
  /** The execution's start time ($$.Execution.StartTime): the plan's clock, so a redrive plans what the run planned. */
  startTime: z.string().nullish(),
  /** The revision of the definition that sent the event (revision.ts); absent from definitions before revisions. */
  definitionRevision: z.string().nullish(),
  /**
   * The start of the Express child execution the Plan runs in ($$.Execution.StartTime of the child): its
   * fetches must end by a deadline counted from it. Absent in a Standard child, which has no time box.
   */
  childStart: z.string().nullish(),
});
export type PlanEvent = z.infer<typeof planEventSchema>;

/** A failure the map over tenants caught: Step Functions' error name and cause. */
const caughtFailure = z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() });

/** The Failed Task's event: the tenant whose collection failed, the run, and what the map caught. */
export const failedEventSchema = z.object({
  tenant: tenantRef,
  runId: z.string().min(1),
  failure: caughtFailure,
});
export type FailedEvent = z.infer<typeof failedEventSchema>;

/**
 * The field under which the state machine keeps a failed Task's window and entity beside its caught error
 * (statemachine/collector.asl.ts, `failedAt`); their JSON leads the cause it raises again out of the maps.
 */
export const FAILED_AT = 'failedAt';

/** The window a Task failed in (its start and end, as the Task had them). */
const failedWindow = { start: minuteText, end: minuteText };

/** Where a window's FetchPages or Commit failed: its window, and the entity it fetched (null: Commit). */
export const failedAtSchema = z.object({ ...failedWindow, entity: z.string().nullable() });
export type FailedAt = z.infer<typeof failedAtSchema>;

/**
 * One failed tenant of a run, as the Failed step records it (WORK_PREFIX/runs/{run}/failed/) for the Report
 * step: its error's name and message, and where it failed, as fields: the window (null when the failure was
 * not in a window's steps: its plan, say) and the entity (null outside the fetch of one).
 */
export const tenantFailureSchema = z.object({
  tenant: z.string().nullable(),
  index: z.number().int().nonnegative().nullable(),
  error: z.string(),
  cause: z.string(),
  window: z.object(failedWindow).nullable(),
  entity: z.string().nullable(),
  at: z.string(),
});
export type TenantFailure = z.infer<typeof tenantFailureSchema>;

/**
 * Counts so far; `stalls` is how many invocations in a row ended their budget without a page (a run
 * that makes no progress must end, not loop).
 */
const progress = { requests: count, rows: count, bytes: count, stalls: count.optional() };
const keyValue = z.union([z.string().min(1), z.number().int()]);

/**
 * Where a page-fetch invocation stopped: the cursor of the first Citrix page not received (`after`, the
 * last key, when paging by key; `nextLink` when paging by the server's links), and the counts so far.
 */
export const continuationSchema = z.union([
  z.object({ after: keyValue.nullable(), objects: count, ...progress }),
  z.object({ nextLink: z.string().min(1), objects: count, ...progress }),
]);
export type Continuation = z.infer<typeof continuationSchema>;

/**
 * What an Express child had fetched of one entity of a window when its time box closed (resume.ts): done
 * (its staged objects stand), or its continuation.
 */
export const resumedEntitySchema = z.object({
  done: z.boolean(),
  objects: count,
  rows: count,
  bytes: count,
  continuation: continuationSchema.nullable(),
});

/**
 * A Standard child's window to carry on from what an Express child of the run kept: the window's start,
 * and each entity's state there. Its Plan reads it once; the fetches of that window start from it.
 */
export const carryOnSchema = z.object({
  window: z.string(),
  entities: z.record(z.string(), resumedEntitySchema),
});
export type CarryOn = z.infer<typeof carryOnSchema>;

/** The FetchPages Task's event: one entity-window of one run, and where to go on from. */
export const fetchTaskSchema = z.object({
  tenant: taskTenant,
  /** The window's start. */
  start: z.string(),
  /** The window's end. */
  end: z.string(),
  entity: z.string(),
  runId: z.string().min(1),
  continuation: continuationSchema.nullable(),
  /**
   * When the fetches of an Express child must stop (ISO time, from its Plan): past it, the task hands back
   * at once with `timeBoxClosed`. Absent or null in a Standard child.
   */
  deadline: z.string().nullish(),
  /** In a Standard child: the window an Express child of the run was cut on, and what it kept (Plan's). */
  carryOn: carryOnSchema.nullish(),
});
/** The tenant is the handler's business (it picks the collector); the domain works on one tenant's collector. */
type TenantOptional<T extends { tenant: unknown }> = Omit<T, 'tenant'> & { tenant?: T['tenant'] };
export type FetchTask = TenantOptional<z.infer<typeof fetchTaskSchema>>;

/** The Commit Task's event: the window (its start and end), the run, and what each entity's fetch staged. */
export const commitTaskSchema = z.object({
  tenant: taskTenant,
  start: z.string(),
  end: z.string(),
  runId: z.string().min(1),
  mode: z.enum(['scheduled', 'explicit']),
  fetched: z.array(
    z.object({
      entity: z.string(),
      objects: count,
      rows: count,
      /** In an Express child: where each entity's fetch stood when the time box closed (resume.ts). */
      bytes: count.optional(),
      done: z.boolean().optional(),
      timeBoxClosed: z.boolean().optional(),
      continuation: continuationSchema.nullish(),
    }),
  ),
});
export type CommitTask = TenantOptional<z.infer<typeof commitTaskSchema>>;

/**
 * What one Express child of the map over on-time tenants returns: `{}` when it collected or recorded its
 * failure, or `{"h": i}`, the tenant it hands on to a Standard child (its index, or null for the
 * environment's one tenant). Kept this small because the map's output holds one per tenant.
 */
const expressOutcome = z.looseObject({ h: z.number().int().nonnegative().nullable().optional() });

/** The Hand on Task's event: the run's state after the Express children, and what each returned. */
export const handOnEventSchema = z.looseObject({
  runId: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  startTime: z.string().nullish(),
  tenantConcurrency: z.number().int().positive(),
  total: z.number().int().positive(),
  tenants: z.array(z.number().int().nonnegative().nullable()),
  handedOn: z.array(expressOutcome),
});
export type HandOnEvent = z.infer<typeof handOnEventSchema>;

/** The Report Task's event: the state after the map over tenants, and the execution's redrive count now. */
export const reportEventSchema = z.object({
  state: z.looseObject({
    runId: z.string().min(1),
    input: z.record(z.string(), z.unknown()),
    startTime: z.string().nullish(),
    tenantConcurrency: z.number().int().positive(),
    total: z.number().int().positive(),
    collectedAtRedrive: count,
  }),
  redriveCount: count.nullish().transform((n) => n ?? 0),
  /** The revision of the definition that sent the event (revision.ts); absent from definitions before revisions. */
  definitionRevision: z.string().nullish(),
});
export type ReportEvent = z.infer<typeof reportEventSchema>;

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
