/**
 * What `serverless deploy` uploads, run: `serverless package` (offline, no AWS credentials) writes the
 * three esbuild zips and the CloudFormation template; each zip is extracted into a task root of its own
 * and its handler loaded by the Lambda runtime's rules in a Node 24 process whose environment is only the
 * function's `Environment.Variables` from the template (intrinsics resolved to local values), what the
 * Lambda runtime sets, and endpoint redirections. The state machine is the template's `DefinitionString`
 * with the function ARNs substituted, run by aws-local-stepfunctions, each Task state served by the
 * function whose ARN its `Resource` names. A bundling fault (a dynamic require, an ESM/CJS mismatch, a
 * variable the code reads that the template does not set) fails here instead of in AWS.
 *
 * Real: the bundles, the template, the ASL, s3rver (S3), the Citrix Monitor stand-in over https
 * (packages/testkit/src/citrix-standin, with a throwaway self-signed certificate that the functions trust through
 * NODE_EXTRA_CA_CERTS). Stand-in of our own: Secrets Manager (test/artifact/secrets-manager.ts), a
 * control-plane API with no local implementation; it answers `GetSecretValue` only. Because
 * `AWS_LAMBDA_FUNCTION_NAME` is set, the configuration runs in AWS mode: the client secret comes from
 * Secrets Manager and API_BASE must be https.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Certificate, selfSignedCertificate } from '@citrix-monitor/testkit/certificate';
import { type Standin, startStandin } from '@citrix-monitor/testkit/citrix-standin';
import { type LocalS3, startLocalS3 } from '@citrix-monitor/testkit/s3';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { s3ClientFromEnv } from '../../functions/adapters/collectors.ts';
import { s3Store } from '../../functions/adapters/s3-store.ts';
import { loadLayout } from '../../functions/domain/config.ts';
import type { ObjectStore } from '../../functions/domain/ports.ts';
import { newestDueEnd } from '../../functions/domain/windows.ts';
import { NOW } from '../fixtures/time.ts';
import { HOUR, iso, pastHour, rowKey, rowsOf } from '../integration/harness.ts';
import { UNSET_IN_AWS } from './environment.ts';
import { CREDENTIALS, type RunningLambda, runtimeEnvironment, startLambda } from './lambdas.ts';
import { type SecretsManagerStandin, startSecretsManager } from './secrets-manager.ts';
import {
  ACCOUNT,
  intrinsicResolver,
  lambdaFunctions,
  packageService,
  REGION,
  stateMachineDefinition,
  type Template,
} from './template.ts';

const STAGE = 'artifact';
const BUCKET = 'collector-artifact';
/** The one hour with more rows than a Citrix page holds (PAGE_SIZE 1000 in the template). */
const BIG_HOUR = pastHour(5);

