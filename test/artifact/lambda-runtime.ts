/**
 * A Lambda execution environment for one function of the package, run by Node 24 as a child process
 * whose environment is the function's as Lambda would set it (test/artifact/lambdas.ts builds it).
 *
 * It does what the Node.js runtime interface client does (aws/aws-lambda-nodejs-runtime-interface-client,
 * src/UserFunction.js): it reads `LAMBDA_TASK_ROOT` and `_HANDLER`, loads the handler module by the same
 * rules (extensionless, then `.js` by `require` unless the nearest package.json says `"type": "module"`,
 * then `.mjs` by `import`, `.cjs` by `require`, …), and calls the handler with the event and a context for
 * each invocation, reporting a thrown error by its `name` as the error type Step Functions matches. The
 * invocations come over the IPC channel instead of the Runtime API.
 *
 * Before the handler module is loaded, `process.env` is replaced by a Proxy that records every variable
 * read, so the test can tell which variables the bundled code reads (and which of them the template leaves
 * out). This file reads no variable after that, and must not.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** From the parent: one invocation, or a request for the variables read so far. */
export type ToRuntime =
  | {
      type: 'invoke';
      id: number;
      event: unknown;
      /** What the Runtime API's invocation headers carry. */
      awsRequestId: string;
      deadlineMs: number;
      invokedFunctionArn: string;
      traceId: string;
    }
  | { type: 'reads' };

/** To the parent. */
export type FromRuntime =
  | { type: 'ready'; node: string; loadedAs: string }
  | { type: 'initError'; errorType: string; errorMessage: string }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; errorType: string; errorMessage: string }
  | { type: 'reads'; read: string[]; readByNode: string[]; written: string[]; enumerated: boolean }
  | { type: 'crash'; errorType: string; errorMessage: string };

/** Sends a message; resolves once it is written, so that the process may exit after it. */
const send = (message: FromRuntime): Promise<void> =>
  new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, () => resolve());
  });

// What the runtime reads itself, before any user code runs.
const env = process.env;
const taskRoot = env.LAMBDA_TASK_ROOT ?? '';
const fullHandler = env._HANDLER ?? '';
const functionName = env.AWS_LAMBDA_FUNCTION_NAME ?? '';
const functionVersion = env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST';
const memorySize = env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '';
const logGroupName = env.AWS_LAMBDA_LOG_GROUP_NAME ?? '';
const logStreamName = env.AWS_LAMBDA_LOG_STREAM_NAME ?? '';

/** Variables read by the bundled code (and the libraries bundled in it). */
const read = new Set<string>();
/** Variables read by Node.js itself (its tls, module loader, bundled undici…), reported apart. */
const readByNode = new Set<string>();
const written = new Set<string>();
let enumerated = false;

/**
 * Whether the code that touched `process.env` is Node's own (`node:…`): the frame right below the
 * Proxy trap is the one that made the access.
 */
function byNode(trap: (...args: never[]) => unknown): boolean {
  const { prepareStackTrace, stackTraceLimit } = Error;
  Error.prepareStackTrace = (_, sites) => sites;
  Error.stackTraceLimit = 1;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  Error.captureStackTrace(holder, trap);
  const file = holder.stack?.[0]?.getFileName() ?? '';
  Error.prepareStackTrace = prepareStackTrace;
  Error.stackTraceLimit = stackTraceLimit;
  return file.startsWith('node:');
}

const recording: ProxyHandler<NodeJS.ProcessEnv> = {
  get(target, key) {
    if (typeof key === 'string') (byNode(recording.get as never) ? readByNode : read).add(key);
    return Reflect.get(target, key);
  },
  has(target, key) {
    if (typeof key === 'string') (byNode(recording.has as never) ? readByNode : read).add(key);
    return Reflect.has(target, key);
  },
  getOwnPropertyDescriptor(target, key) {
    if (typeof key === 'string')
      (byNode(recording.getOwnPropertyDescriptor as never) ? readByNode : read).add(key);
    return Reflect.getOwnPropertyDescriptor(target, key);
  },
  ownKeys(target) {
    enumerated ||= !byNode(recording.ownKeys as never);
    return Reflect.ownKeys(target);
  },
  set(target, key, value) {
    if (typeof key === 'string') written.add(key);
    return Reflect.set(target, key, value);
  },
  deleteProperty(target, key) {
    if (typeof key === 'string') written.add(key);
    return Reflect.deleteProperty(target, key);
  },
};
process.env = new Proxy(env, recording);

/**
 * Whether the nearest package.json up from `folder` says `"type": "module"`, as the runtime asks. The
 * walk stops above the task root: in Lambda the folders above /var/task hold no package.json, and here
 * they are the machine's (the runtime refuses to start below one, see {@link checkTaskRoot}).
 */
function packageTypeModule(folder: string): boolean {
  if (folder.endsWith('/node_modules')) return false;
  const pj = join(folder, 'package.json');
  if (existsSync(pj)) return (JSON.parse(readFileSync(pj, 'utf8')) as { type?: string }).type === 'module';
  if (folder === resolve(taskRoot) || folder === '/') return false;
  return packageTypeModule(resolve(folder, '..'));
}

