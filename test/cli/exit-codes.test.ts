/**
 * The exit-code contract (cli/exit-codes.ts) as a user meets it: every row of the README's table under
 * `## Exit codes` is run as its command says, in a child process, against the Citrix stand-in and s3rver
 * on 127.0.0.1, and its exit code and one-line message are checked. The README and the behaviour cannot
 * drift: a row added there is a case run here.
 *
 * A row's environment is the stand-in recipe's (stand-in, s3rver and its keys, bucket collector-test),
 * changed by the `NAME=value` assignments before its command. Placeholders: `<stand-in>` the stand-in's
 * API_BASE, `<closed port>` a port of 127.0.0.1 nothing listens on, `<next hour>` the hour that has not
 * ended yet, `<held hour>` an hour whose commit record says a live run on another machine holds it (written
 * here), `<s3 endpoint>` s3rver's endpoint. Node runs the TypeScript as `citrix-monitor run` does (by
 * stripping types, no tsx), and `npm run collect` with `--retry-interval-ms 0` (the retries still happen,
 * without their waits). A message is the line it must be, `…` standing for any text.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLayout } from '../../functions/domain/config.ts';
import { formatHour, HOUR_MS } from '../../functions/domain/hours.ts';
import { commitKey } from '../../functions/domain/keys.ts';
import { type Ran, runNode } from '../fixtures/child.ts';
import { startEnvironment, type TestEnvironment } from '../integration/harness.ts';

/** The table as it stands until the README's `## Exit codes` section has one (then that one is run). */
const TABLE = `
| case | command | exit | message |
|---|---|---|---|
| API_BASE is not a URL | \`API_BASE='not a url' npm run collect\` | 2 | \`BadConfiguration: API_BASE="not a url" is not a URL: expected e.g. https://api.cloud.com.\` |
| API_BASE with a path | \`API_BASE=<stand-in>/monitorodata npm run collect\` | 2 | \`BadConfiguration: …API_BASE must be the host only, e.g. https://api.cloud.com…\` |
| PAGE_SIZE not a number | \`PAGE_SIZE=abc npm run collect\` | 2 | \`BadConfiguration: PAGE_SIZE="abc" is invalid: expected a whole number from 1 to 10000.\` |
| empty client secret | \`CITRIX_CLIENT_SECRET= npm run collect\` | 2 | \`BadConfiguration: CITRIX_CLIENT_SECRET is not set: it is required (see README, "Configuration").\` |
| a tenant list that is not JSON | \`TENANTS_KEY=fixtures/tenants-not-json.json npm run collect\` | 2 | \`BadConfiguration: The tenant list s3://collector-test/fixtures/tenants-not-json.json is not valid JSON…: fix the document (see README, "Many tenants"), or delete it to collect the one tenant of the environment.\` |
| an hour not due yet | \`npm run collect -- --hour <next hour>\` | 2 | \`UsageError: --hour <next hour> is not due yet: give an hour up to …, the newest with a due window (a window is due SETTLE_MINUTES=15 after its end). See npm run collect -- --help.\` |
| no bucket | \`S3_BUCKET= npm run collect\` | 2 | \`BadConfiguration: S3_BUCKET is not set: it is required (see README, "Configuration").\` |
| an entity name in the wrong case | \`ENTITIES=sessions npm run collect\` | 2 | \`BadConfiguration: ENTITIES="sessions" …Did you mean Sessions?…\` |
| an unknown compression | \`COMPRESSION=zip npm run collect\` | 2 | \`BadConfiguration: COMPRESSION="zip" is invalid: expected "none" or "gzip".\` |
| a look-back shorter than an hour | \`LOOKBACK_MINUTES=30 npm run collect\` | 2 | \`BadConfiguration: LOOKBACK_MINUTES="30" is invalid: expected a whole number from 60 to 43200.\` |
| a bucket that does not exist | \`S3_BUCKET=no-such-bucket npm run collect\` | 2 | \`…no-such-bucket…<s3 endpoint>…\` |
| an API host that cannot be reached | \`API_BASE=http://127.0.0.1:<closed port> npm run collect\` | 3 | \`CitrixTransient: …127.0.0.1:<closed port>…\` |
| a client secret that is refused | \`CITRIX_CLIENT_SECRET=not-the-secret npm run collect\` | 2 | \`CitrixAuthFailed: …Citrix Cloud refused the API client (HTTP 401 from the token endpoint): check CITRIX_CUSTOMER_ID, CITRIX_CLIENT_ID and the client secret.\` |
| a window another run holds | \`npm run collect -- --hour <held hour>\` | 3 | \`Hour <held hour>: not published by this run, nothing written: run run-elsewhere (process 4242 on another-machine) holds it until …\` |
| npm start, a bad option | \`npm start -- --tenants 0\` | 2 | \`UsageError: --tenants "0" is invalid: expected a whole number from 1 to 40. See npm start -- --help.\` |
| citrix-monitor, an unknown command | \`citrix-monitor statsu\` | 2 | \`Unknown command "statsu".\` |
| citrix-monitor run, a bad hour | \`citrix-monitor run --hour bad\` | 2 | \`citrix-monitor run: UsageError: --hour "bad" is not a whole UTC hour: expected e.g. 2026-11-24T10:00:00Z. See citrix-monitor run --help.\` |
| citrix-monitor run, a bad setting | \`COMPRESSION=zip citrix-monitor run\` | 2 | \`BadConfiguration: COMPRESSION="zip" is invalid: expected "none" or "gzip".\` |
`;

