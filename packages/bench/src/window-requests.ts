/**
 * The S3 requests of one tenant-window: `npx tsx packages/bench/src/window-requests.ts`.
 *
 * One tenant, five entities with rows, 5-minute windows, against s3rver behind the counting proxy
 * (s3-counter.ts) and the Citrix stand-in. The windows of the hour before the one measured are collected
 * first, so the plan and the overlap check meet the commit records a mid-hour window meets; then one window
 * is collected (plan, fetchPages per entity, commitWindow: one-window.ts) and its requests are printed by
 * operation, as the proxy counted them, and by purpose, as the S3 client sent them (every attempt, retries
 * included). PUT, COPY, POST (DeleteObjects too) and LIST are billed in one tier, GET and HEAD in another;
 * a DELETE of one object is free.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { s3ClientFromEnv } from '../../../functions/adapters/collectors.ts';
import { collectorFromEnv } from '../../../functions/adapters/lambda.ts';
import { silentTelemetry } from '../../../functions/adapters/telemetry.ts';
import { collectDue, type Step } from './one-window.ts';
import { classify, type S3Requests } from './s3-counter.ts';
import { BUCKET, ENTITIES, HOUR_MS, iso, STATE_KEY, withServers } from './servers.ts';

const MINUTE_MS = 60_000;
const WINDOW_MINUTES = 5;
const SETTLE_MINUTES = 15;
/** The window measured: the seventh of its hour, after six windows already committed. */
const MEASURED = 6;
/** Rows per entity per hour: 100 per 5-minute window, one staged object each. */
const ROWS_PER_HOUR = 1200;

const PUT_TIER: ReadonlyArray<keyof S3Requests> = ['put', 'copy', 'post', 'list', 'deleteObjects'];
const GET_TIER: ReadonlyArray<keyof S3Requests> = ['get', 'head', 'other'];
const FREE: ReadonlyArray<keyof S3Requests> = ['delete'];
const LABEL: Record<keyof S3Requests, string> = {
  put: 'PUT',
  copy: 'COPY',
  post: 'POST',
  list: 'LIST',
  deleteObjects: 'DeleteObjects',
  get: 'GET',
  head: 'HEAD',
  delete: 'DELETE',
  other: 'other',
};

/** One S3 request as sent: what it reads from a request to tell what it is for. */
interface SentRequest {
  /** Its kind, as the counter classifies it. */
  readonly kind: keyof S3Requests;
  /** The object key it names, '' on the bucket. */
  readonly key: string;
  readonly query: URLSearchParams;
  /** Its headers, its conditions among them (and x-bench-published on a record marked published). */
  readonly headers: Headers;
  readonly body: string;
}

/** What one request is for, from its key, its conditions and the step that sent it. */
function purposeOf(step: Step, { kind, key, query, headers, body }: SentRequest) {
  // A DeleteObjects names its keys in its body.
  const about = kind === 'deleteObjects' ? body : key === '' ? (query.get('prefix') ?? '') : key;
  const where = about.includes('/staging/')
    ? 'staging'
    : about.includes('/commits/')
      ? 'commit record'
      : about === STATE_KEY
        ? 'state'
        : query.has('versions')
          ? 'published key, versions'
          : query.has('versioning')
            ? 'bucket versioning'
            : about;
  if (kind === 'put' && where === 'commit record') {
    if (headers.get('if-none-match')) return 'commit: claim (If-None-Match)';
    return `commit: ${headers.get('x-bench-published') ? 'record marked published' : 'claim checked'} (If-Match)`;
  }
  if (kind === 'put' && where === 'state') return 'commit: state (compare-and-swap)';
  if (kind === 'copy') return 'commit: publish copy (If-None-Match)';
  return `${step}: ${where} ${LABEL[kind]}`;
}

interface Counted {
  readonly byKind: S3Requests;
  readonly byPurpose: Map<string, number>;
}

/** The parts of the SDK's HTTP request (`@smithy/protocol-http` HttpRequest) the purpose is told from. */
const sentRequest = z.object({
  method: z.string(),
  path: z.string(),
  query: z.record(z.string(), z.union([z.string(), z.array(z.string()), z.null()])).optional(),
  headers: z.record(z.string(), z.string()),
  body: z.unknown().optional(),
});

