import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Runs the README's recipes as a reader pastes them: with bash, in a checkout of its own, in an
// environment with nothing of the test's own (no AWS_*, S3_* or CITRIX_* variables leak in).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A checkout of its own: every top-level entry of this one linked in, except `.git` and `.local-data`,
 * so that what a recipe writes under `.local-data/` lands in a fresh folder, removed by `remove`.
 */
export function sandbox(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'citrix-collector-readme-'));
  for (const entry of readdirSync(ROOT)) {
    if (entry !== '.git' && entry !== '.local-data') symlinkSync(join(ROOT, entry), join(dir, entry));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment of a fresh terminal: a PATH and a HOME, and the variables a recipe documents. */
export function terminalEnv(vars: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...vars };
}

/** A port on 127.0.0.1 that nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Terminal {
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Its exit code, once it has ended. */
  readonly exited: Promise<number | null>;
  /** Resolves once its output matches `pattern`; rejects if it ends first. */
  waitFor(pattern: RegExp): Promise<void>;
  /** Ends it and whatever it started (npm, tsx, node), as Ctrl-C would. */
  stop(): Promise<void>;
}

/** Starts `bash -e -c SCRIPT` in `cwd`, in a process group of its own. */
export function terminal(script: string, cwd: string, env: Record<string, string>): Terminal {
  const child: ChildProcess = spawn('bash', ['-e', '-c', script], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    out += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  return {
    output: () => out,
    exited,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        check();
        void exited.then(() => {
          if (!pattern.test(out)) reject(new Error(`ended without printing ${pattern}:\n${out}`));
        });
      }),
    stop: async () => {
      if (ended || child.pid === undefined) return exited.then(() => undefined);
      const group = -child.pid;
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(group, name);
        } catch {
          // The group is gone already.
        }
      };
      signal('SIGINT');
      // A process that ignores Ctrl-C is ended for good rather than left behind.
      const kill = setTimeout(() => signal('SIGKILL'), 5_000);
      await exited;
      clearTimeout(kill);
    },
  };
}
