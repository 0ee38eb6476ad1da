/**
 * Starts each function of the package as Lambda would: its zip extracted into a task root of its own, a
 * Node process (the runtime's major version) started there by test/artifact/lambda-runtime.ts with only
 * the template's environment, what the Lambda runtime sets, and the endpoint redirections a test needs.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromRuntime, ToRuntime } from './lambda-runtime.ts';
import { type LambdaFunction, REGION } from './template.ts';
import { unzip } from './unzip.ts';

const RUNTIME = fileURLToPath(new URL('./lambda-runtime.ts', import.meta.url));
/** The Node the project runs on (devDependency `node`), the version of the nodejs24.x runtime. */
export const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));

/** Temporary credentials as Lambda gives them from the function's role (s3rver accepts only its own keys). */
export const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_SESSION_TOKEN: 'artifact-test-session-token',
} as const;

/**
 * What the Lambda runtime sets in every function's environment (Lambda developer guide, "Defined runtime
 * environment variables"), with the task root where the zip was extracted in place of /var/task.
 */
export function runtimeEnvironment(fn: LambdaFunction, taskRoot: string): Record<string, string> {
  return {
    _HANDLER: fn.handler,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `2026/11/25/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    ...CREDENTIALS,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
    _AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129',
    _AWS_XRAY_DAEMON_PORT: '2000',
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    // The runtime's copy of the AWS SDK lives in /var/runtime/node_modules; absent here, so a bundle that
    // left the SDK external fails here (the template bundles it: custom.esbuild.exclude is empty).
    NODE_PATH: `/opt/nodejs/node24/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:${taskRoot}`,
  };
}

/** An error as Step Functions sees a failed Lambda invocation: `name` is the error type it matches. */
export class LambdaError extends Error {
  constructor(errorType: string, message: string) {
    super(message);
    this.name = errorType;
  }
}

export interface EnvironmentReads {
  /** Every variable the bundled code read (the runtime's own reads before it loaded the module excepted), sorted. */
  readonly read: string[];
  /** Variables Node.js read itself (the accessing frame is `node:…`), sorted; not the template's business. */
  readonly readByNode: string[];
  /** Variables the code set or deleted itself. */
  readonly written: string[];
  /** Whether the bundled code listed the environment's keys (its reads are then not all seen). */
  readonly enumerated: boolean;
}

export interface RunningLambda {
  readonly fn: LambdaFunction;
  /** The environment the process was started with. */
  readonly environment: Readonly<Record<string, string>>;
  /** The Node version that ran it and how the runtime loaded the handler module. */
  readonly loaded: { node: string; loadedAs: string };
  /** The function's stdout and stderr (Powertools writes JSON log lines there). */
  readonly output: string[];
  /** Invokes the handler; a failure rejects with a {@link LambdaError} named by the error type. */
  invoke(event: unknown): Promise<unknown>;
  reads(): Promise<EnvironmentReads>;
  stop(): Promise<void>;
}

/**
 * Extracts `fn`'s zip from `packageDir` into `workDir/<function>` and starts it with `environment`
 * (already merged: template, runtime, redirections). Rejects if the handler module cannot be loaded.
 */
export async function startLambda(
  fn: LambdaFunction,
  packageDir: string,
  workDir: string,
  environment: (taskRoot: string) => Record<string, string>,
): Promise<RunningLambda> {
  const taskRoot = join(workDir, fn.functionName);
  mkdirSync(taskRoot, { recursive: true });
  unzip(join(packageDir, fn.zip), taskRoot);
  const env = environment(taskRoot);
  const child: ChildProcess = fork(RUNTIME, [], {
    execPath: NODE,
    execArgv: [],
    cwd: taskRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => output.push(...chunk.split('\n').filter(Boolean)));
  }
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let readsWaiting: ((reads: EnvironmentReads) => void) | null = null;
  let exited: Error | null = null;
  let nextId = 1;

  const loaded = await new Promise<{ node: string; loadedAs: string }>((resolve, reject) => {
    child.on('message', (message: FromRuntime) => {
      switch (message.type) {
        case 'ready':
          return resolve({ node: message.node, loadedAs: message.loadedAs });
        case 'initError':
          return reject(new LambdaError(message.errorType, `${fn.handler}: ${message.errorMessage}`));
        case 'result':
          pending.get(message.id)?.resolve(message.result);
          pending.delete(message.id);
          return;
        case 'error':
          pending.get(message.id)?.reject(new LambdaError(message.errorType, message.errorMessage));
          pending.delete(message.id);
          return;
        case 'reads':
          readsWaiting?.(message);
          readsWaiting = null;
          return;
        case 'crash':
          exited = new LambdaError(message.errorType, `${fn.functionName} crashed: ${message.errorMessage}`);
          return;
      }
    });
    child.once('exit', (code) => {
      exited ??= new LambdaError('Runtime.ExitError', `${fn.functionName} exited with code ${code}`);
      for (const p of pending.values()) p.reject(exited);
      pending.clear();
      reject(new Error(`${fn.functionName} exited before it was ready:\n${output.join('\n')}`));
    });
  });

  const post = (message: ToRuntime) => child.send(message);
  return {
    fn,
    environment: env,
    loaded,
    output,
    invoke(event) {
      if (exited) return Promise.reject(exited);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        post({
          type: 'invoke',
          id,
          event,
          awsRequestId: randomUUID(),
          deadlineMs: Date.now() + fn.timeoutSeconds * 1000,
          invokedFunctionArn: fn.arn,
          traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)};Sampled=0`,
        });
      });
    },
    reads() {
      if (exited) return Promise.reject(exited);
      return new Promise((resolve) => {
        readsWaiting = resolve;
        post({ type: 'reads' });
      });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
