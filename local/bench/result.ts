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
