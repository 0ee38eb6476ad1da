/**
 * Checks that the local Ceph RGW (packages/testkit/ceph/start-rgw.sh) behaves as the collector's tests expect:
 * conditional writes are enforced, ListObjectsV2 paginates, and what CopyObject does with If-None-Match.
 *
 *   eval "$(packages/testkit/ceph/start-rgw.sh)" && npx tsx packages/testkit/ceph/check-rgw.ts; packages/testkit/ceph/stop-rgw.sh
 *
 * Reads RGW_ENDPOINT, RGW_ACCESS_KEY, RGW_SECRET_KEY (defaults: the fixed test values of start-rgw.sh).
 * Prints one line per check and exits 1 if any expectation failed. Lines marked "info" only report
 * behaviour (they never fail the run); the behaviour seen on Debian 12's RGW 16.2.15 is noted beside them.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';

const endpoint = process.env.RGW_ENDPOINT ?? 'http://127.0.0.1:7480';
const s3 = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: {
    accessKeyId: process.env.RGW_ACCESS_KEY ?? 'CITRIXTESTACCESSKEY',
    secretAccessKey: process.env.RGW_SECRET_KEY ?? 'citrix-test-secret-key-not-real',
  },
  maxAttempts: 1,
});
const bucket = `citrix-check-${Date.now().toString(36)}-${process.pid}`;

type Outcome = { ok: true; status: number; etag?: string } | { ok: false; status: number; code: string };

let failures = 0;
let passes = 0;
const written: string[] = [];

function describe(o: Outcome): string {
  return o.ok ? `${o.status} OK${o.etag ? ` ETag=${o.etag}` : ''}` : `${o.status} ${o.code}`;
}

/** Runs one request and reduces it to HTTP status + error code, so that outcomes can be compared. */
async function attempt(
  run: () => Promise<{ ETag?: string; $metadata: { httpStatusCode?: number } }>,
): Promise<Outcome> {
  try {
    const out = await run();
    return { ok: true, status: out.$metadata.httpStatusCode ?? 0, etag: out.ETag };
  } catch (err) {
    if (err instanceof S3ServiceException) {
      return { ok: false, status: err.$metadata.httpStatusCode ?? 0, code: err.name };
    }
    throw err;
  }
}

/** A refusal a check wants: its HTTP status and, when named, its error code. */
interface Refusal {
  status: number;
  code?: string;
}

function expect(label: string, o: Outcome, want: 'success' | Refusal): void {
  const pass =
    want === 'success' ? o.ok : !o.ok && o.status === want.status && (!want.code || o.code === want.code);
  if (pass) passes++;
  else failures++;
  const wanted = want === 'success' ? '2xx' : `${want.status}${want.code ? ` ${want.code}` : ''}`;
  console.log(`${pass ? 'PASS' : 'FAIL'}  ${label}: got ${describe(o)} (want ${wanted})`);
}

function info(label: string, text: string): void {
  console.log(`info  ${label}: ${text}`);
}

function check(label: string, pass: boolean, text: string): void {
  if (pass) passes++;
  else failures++;
  console.log(`${pass ? 'PASS' : 'FAIL'}  ${label}: ${text}`);
}

async function put(key: string, body: string, extra: { IfNoneMatch?: string; IfMatch?: string } = {}) {
  written.push(key);
  return attempt(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...extra })));
}

async function getEtag(key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await out.Body?.transformToString();
  if (!out.ETag) throw new Error(`GetObject ${key} returned no ETag`);
  return out.ETag;
}

