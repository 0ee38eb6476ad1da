import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD_TIMEOUT_MS = 10 * 60_000;

/** What each bench child prints on its last line: the parent reads nothing else from it. */
export const childResult = z.object({
  rows: z.number(),
  pages: z.number(),
  seconds: z.number(),
  /** Peak resident set size of the child process, from `process.resourceUsage().maxRSS`. */
  maxRssMB: z.number(),
  /** Collector only: seconds until the last page was staged, i.e. before publishing and cleanup. */
  fetchSeconds: z.number().optional(),
  /** CPU time (user + system) of the child, in seconds. */
  cpuSeconds: z.number(),
});
export type ChildResult = Readonly<z.infer<typeof childResult>>;

/** Objects s3rver stores on disk under `root` (a folder of its bucket), and their NDJSON lines (rows). */
export function rowsOnDisk(root: string): { rows: number; objects: number } {
  let rows = 0;
  let objects = 0;
  for (const name of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!name.endsWith('._S3rver_object')) continue;
    objects += 1;
    const body = readFileSync(join(root, name));
    for (let i = body.indexOf(10); i !== -1; i = body.indexOf(10, i + 1)) rows += 1;
  }
  return { rows, objects };
}

/** A required environment variable of a bench child (set by bench.ts). */
export function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: this script is started by packages/bench/src/bench.ts`);
  return value;
}

/** Prints the child's result line and exits 0; peak RSS is read last, after all the work. */
export function finish(result: Omit<ChildResult, 'maxRssMB' | 'cpuSeconds'>): never {
  const usage = process.resourceUsage();
  const maxRssMB = Math.round(usage.maxRSS / 1024);
  const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  process.stdout.write(`${JSON.stringify({ ...result, maxRssMB, cpuSeconds } satisfies ChildResult)}\n`);
  process.exit(0);
}

/** A bench run alone: its name, the reader of its options and the bench itself. */
export interface BenchMain<T> {
  /** Names the bench in its messages (`Tenant bench`). */
  readonly name: string;
  /** Reads the bench's options, or gives its usage (a string). */
  readonly parse: () => T | string;
  /** Runs the bench with its options. */
  readonly run: (options: T) => Promise<void>;
}

/**
 * When the module at `url` is the script Node was started with (a bench run alone): reads its options with
 * `parse` (a string is the usage, printed before exiting 2), runs it, and exits 0, or 1 after printing
 * `<name> failed: <message>` if it throws.
 */
export function runIfMain<T>(url: string, { name, parse, run }: BenchMain<T>): void {
  if (!process.argv[1] || fileURLToPath(url) !== process.argv[1]) return;
  const options = parsedOrUsage(name, parse);
  if (typeof options === 'string') {
    console.error(options);
    process.exit(2);
  }
  run(options).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? `${name} failed: ${err.message}` : err);
      process.exit(1);
    },
  );
}

/**
 * The options `parse` reads, or a line to print and exit 2 on: its usage, or the option parseArgs refused
 * (an unknown one such as --help, or one without its value), named, where it threw a stack before.
 */
export function parsedOrUsage<T>(name: string, parse: () => T | string): T | string {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof TypeError) || !('code' in err) || !String(err.code).startsWith('ERR_PARSE_ARGS'))
      throw err;
    return `${name}: ${err.message}`;
  }
}

/** Reports a failed child on stderr and exits 1. */
export function fail(err: unknown): never {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  process.exit(1);
}

/** A child Node process to run: its arguments and environment, what names it, and its result's schema. */
export interface NodeRun<T> {
  /** Node's arguments (flags and the script). */
  readonly args: string[];
  /** The child's whole environment. */
  readonly env: Record<string, string>;
  /** Names the child in an error. */
  readonly what: string;
  /** The shape of the result the child prints on its last line. */
  readonly schema: z.ZodType<T>;
}

/**
 * Runs `node` with `args` to completion (killed after 10 minutes); its last stdout line, JSON, is its result,
 * parsed with `schema`. `what` names it in an error.
 */
export function runNode<T>({ args, env, what, schema }: NodeRun<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0) {
        try {
          return resolve(schema.parse(JSON.parse(last)));
        } catch (parseError) {
          if (parseError instanceof z.ZodError) {
            return reject(
              new Error(`${what} printed a result not of its shape: ${z.prettifyError(parseError)}`),
            );
          }
          // not JSON: falls through to the rejection below
        }
      }
      reject(new Error(`${what} exited with ${signal ?? code}: ${(err || out).trim().slice(-2000)}`));
    });
  });
}

/** How a bench child runs: its environment, its V8 heap limit and its result's schema. */
export interface ChildRun<T> {
  /** The child's whole environment. */
  readonly env: Record<string, string>;
  /** V8's old-space limit for the child, in MB (--max-old-space-size). */
  readonly heapMB: number;
  /** The shape of the result the child prints on its last line. */
  readonly schema: z.ZodType<T>;
}

/**
 * Runs a bench child (a script of packages/bench/src) to completion, with the heap limit given and the young
 * generation of the deployed functions (serverless.yml NODE_OPTIONS); its last stdout line is its result,
 * parsed with `schema`.
 */
export function runChild<T>(script: string, { env, heapMB, schema }: ChildRun<T>): Promise<T> {
  return runNode({
    args: [
      `--max-old-space-size=${heapMB}`,
      '--max-semi-space-size=16',
      '--import',
      'tsx',
      join(ROOT, 'packages/bench/src', script),
    ],
    env,
    what: script,
    schema,
  });
}