interface Row {
  readonly name: string;
  readonly command: string;
  readonly exit: number;
  readonly message: string;
}

/** The rows of the first table under `## Exit codes` in `markdown`, or null when it has none. */
function exitCodeTable(markdown: string): Row[] | null {
  const section = /^## Exit codes\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(markdown)?.[1] ?? '';
  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  const code = (cell: string) => /^`(.*)`$/.exec(cell.trim())?.[1] ?? cell.trim();
  const rows = lines.slice(2).map((line) => {
    const [name = '', command = '', exit = '', message = ''] = line.slice(1, -1).split(' | ');
    return { name: name.trim(), command: code(command), exit: Number(exit.trim()), message: code(message) };
  });
  return rows.length ? rows : null;
}

const README = new URL('../../README.md', import.meta.url);
const ROWS = exitCodeTable(readFileSync(README, 'utf8')) ?? exitCodeTable(`## Exit codes\n${TABLE}`) ?? [];

/** `NAME=value …` assignments (values bare, '…' or "…", possibly empty), then the words of the command. */
function shellWords(command: string): { assignments: Record<string, string>; words: string[] } {
  const words: string[] = [];
  for (const [word] of command.matchAll(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g))
    words.push(word.replace(/'([^']*)'|"([^"]*)"/g, (_, a, b) => a ?? b));
  const assignments: Record<string, string> = {};
  while (words[0] !== undefined && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = (words.shift() as string).split('=');
    assignments[name as string] = value.join('=');
  }
  return { assignments, words };
}

/** The node arguments of a command a user types. */
function nodeArgs(words: readonly string[]): string[] {
  const after = (n: number) => (words[n] === '--' ? words.slice(n + 1) : words.slice(n));
  const [first, second, third] = words;
  if (first === 'npm' && second === 'run' && third === 'collect')
    return ['local/collect.ts', '--retry-interval-ms', '0', ...after(3)];
  if (first === 'npm' && second === 'start') return ['local/start.ts', ...after(2)];
  if (first === 'citrix-monitor') return ['cli/bin.ts', ...words.slice(1)];
  throw new Error(`The exit-code table has a command this test cannot run: ${words.join(' ')}`);
}

/** A port of 127.0.0.1 that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Runs `rows` at most `limit` at a time, each result at its row's index. */
async function limited<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await run(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const HELD_HOURS_AGO = 5;
let e: TestEnvironment;
let places: Record<string, string>;
const ran = new Map<string, Ran>();

beforeAll(async () => {
  e = await startEnvironment({ rowsPerHour: 20 });
  const now = Date.now();
  const held = Math.floor(now / HOUR_MS) * HOUR_MS - HELD_HOURS_AGO * HOUR_MS;
  places = {
    '<stand-in>': e.standin.url,
    '<closed port>': String(await closedPort()),
    '<next hour>': formatHour(Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS),
    '<held hour>': formatHour(held),
    '<s3 endpoint>': e.env.AWS_ENDPOINT_URL_S3 ?? '',
  };
  await e.store.put('fixtures/tenants-not-json.json', '{"tenants": [{"id": "acme",', 'application/json');
  await e.store.put(
    commitKey(loadLayout(e.env), held),
    JSON.stringify({
      hour: formatHour(held),
      run: 'run-elsewhere',
      status: 'publishing',
      entities: {},
      claimed_at: new Date(now).toISOString(),
      lease: {
        holder: 'run-elsewhere',
        until: new Date(now + HOUR_MS).toISOString(),
        host: 'another-machine',
        pid: 4242,
      },
    }),
    'application/json',
  );
  const outcomes = await limited(ROWS, 4, (row) => {
    const { assignments, words } = shellWords(fill(row.command));
    return runNode(nodeArgs(words), {
      env: { PATH: process.env.PATH ?? '', ...e.env, ...assignments },
    });
  });
  ROWS.forEach((row, i) => {
    ran.set(row.name, outcomes[i] as Ran);
  });
}, 120_000);

afterAll(() => e?.stop());

const fill = (text: string) =>
  Object.entries(places).reduce((out, [place, value]) => out.split(place).join(value), text);

/** The line of `out` that the message describes: it starts with the message and holds its parts in order. */
function lineOf(out: string, message: string): string | undefined {
  const parts = fill(message).split('…');
  const pattern = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return out
    .split('\n')
    .map((line) => line.trim())
    .find((line) => new RegExp(`^${pattern}$`).test(line));
}

describe('the exit codes of the README, row by row', () => {
  it('has the documented cases', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(16);
  });

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', (_, row) => {
    const seen = ran.get(row.name);
    const { assignments } = shellWords(fill(row.command));

    expect(seen?.code, seen?.out).toBe(row.exit);
    expect(lineOf(seen?.out ?? '', row.message), seen?.out).toBeDefined();
    expect(seen?.out).not.toMatch(/^\s+at /m);
    expect(seen?.out).not.toContain(e.standin.clientSecret);
    for (const [name, value] of Object.entries(assignments))
      if (/SECRET/.test(name) && value) expect(seen?.out).not.toContain(value);
    // What the run says, not the usage text that follows some refusals.
    const said = (seen?.out ?? '').split(/^Usage: /m)[0];
    if (!('TENANTS_KEY' in assignments)) expect(said).not.toMatch(/tenant list/i);
  });
});