async function body(key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

/** A write of 'v2' over `key` that its condition must refuse: 412 PreconditionFailed. */
async function expectRefused(
  label: string,
  key: string,
  condition: { IfNoneMatch?: string; IfMatch?: string },
) {
  expect(label, await put(key, 'v2', condition), { status: 412, code: 'PreconditionFailed' });
}

/** `key` still holds the 'v1' it was first written with, after writes that were refused. */
async function checkUnchanged(label: string, key: string) {
  check(label, (await body(key)) === 'v1', `body=${await body(key)}`);
}

async function main(): Promise<void> {
  console.log(`RGW check against ${endpoint}, bucket ${bucket}`);
  const created = await attempt(() => s3.send(new CreateBucketCommand({ Bucket: bucket })));
  expect('CreateBucket', created, 'success');
  if (!created.ok) return; // wrong endpoint or keys: nothing else can be checked
  await checkIfNoneMatch();
  await checkIfMatch();
  await checkListPagination();
  await checkCopyIfNoneMatch();
}

/** If-None-Match: * (create-only writes). */
async function checkIfNoneMatch(): Promise<void> {
  expect('PutObject new key', await put('inm/a', 'v1'), 'success');
  await expectRefused("PutObject existing key, IfNoneMatch '*'", 'inm/a', { IfNoneMatch: '*' });
  await checkUnchanged('object unchanged after refused write', 'inm/a');
  expect("PutObject new key, IfNoneMatch '*'", await put('inm/b', 'v1', { IfNoneMatch: '*' }), 'success');
}

/** If-Match (compare-and-swap); each variant on its own freshly written object. */
async function checkIfMatch(): Promise<void> {
  await checkIfMatchCurrent();
  await put('im/wrong', 'v1');
  await expectRefused('PutObject IfMatch <wrong ETag, quoted>', 'im/wrong', {
    IfMatch: '"00000000000000000000000000000000"',
  });
  await expectRefused('PutObject IfMatch <wrong ETag, unquoted>', 'im/wrong', {
    IfMatch: '00000000000000000000000000000000',
  });
  await checkUnchanged('object unchanged after refused writes', 'im/wrong');
  const missing = await put('im/missing', 'v1', { IfMatch: '"00000000000000000000000000000000"' });
  info(
    'PutObject IfMatch on a missing key',
    `${describe(missing)} (RGW 16.2.15: 412; AWS S3 user guide: 404 NoSuchKey)`,
  );
}

/** If-Match with the current ETag, quoted as the SDK returns it and unquoted. */
async function checkIfMatchCurrent(): Promise<void> {
  await put('im/quoted', 'v1');
  const etag = await getEtag('im/quoted');
  check('GetObject returns an ETag', /^"[0-9a-f]{32}"$/.test(etag), `ETag=${etag}`);
  const quoted = await put('im/quoted', 'v2', { IfMatch: etag });
  info(
    'PutObject IfMatch <quoted ETag, as the SDK returns it>',
    `${describe(quoted)} (RGW 16.2.15: 412; AWS S3: 200)`,
  );

  await put('im/unquoted', 'v1');
  const bare = (await getEtag('im/unquoted')).replace(/^"|"$/g, '');
  const unquoted = await put('im/unquoted', 'v2', { IfMatch: bare });
  info('PutObject IfMatch <unquoted ETag>', `${describe(unquoted)} (RGW 16.2.15: 200; AWS S3: 200)`);
  check(
    'IfMatch with the current ETag succeeds in at least one form',
    quoted.ok || unquoted.ok,
    `quoted=${describe(quoted)}, unquoted=${describe(unquoted)}`,
  );
  if (unquoted.ok) {
    check('unquoted IfMatch replaced the object', (await body('im/unquoted')) === 'v2', 'body=v2');
  }
}

/** ListObjectsV2 pagination: 5 keys, MaxKeys 2 -> pages of 2, 2, 1. */
async function checkListPagination(): Promise<void> {
  const keys = ['list/1', 'list/2', 'list/3', 'list/4', 'list/5'];
  for (const k of keys) await put(k, k);
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', MaxKeys: 2, ContinuationToken: token }),
    );
    pages.push((page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated && !token) {
      check('ListObjectsV2 gives NextContinuationToken when truncated', false, 'missing');
      break;
    }
  } while (token && pages.length < 10);
  check(
    'ListObjectsV2 MaxKeys 2 over 5 keys',
    JSON.stringify(pages) === JSON.stringify([keys.slice(0, 2), keys.slice(2, 4), keys.slice(4)]),
    `pages=${JSON.stringify(pages)}`,
  );
}

/** A copy of copy/src onto `key`, only if `key` does not exist (If-None-Match on the destination). */
const copyIfNew = (key: string) =>
  attempt(() =>
    s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/copy/src`, IfNoneMatch: '*' }),
    ),
  );

/** CopyObject with If-None-Match on the destination. */
async function checkCopyIfNoneMatch(): Promise<void> {
  await put('copy/src', 'source');
  await put('copy/dst', 'dest');
  written.push('copy/new');
  const copyOver = await copyIfNew('copy/dst');
  const after = await body('copy/dst');
  info(
    "CopyObject onto existing key, IfNoneMatch '*'",
    `${describe(copyOver)}, destination now "${after}" (RGW 16.2.15: 200 and overwritten, i.e. ignored; AWS S3 documents 412)`,
  );
  const copyNew = await copyIfNew('copy/new');
  expect("CopyObject onto new key, IfNoneMatch '*'", copyNew, 'success');
}

async function cleanup(): Promise<void> {
  for (const key of new Set(written)) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch((err: unknown) => {
    console.log(`warn  DeleteBucket ${bucket}: ${err instanceof Error ? err.name : String(err)}`);
  });
}

try {
  await main();
} catch (err) {
  failures++;
  console.log(
    `FAIL  unexpected error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
  );
} finally {
  await cleanup();
}
// Last line in the plain 'N passed, N failed' form that CI summaries understand.
console.log(`rgw-check: ${passes} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