/** Lambda's /var/task has no package.json or node_modules above it: a test dir that had one would lie. */
function checkTaskRoot(): void {
  for (let folder = resolve(taskRoot, '..'); ; folder = resolve(folder, '..')) {
    for (const name of ['package.json', 'node_modules']) {
      if (existsSync(join(folder, name)))
        throw new Error(
          `${join(folder, name)} lies above the task root ${taskRoot}: extract the zip elsewhere`,
        );
    }
    if (folder === '/') return;
  }
}

/** The handler module, loaded as the runtime loads it, and how it was loaded. */
async function loadModule(): Promise<{ module: unknown; loadedAs: string }> {
  if (fullHandler.includes('..'))
    throw Object.assign(new Error(`'${fullHandler}' is not a valid handler name`), {
      name: 'Runtime.MalformedHandlerName',
    });
  const handlerString = basename(fullHandler);
  const moduleRoot = fullHandler.slice(0, fullHandler.indexOf(handlerString));
  const match = /^([^.]*)\.(.*)$/.exec(handlerString);
  if (!match?.[1]) throw Object.assign(new Error('Bad handler'), { name: 'Runtime.MalformedHandlerName' });
  const path = resolve(taskRoot, moduleRoot, match[1]);
  const require = createRequire(join(taskRoot, 'index.js'));
  const exists = (ext: string) => existsSync(path + ext);
  const typeModule = packageTypeModule(dirname(path));
  const tries: Array<[string, boolean, () => unknown]> = [
    ['require (extensionless)', exists(''), () => require(path)],
    ['require (.js, no "type": "module")', !typeModule && exists('.js'), () => require(`${path}.js`)],
    [
      'import (.js, "type": "module")',
      typeModule && exists('.js'),
      () => import(pathToFileURL(`${path}.js`).href),
    ],
    ['import (.mjs)', exists('.mjs'), () => import(pathToFileURL(`${path}.mjs`).href)],
    ['require (.cjs)', exists('.cjs'), () => require(`${path}.cjs`)],
    ['require (.ts)', !typeModule && exists('.ts'), () => require(`${path}.ts`)],
    ['import (.ts)', typeModule && exists('.ts'), () => import(pathToFileURL(`${path}.ts`).href)],
    ['import (.mts)', exists('.mts'), () => import(pathToFileURL(`${path}.mts`).href)],
    ['require (.cts)', exists('.cts'), () => require(`${path}.cts`)],
  ];
  for (const [loadedAs, applies, load] of tries) if (applies) return { module: await load(), loadedAs };
  return {
    module: require(require.resolve(match[1], { paths: [taskRoot, moduleRoot] })),
    loadedAs: 'require (resolved)',
  };
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

function failure(err: unknown, fallbackType: string): { errorType: string; errorMessage: string } {
  if (err instanceof Error) return { errorType: err.name || fallbackType, errorMessage: err.message };
  return { errorType: fallbackType, errorMessage: String(err) };
}

let handler: Handler;
try {
  checkTaskRoot();
  const { module, loadedAs } = await loadModule();
  const path = /^[^.]*\.(.*)$/.exec(basename(fullHandler))?.[1] ?? '';
  const found = path
    .split('.')
    .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], module);
  if (typeof found !== 'function') {
    throw Object.assign(new Error(`${fullHandler} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  handler = found as Handler;
  await send({ type: 'ready', node: process.version, loadedAs });
} catch (err) {
  // The error types Lambda reports for a failed init (the runtime interface client's Errors.js).
  const { errorType, errorMessage } = failure(err, 'Runtime.Unknown');
  const type =
    err instanceof SyntaxError
      ? 'Runtime.UserCodeSyntaxError'
      : (err as { code?: string }).code === 'MODULE_NOT_FOUND'
        ? 'Runtime.ImportModuleError'
        : errorType;
  await send({ type: 'initError', errorType: type, errorMessage: `${errorType}: ${errorMessage}` });
  process.exit(1);
}

for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (err: unknown) => {
    const type = event === 'unhandledRejection' ? 'Runtime.UnhandledPromiseRejection' : 'Runtime.ExitError';
    void send({ type: 'crash', ...failure(err, type) }).then(() => process.exit(1));
  });
}

// The test process went away: so does this sandbox.
process.on('disconnect', () => process.exit(0));

process.on('message', async (message: ToRuntime) => {
  if (message.type === 'reads') {
    await send({
      type: 'reads',
      read: [...read].sort(),
      readByNode: [...readByNode].sort(),
      written: [...written].sort(),
      enumerated,
    });
    return;
  }
  // The runtime sets the trace header for each invocation, on the real environment.
  env._X_AMZN_TRACE_ID = message.traceId;
  const { awsRequestId, deadlineMs, invokedFunctionArn } = message;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion,
    invokedFunctionArn,
    memoryLimitInMB: memorySize,
    awsRequestId,
    logGroupName,
    logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
  };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('Task timed out'), { name: 'Sandbox.Timedout' })),
      deadlineMs - Date.now(),
    );
  });
  try {
    const result = await Promise.race([handler(message.event, context), timedOut]);
    // Lambda returns the result as JSON.
    const json = result === undefined ? null : JSON.parse(JSON.stringify(result));
    await send({ type: 'result', id: message.id, result: json });
  } catch (err) {
    await send({ type: 'error', id: message.id, ...failure(err, 'Error') });
  } finally {
    clearTimeout(timer);
  }
});