let work: string;
let certificate: Certificate;
let standin: Standin;
let s3: LocalS3;
let store: ObjectStore;
let secrets: SecretsManagerStandin;
let secretArn: string;
let template: Template;
/** Each function's environment as the template sets it (resolved), by logical id. */
let templateEnvironment: Map<string, Record<string, string>>;
let lambdas: RunningLambda[] = [];
/** Task state name → the function its Resource names. */
let tasks: Record<string, RunningLambda>;
let definition: StateMachineDefinition;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'citrix-collector-artifact-'));
  certificate = selfSignedCertificate();
  standin = await startStandin({
    tls: { key: certificate.key, cert: certificate.cert },
    rowsPerHour: (_entity, hourMs) => (hourMs === BIG_HOUR ? 2300 : 40),
  });
  s3 = await startLocalS3(join(work, 's3'), BUCKET);
  store = s3Store(s3ClientFromEnv(s3.env), BUCKET);

  // The deploy-time parameters (docs/deploying.md) point at the stand-in; everything else is the default.
  const packageDir = join(work, 'package');
  template = packageService(packageDir, STAGE, {
    customerId: standin.customerId,
    clientId: standin.clientId,
    apiBase: standin.url,
  });
  const secretName = String(template.Resources.CitrixClientSecret?.Properties?.Name);
  secretArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${secretName}-AbCdEf`;
  secrets = await startSecretsManager(
    { arn: secretArn, name: secretName, value: standin.clientSecret },
    CREDENTIALS.AWS_ACCESS_KEY_ID,
    REGION,
  );
  // Physical ids of the resources the stack creates (the bucket's name; a secret's Ref is its ARN).
  const refs = { CollectorBucket: BUCKET, CitrixClientSecret: secretArn };
  const resolver = intrinsicResolver(template, refs);
  const functions = lambdaFunctions(template);
  templateEnvironment = new Map(functions.map((fn) => [fn.id, resolver.environment(fn)]));
  lambdas = await Promise.all(
    functions.map((fn) =>
      startLambda(fn, packageDir, join(work, 'lambda'), (taskRoot) => ({
        ...templateEnvironment.get(fn.id),
        ...runtimeEnvironment(fn, taskRoot),
        // Redirections to the local servers; in AWS these are unset (see environment.ts).
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
        NODE_EXTRA_CA_CERTS: certificate.certFile,
      })),
    ),
  );
  definition = stateMachineDefinition(template, refs) as StateMachineDefinition;
  tasks = taskStates(definition, lambdas);
}, 180_000);

afterAll(async () => {
  await Promise.all(lambdas.map((l) => l.stop()));
  await secrets?.stop();
  await s3?.stop();
  await standin?.stop();
  certificate?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
});

beforeEach(async () => {
  await store.deleteAll(await store.list(''));
  standin.failEntity(null);
});

interface StateShape {
  Type?: string;
  Resource?: unknown;
  ItemProcessor?: { States: Record<string, StateShape> };
  Iterator?: { States: Record<string, StateShape> };
  Branches?: Array<{ States: Record<string, StateShape> }>;
  Retry?: Array<{ ErrorEquals: string[]; MaxAttempts?: number }>;
}

/** Every state of the definition, Map and Parallel states' inner states included, by name. */
function allStates(states: Record<string, StateShape>): Array<[string, StateShape]> {
  return Object.entries(states).flatMap(([name, state]) => [
    [name, state] as [string, StateShape],
    ...[state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].flatMap((inner) =>
      inner ? allStates(inner.States) : [],
    ),
  ]);
}

/** Each Task state, by name (how aws-local-stepfunctions keys local handlers), to the function its Resource names. */
function taskStates(
  machine: StateMachineDefinition,
  running: RunningLambda[],
): Record<string, RunningLambda> {
  const byArn = new Map(running.map((l) => [l.fn.arn, l]));
  const out: Record<string, RunningLambda> = {};
  for (const [name, state] of allStates(machine.States as Record<string, StateShape>)) {
    if (state.Type !== 'Task') continue;
    const lambda = byArn.get(String(state.Resource));
    if (!lambda)
      throw new Error(`Task state ${name} names ${String(state.Resource)}, not a function of the template`);
    if (out[name] && out[name] !== lambda)
      throw new Error(`two Task states named ${name} name different functions`);
    out[name] = lambda;
  }
  return out;
}

type JSONValue = Parameters<StateMachine['run']>[0];

interface Outcome {
  status: 'SUCCEEDED' | 'FAILED';
  /** The one tenant's plan (its entities are what the functions collect) and its commits. */
  output?: { entities: string[]; committed: Array<{ start: string }> };
  error?: string;
  cause?: string;
  /** The events each Task state was invoked with, counted here (the local event log can drop Map events). */
  events: Record<string, unknown[]>;
}

/**
 * One execution of the deployed definition, each Task invoking its function's process; ASL retries 10 ms
 * apart. `startTime` is the execution's start time, the plan's clock.
 */
async function execute(input: { hour?: string }, name: string, startTime = Date.now()): Promise<Outcome> {
  const events: Record<string, unknown[]> = Object.fromEntries(Object.keys(tasks).map((s) => [s, []]));
  const returned: Record<string, unknown[]> = Object.fromEntries(Object.keys(tasks).map((s) => [s, []]));
  const handlers = Object.fromEntries(
    Object.entries(tasks).map(([state, lambda]) => [
      state,
      async (event: JSONValue): Promise<JSONValue> => {
        // aws-local-stepfunctions gives $$.Execution.StartTime its own clock: the Tenants step gets the
        // execution's start time here, as packages/testkit/src/workflow.ts gives it.
        const sent =
          state === 'Tenants'
            ? { ...(event as object), startTime: new Date(startTime).toISOString() }
            : event;
        events[state]?.push(sent);
        // What Lambda returns is JSON (the function's process serialises it).
        const result = (await lambda.invoke(sent)) as JSONValue;
        returned[state]?.push(result);
        return result;
      },
    ]),
  );
  const machine = new StateMachine(definition);
  const executionName = `${name}-${Date.now()}`;
  const run = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      retryIntervalOverrides: Object.fromEntries(Object.keys(tasks).map((s) => [s, 10])),
    },
    context: {
      Execution: {
        Id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:citrix-monitor-collector-${STAGE}:${executionName}`,
        Name: executionName,
        Input: input,
        StartTime: new Date().toISOString(),
        RedriveCount: 0,
      },
    },
  });
  try {
    await run.result;
    // No tenant list: the environment's one tenant, whose plan and commits are the functions' results (in
    // AWS they are in its child execution's history; the map's output holds a constant per tenant).
    const plan = returned.Plan?.[0] as { entities: string[] } | undefined;
    const committed = (returned.Commit ?? []) as Array<{ start: string }>;
    return { status: 'SUCCEEDED', output: plan && { entities: plan.entities, committed }, events };
  } catch (err) {
    if (!(err instanceof ExecutionError)) throw err;
    const inner = (err as { cause?: { name?: string; message?: string; cause?: unknown } }).cause;
    const original = (inner?.cause ?? inner) as { name?: string; message?: string } | undefined;
    return { status: 'FAILED', error: original?.name, cause: original?.message, events };
  }
}