/**
 * An S3 client that records each HTTP attempt it sends under its purpose, while `step()` says which
 * operation runs.
 */
function purposeClient(env: Record<string, string>, step: () => Step, counted: () => Counted): S3Client {
  const client = s3ClientFromEnv(env);
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = sentRequest.parse(args.request);
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(request.query ?? {}))
        for (const one of Array.isArray(v) ? v : [v ?? '']) query.append(k, one);
      const headers = new Headers(request.headers);
      const body = typeof request.body === 'string' ? request.body : '';
      if (/"status": "published"/.test(body)) headers.set('x-bench-published', '1');
      const kind = classify(request.method, `${request.path}?${query}`, request.headers);
      const key = decodeURIComponent(request.path.replace(`/${BUCKET}`, '').replace(/^\//, ''));
      const purpose = purposeOf(step(), { kind, key, query, headers, body });
      const { byPurpose } = counted();
      byPurpose.set(purpose, (byPurpose.get(purpose) ?? 0) + 1);
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'benchPurpose' },
  );
  return client;
}

const sum = (r: S3Requests, kinds: ReadonlyArray<keyof S3Requests>) => kinds.reduce((n, k) => n + r[k], 0);

function print(counted: Counted, serverErrors: S3Requests): void {
  const { byKind, byPurpose } = counted;
  const row = (kinds: ReadonlyArray<keyof S3Requests>) =>
    kinds.map((k) => `${LABEL[k]} ${byKind[k]}`).join(', ');
  const lines = [
    `S3 requests of one ${WINDOW_MINUTES}-minute window of one tenant, ${ENTITIES.length} entities with rows (${ROWS_PER_HOUR / 12} rows each), the window after ${MEASURED} committed windows of its hour:`,
    '',
    `  PUT tier  ${String(sum(byKind, PUT_TIER)).padStart(3)}   ${row(PUT_TIER)}`,
    `  GET tier  ${String(sum(byKind, GET_TIER)).padStart(3)}   ${row(GET_TIER)}`,
    `  free      ${String(sum(byKind, FREE)).padStart(3)}   ${row(FREE)}`,
    '',
    '  by purpose:',
    ...[...byPurpose].map(([purpose, n]) => `    ${String(n).padStart(3)}  ${purpose}`),
  ];
  const failed = sum(serverErrors, [...PUT_TIER, ...GET_TIER, ...FREE]);
  if (failed > 0) lines.push('', `  of these, ${failed} answered 5xx by s3rver and sent again by the SDK`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 3 * HOUR_MS;
  const setup = { standinOptions: { rowsPerHour: ROWS_PER_HOUR }, hour };
  await withServers(setup, async ({ standin, store, counter, env }) => {
    await store.put(STATE_KEY, JSON.stringify({ last_hour_utc: iso(hour - HOUR_MS) }));
    let step: Step = 'plan';
    let counted: Counted = { byKind: counter.counts, byPurpose: new Map() };
    const clients = {
      s3: purposeClient(
        env,
        () => step,
        () => counted,
      ),
      secrets: () => new SecretsManagerClient({}),
    };
    const settings = {
      ...env,
      ...standin.collectorEnv(),
      WINDOW_MINUTES: String(WINDOW_MINUTES),
      SETTLE_MINUTES: String(SETTLE_MINUTES),
    };
    const base = collectorFromEnv({
      env: settings,
      telemetry: silentTelemetry,
      inAws: false,
      tuning: { backoffMs: 5 },
      clients,
    });
    for (let k = 0; k <= MEASURED; k++) {
      // A second after the window ending at hour + (k + 1) windows is due: the plan finds that one window.
      const clock = hour + ((k + 1) * WINDOW_MINUTES + SETTLE_MINUTES) * MINUTE_MS + 1000;
      counter.reset();
      counted = { byKind: counter.counts, byPurpose: new Map() };
      const c = { ...base, now: () => clock };
      const [result, ...more] = await collectDue(c, {
        runId: `bench-window-${k}`,
        clock,
        onStep: (s) => {
          step = s;
        },
      });
      if (result?.outcome !== 'published' || more.length > 0) {
        throw new Error(
          `window ${k}: expected one window published, got ${JSON.stringify([result, ...more])}`,
        );
      }
    }
    print({ ...counted, byKind: counter.counts }, counter.serverErrors);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
