/**
 * What the state machine retries, run on the real ASL (statemachine/collector.asl.json) with the real
 * handlers, the Citrix stand-in and a real S3 server (s3rver). The faults are injected where each test
 * says: S3 overloaded (503 SlowDown) or hanging by an HTTP proxy in front of s3rver, which s3rver cannot do
 * itself; and a bug (a TypeError) by a telemetry port that throws, since no stand-in has bugs on demand.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { afterEach, describe, expect, it } from 'vitest';
import type { Telemetry } from '../../functions/domain/ports.ts';
import { HOUR, iso, pastHour, rowKey, rowsOf, startEnvironment, type TestEnvironment } from './harness.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function environment(...args: Parameters<typeof startEnvironment>): Promise<TestEnvironment> {
  const e = await startEnvironment(...args);
  cleanups.push(() => e.stop());
  return e;
}

/**
 * FAULT INJECTED: a proxy to S3 at `target` that spoils the first PUT of a staged object, and forwards
 * everything else: `slow-down` answers 503 SlowDown to every attempt the AWS SDK makes of it (the SDK retries
 * a 503 itself); `hang` never answers it, as a stalled connection.
 */
async function faultyS3(
  target: string,
  fault: 'slow-down' | 'hang',
): Promise<{ endpoint: string; spoiled: () => number }> {
  const upstream = new URL(target);
  let spoiled = 0;
  let attempts: number | null = null;
  const server: Server = createServer((req, res) => {
    const staging = req.method === 'PUT' && (req.url ?? '').includes('/staging/');
    // `amz-sdk-request: attempt=1; max=3`: the SDK's attempts of one call.
    attempts ??= staging ? Number(/max=(\d+)/.exec(String(req.headers['amz-sdk-request']))?.[1] ?? 1) : null;
    if (staging && attempts !== null && spoiled < (fault === 'hang' ? 1 : attempts)) {
      spoiled += 1;
      req.resume();
      if (fault === 'hang') return;
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>',
      );
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spoiled: () => spoiled };
}

/** The keys of the rows published for Sessions in `hour`, and the stand-in's, sorted. */
async function sessionsOf(e: TestEnvironment, hour: number) {
  const key = (r: Record<string, unknown>) => rowKey('Sessions', r);
  return {
    published: rowsOf(await e.published(), 'Sessions', hour)
      .map(key)
      .sort(),
    expected: e.standin
      .rowsFor('Sessions', { fromMs: hour, toMs: hour + HOUR })
      .map(key)
      .sort(),
  };
}

describe('the retries of the state machine', () => {
  it('retries the fetch step after S3 answered 503 past the SDK retries, and publishes the hour once', async () => {
    const e = await environment({ rowsPerHour: 300, serverPageSize: 100 });
    const s3 = await faultyS3(e.env.AWS_ENDPOINT_URL_S3 ?? '', 'slow-down');
    const hour = pastHour(5);

    const outcome = await runExecution(
      e.collector({ ENTITIES: 'Sessions', AWS_ENDPOINT_URL_S3: s3.endpoint }),
      {
        input: { hour: iso(hour) },
        startTime: hour + 2 * HOUR,
        retryIntervalMs: 0,
      },
    );

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    expect(s3.spoiled(), '503s answered').toBeGreaterThan(0);
    expect(outcome.invocations.FetchPages, 'the failed invocation and its retry').toBe(2);
    const { published, expected } = await sessionsOf(e, hour);
    expect(published).toEqual(expected);
  });

  it('retries the fetch step after it ran past its Lambda timeout on a stalled S3 write, and publishes the hour once', async () => {
    const e = await environment({ rowsPerHour: 300, serverPageSize: 100 });
    const s3 = await faultyS3(e.env.AWS_ENDPOINT_URL_S3 ?? '', 'hang');
    const hour = pastHour(5);
    const fetches: string[] = [];

    const outcome = await runExecution(
      e.collector({ ENTITIES: 'Sessions', AWS_ENDPOINT_URL_S3: s3.endpoint }),
      {
        input: { hour: iso(hour) },
        startTime: hour + 2 * HOUR,
        retryIntervalMs: 0,
        lambdaTimeoutMs: 1_500,
        onInvocation: (invocation) => {
          if (invocation.state === 'FetchPages') fetches.push(invocation.failed ? 'failed' : 'done');
        },
      },
    );

    expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
    expect(fetches, 'the invocation middy ended at its timeout (TimeoutError), and its retry').toEqual([
      'failed',
      'done',
    ]);
    const { published, expected } = await sessionsOf(e, hour);
    expect(published).toEqual(expected);
  });

  it.each([
    'Runtime.ExitError',
    'Runtime.OutOfMemory',
    'Lambda.Unknown',
    // Lambda refused or lost the invocation: the names Step Functions gives a throttled invocation and a
    // timed-out Invoke call. The function did not run (or may not have); thrown here after a page was
    // staged, the harder case for the step.
    'Lambda.TooManyRequestsException',
    'Lambda.ClientExecutionTimeoutException',
  ])(
    'retries the fetch step after its invocation failed as %s, and publishes the hour once',
    async (name) => {
      const e = await environment({ rowsPerHour: 300, serverPageSize: 100 });
      const hour = pastHour(5);
      // FAULT INJECTED: the fetch step's invocation fails once, after it staged its first page (as Lambda
      // reports a function out of memory): a telemetry port that throws an error of that name at the first
      // row count.
      let died = false;
      const dying: Telemetry = {
        log: () => {},
        metric: () => {
          if (died) return;
          died = true;
          throw Object.assign(new Error('Runtime exited with error: signal: killed'), { name });
        },
      };

      const outcome = await runExecution(e.collector({ ENTITIES: 'Sessions' }, dying), {
        input: { hour: iso(hour) },
        startTime: hour + 2 * HOUR,
        retryIntervalMs: 0,
      });

      expect(outcome.status, outcome.cause).toBe('SUCCEEDED');
      expect(died).toBe(true);
      expect(
        outcome.invocations.FetchPages,
        'the invocation that died, then its retry and the rest',
      ).toBeGreaterThan(1);
      const { published, expected } = await sessionsOf(e, hour);
      expect(published).toEqual(expected);
    },
  );

  it('does not retry a bug: a TypeError fails the execution at its first occurrence', async () => {
    const e = await environment({ rowsPerHour: 300, serverPageSize: 100 });
    const hour = pastHour(5);
    // FAULT INJECTED: a telemetry port with a bug, which throws when the fetch step counts its rows.
    const buggy: Telemetry = {
      log: () => {},
      metric: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'push')");
      },
    };

    const outcome = await runExecution(e.collector({ ENTITIES: 'Sessions' }, buggy), {
      input: { hour: iso(hour) },
      startTime: hour + 2 * HOUR,
      retryIntervalMs: 0,
    });

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('TypeError');
    expect(outcome.invocations.FetchPages, 'no retry').toBe(1);
    expect(outcome.invocations.Commit).toBe(0);
    expect(rowsOf(await e.published(), 'Sessions', hour)).toEqual([]);
  });

  it('needs Citrix in no Task but FetchPages: an hour already published is planned, committed and reported with the stand-in stopped', async () => {
    const e = await environment({ rowsPerHour: 50 });
    const hour = pastHour(5);
    const run = { input: { hour: iso(hour) }, startTime: hour + 2 * HOUR, retryIntervalMs: 0 };
    await runExecution(e.collector({ ENTITIES: 'Sessions' }), run);
    await e.standin.stop();

    const again = await runExecution(e.collector({ ENTITIES: 'Sessions' }), run);

    expect(again.status, again.cause).toBe('SUCCEEDED');
    expect(again.invocations).toMatchObject({ Tenants: 1, Plan: 1, FetchPages: 0, Commit: 1, Report: 1 });
    const { published, expected } = await sessionsOf(e, hour);
    expect(published).toEqual(expected);
  });
});