/** A setting as the template gives it to the plan function, or its documented default. */
const setting = (name: string, fallback: string): string =>
  templateEnvironment.get('PlanLambdaFunction')?.[name] ?? fallback;
const STATE_KEY = () => setting('STATE_KEY', 'collector-work/citrix_monitor/state.json');

async function state(): Promise<Record<string, unknown> | null> {
  const found = await store.get(STATE_KEY());
  return found ? (JSON.parse(found.body.toString('utf8')) as Record<string, unknown>) : null;
}

const setState = (hour: number) => store.put(STATE_KEY(), JSON.stringify({ last_hour_utc: iso(hour) }));

async function published(): Promise<Array<{ key: string; rows: Record<string, unknown>[] }>> {
  const keys = await store.list('citrix_monitor/');
  return Promise.all(
    keys.map(async (key) => {
      const body = (await store.get(key))?.body.toString('utf8') ?? '';
      return {
        key,
        rows: body
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      };
    }),
  );
}

/**
 * The part of a published key that names the hour (docs/secops-feed.md, "Output layout (what the SecOps
 * feed reads)"), whatever the entity.
 */
function hourFolder(hour: number): string {
  const d = new Date(hour).toISOString();
  return `/year=${d.slice(0, 4)}/month=${d.slice(5, 7)}/day=${d.slice(8, 10)}/hour=${d.slice(11, 13)}/`;
}

/** Every row of every entity of `hour` published exactly once, compared with the stand-in's ground truth. */
function expectExactlyOnce(
  objects: Awaited<ReturnType<typeof published>>,
  entities: readonly string[],
  hour: number,
): void {
  expect(entities.length).toBeGreaterThan(0);
  for (const entity of entities) {
    const expected = standin
      .rowsFor(entity, { fromMs: hour, toMs: hour + HOUR })
      .map((r) => rowKey(entity, r));
    const got = rowsOf(objects, entity, hour).map((r) => rowKey(entity, r));
    expect(expected.length, `${entity} ${iso(hour)} has rows`).toBeGreaterThan(0);
    expect(got.sort(), `${entity} ${iso(hour)}`).toEqual(expected.sort());
  }
}

