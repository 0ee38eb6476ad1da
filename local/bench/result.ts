import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD_TIMEOUT_MS = 10 * 60_000;

/** What each bench child prints on its last line: the parent reads nothing else from it. */
export interface ChildResult {
  readonly rows: number;
  readonly pages: number;
  readonly seconds: number;
  /** Peak resident set size of the child process, from `process.resourceUsage().maxRSS`. */
  readonly maxRssMB: number;
  /** Collector only: seconds until the last page was staged, i.e. before publishing and cleanup. */
  readonly fetchSeconds?: number;
  /** CPU time (user + system) of the child, in seconds. */
  readonly cpuSeconds: number;
}

/** A required environment variable of a bench child (set by bench.ts). */
export function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: this script is started by local/bench/bench.ts`);
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

/** Reports a failed child on stderr and exits 1. */
export function fail(err: unknown): never {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  process.exit(1);
}

/**
 * Runs a bench child (a script of local/bench) to completion, with the heap limit given and the young
 * generation of the deployed functions (serverless.yml NODE_OPTIONS); its last stdout line is its result.
 */
export function runChild<T>(script: string, env: Record<string, string>, heapMB: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        `--max-old-space-size=${heapMB}`,
        '--max-semi-space-size=16',
        '--import',
        'tsx',
        join(ROOT, 'local/bench', script),
      ],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
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
          return resolve(JSON.parse(last) as T);
        } catch {
          // falls through to the rejection below
        }
      }
      reject(new Error(`${script} exited with ${signal ?? code}: ${(err || out).trim().slice(-2000)}`));
    });
  });
}
