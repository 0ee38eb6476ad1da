/**
 * The exit-code contract (cli/exit-codes.ts) as a user meets it: every row of the table of error cases
 * under `## Exit codes` in docs/operating.md is run as its command says, in a child process, against the Citrix stand-in and s3rver
 * on 127.0.0.1, and its exit code and one-line message are checked. The page and the behaviour cannot
 * drift: a row added there is a case run here.
 *
 * A row's environment is the stand-in recipe's (stand-in, s3rver and its keys), changed by the
 * `NAME=value` assignments before its command; its placeholders (`<stand-in>`, `<closed port>`, …) are
 * those the page explains under the table, the fixtures they need are written here. Node runs the TypeScript as the CLI's bin does (by
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

interface Row {
  readonly name: string;
  readonly command: string;
  readonly exit: number;
  readonly message: string;
}

/** The rows of the table `| case | command | exit | message |` under `## Exit codes` in `markdown`. */
function exitCodeTable(markdown: string): Row[] {
  const section = /^## Exit codes\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(markdown)?.[1] ?? '';
  const table =
    /^\| case \| command \| exit \| message \|\n\|[-|]+\|\n((?:\|.*\n?)*)/m.exec(section)?.[1] ?? '';
  const code = (cell: string) => /^`(.*)`$/.exec(cell.trim())?.[1] ?? cell.trim();
  return table
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) => {
      const [name = '', command = '', exit = '', message = ''] = line.slice(1, -1).split(' | ');
      return { name: name.trim(), command: code(command), exit: Number(exit.trim()), message: code(message) };
    });
}

const ROWS = exitCodeTable(readFileSync(new URL('../../docs/operating.md', import.meta.url), 'utf8'));

/** `NAME=value …` assignments (values bare, '…' or "…", possibly empty), then the words of the command. */
function shellWords(command: string): { assignments: Record<string, string>; words: string[] } {
  const words: string[] = [];
  for (const [word] of command.matchAll(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g))
    words.push(word.replace(/'([^']*)'|"([^"]*)"/g, (_, a, b) => a ?? b));
  const assignments: Record<string, string> = {};
  for (let word = words[0]; word !== undefined && /^[A-Z_][A-Z0-9_]*=/.test(word); word = words[0]) {
    words.shift();
    const at = word.indexOf('=');
    assignments[word.slice(0, at)] = word.slice(at + 1);
  }
  return { assignments, words };
}

/** The node arguments of a command a user types. */
function nodeArgs(words: readonly string[]): string[] {
  const after = (n: number) => (words[n] === '--' ? words.slice(n + 1) : words.slice(n));
  const [first, second, third] = words;
  if (first === 'npm' && second === 'run' && third === 'collect')
    return ['packages/local-run/src/collect.ts', '--retry-interval-ms', '0', ...after(3)];
  if (first === 'npm' && second === 'start') return ['packages/local-run/src/start.ts', ...after(2)];
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
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i];
      if (item !== undefined) results[i] = await run(item);
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
      start: formatHour(held),
      end: formatHour(held + HOUR_MS),
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
    const outcome = outcomes[i];
    if (outcome) ran.set(row.name, outcome);
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

describe('the exit codes of docs/operating.md, row by row', () => {
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