describe('the packaged functions and state machine', () => {
  it('wires each Task state to the function its Resource names, each loaded by the runtime on its Node version', () => {
    expect(Object.fromEntries(Object.entries(tasks).map(([s, l]) => [s, l.fn.id]))).toEqual({
      Tenants: 'TenantsLambdaFunction',
      Plan: 'PlanLambdaFunction',
      FetchPages: 'FetchPageLambdaFunction',
      Commit: 'CommitLambdaFunction',
      Failed: 'FailedLambdaFunction',
      HandOn: 'HandOnLambdaFunction',
      Report: 'ReportLambdaFunction',
      // The Express child's Tasks, served by the same functions.
      'Plan (on time)': 'PlanLambdaFunction',
      'FetchPages (on time)': 'FetchPageLambdaFunction',
      'Commit (on time)': 'CommitLambdaFunction',
      'Failed (on time)': 'FailedLambdaFunction',
    });
    for (const lambda of lambdas) {
      const major = /^nodejs(\d+)\.x$/.exec(lambda.fn.runtime)?.[1];
      expect(lambda.loaded.node.split('.')[0], lambda.fn.id).toBe(`v${major}`);
      expect(lambda.loaded.loadedAs, lambda.fn.id).toMatch(/^(require|import) /);
    }
  });

  it('publishes every row of a clean hour exactly once and advances the state to it', async () => {
    await setState(BIG_HOUR - HOUR);

    const outcome = await execute({ hour: iso(BIG_HOUR) }, 'clean-hour');

    expect(outcome.status, `${outcome.error}: ${outcome.cause}`).toBe('SUCCEEDED');
    expectExactlyOnce(await published(), outcome.output?.entities ?? [], BIG_HOUR);
    expect(await state()).toMatchObject({ last_hour_utc: iso(BIG_HOUR) });
    expect(secrets.requests, 'the client secret is read from Secrets Manager').toContain(secretArn);
  });

  it('fails the execution naming a failing entity, publishes nothing of the hour and leaves the state', async () => {
    const hour = pastHour(8);
    await setState(hour - HOUR);
    standin.failEntity('Sessions');

    const outcome = await execute({ hour: iso(hour) }, 'failing-entity');

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('CitrixTransient');
    expect(outcome.cause).toContain('Sessions');
    // The ASL's Retry matched the bundled error by name: one attempt and every retry of CitrixTransient.
    const retrier = allStates(definition.States as Record<string, StateShape>)
      .find(([name]) => name === 'FetchPages')?.[1]
      .Retry?.find((r) => r.ErrorEquals.includes('CitrixTransient'));
    const sessions = (outcome.events.FetchPages ?? []).filter(
      (e) => (e as { entity?: string }).entity === 'Sessions',
    );
    expect(sessions).toHaveLength(1 + (retrier?.MaxAttempts ?? 3));
    expect(outcome.events.Commit).toEqual([]);
    const objects = await published();
    expect(objects.filter((o) => o.key.includes(hourFolder(hour))).map((o) => o.key)).toEqual([]);
    expect(await state()).toMatchObject({ last_hour_utc: iso(hour - HOUR) });
  });

  it('catches up every due hour after a state several hours behind, once each, and leaves the state on the newest', async () => {
    // The template's window and settle, read as the collector reads them.
    const { windowMinutes, settleMinutes } = loadLayout({ ...templateEnvironment.get('PlanLambdaFunction') });
    expect(windowMinutes).toBe(60);
    const newestDue = newestDueEnd(NOW, windowMinutes, settleMinutes) - HOUR;
    await setState(newestDue - 4 * HOUR);

    const outcome = await execute({}, 'catch-up', NOW);

    expect(outcome.status, `${outcome.error}: ${outcome.cause}`).toBe('SUCCEEDED');
    expect(outcome.output?.committed.map((c) => c.start)).toEqual(
      [3, 2, 1, 0].map((n) => iso(newestDue - n * HOUR)),
    );
    const objects = await published();
    for (const n of [3, 2, 1, 0])
      expectExactlyOnce(objects, outcome.output?.entities ?? [], newestDue - n * HOUR);
    expect(rowsOf(objects, 'Sessions', newestDue - 4 * HOUR)).toEqual([]);
    expect(await state()).toMatchObject({ last_hour_utc: iso(newestDue) });
  });

  // Last: it judges the variables read by everything above (a test run alone sees less).
  it("reads no environment variable that the template's environment leaves out, unless it is meant to be unset in AWS", async () => {
    const missing: string[] = [];
    for (const lambda of lambdas) {
      const reads = await lambda.reads();
      const set = templateEnvironment.get(lambda.fn.id) ?? {};
      for (const name of reads.read) {
        if (name in set || UNSET_IN_AWS.has(name) || reads.written.includes(name)) continue;
        missing.push(
          `${lambda.fn.functionName} (${lambda.fn.handler}) reads ${name}, which its Environment.Variables in the template do not set`,
        );
      }
      expect(reads.enumerated, `${lambda.fn.id} lists the environment, so not every read is seen`).toBe(
        false,
      );
    }
    expect(
      missing,
      'Set each in serverless.yml (provider.environment), or, if AWS must leave it unset, add it with the reason to UNSET_IN_AWS in test/artifact/environment.ts',
    ).toEqual([]);
  });
});
