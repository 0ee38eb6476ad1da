/**
 * A redrive after a redeploy, on the real ASL (statemachine/collector.asl.json) with the real handlers, the
 * Citrix stand-in and a real S3 server (s3rver). A redrive runs the execution's original definition with
 * today's functions. MOCKED, as no stand-in can redeploy: the revision the functions were built with
 * (functions/adapters/definition.ts), which this file sets to another definition's to play "redeployed
 * since"; the definition executed stays the file on disk, as a redrive keeps the original one.
 */
import { runExecution } from '@citrix-monitor/testkit/workflow';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkRevision } from '../../functions/domain/revision.ts';
import { DEFINITION_REVISION } from '../../statemachine/collector.asl.ts';
import { HOUR, iso, pastHour, rowKey, rowsOf, startEnvironment, type TestEnvironment } from './harness.ts';

const deployed = vi.hoisted(() => ({ revision: '' }));
vi.mock('../../functions/adapters/definition.ts', () => ({
  sameDefinition: (step: string, runId: string, sent: string | null | undefined) =>
    checkRevision({ step, runId, sent, own: deployed.revision }),
}));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** An execution that failed on Citrix (503 on Sessions, past its retries), with nothing of its hour published. */
async function failedExecution(e: TestEnvironment, hour: number) {
  e.standin.failEntity('Sessions', 503);
  const failed = await runExecution(e.collector({ ENTITIES: 'Sessions' }), {
    input: { hour: iso(hour) },
    startTime: hour + 2 * HOUR,
    executionName: 'hourly-1',
    retryIntervalMs: 0,
  });
  expect(failed.status).toBe('FAILED');
  expect(failed.error).toBe('CitrixTransient');
  e.standin.failEntity(null);
  return failed;
}

describe('a redrive after a redeploy', () => {
  it('fails at once naming the redeploy and what to do when the definition changed, and a redrive of the same definition then publishes the hour once', async () => {
    const e = await startEnvironment({ rowsPerHour: 50 });
    cleanups.push(() => e.stop());
    const hour = pastHour(5);
    deployed.revision = DEFINITION_REVISION;
    const failed = await failedExecution(e, hour);
    const redrive = { executionName: 'hourly-1', startTime: hour + 3 * HOUR, retryIntervalMs: 0 };

    deployed.revision = 'redeployed00';
    const refused = await runExecution(e.collector({ ENTITIES: 'Sessions' }), {
      ...redrive,
      redriveOf: failed.redrive,
    });

    expect(refused.status).toBe('FAILED');
    expect(refused.error).toBe('RedeployedSinceStart');
    expect(refused.cause).toContain('Execution hourly-1 was started by an earlier deployment');
    expect(refused.cause).toContain(`definition is revision ${DEFINITION_REVISION}`);
    expect(refused.cause).toContain('Start a new execution instead');
    expect(refused.invocations, 'refused by the redrive’s first step').toMatchObject({
      Report: 1,
      Plan: 0,
      FetchPages: 0,
    });
    expect(rowsOf(await e.published(), 'Sessions', hour)).toEqual([]);

    deployed.revision = DEFINITION_REVISION;
    const redriven = await runExecution(e.collector({ ENTITIES: 'Sessions' }), {
      ...redrive,
      redriveOf: failed.redrive,
    });

    expect(redriven.status, redriven.cause).toBe('SUCCEEDED');
    const key = (r: Record<string, unknown>) => rowKey('Sessions', r);
    const published = rowsOf(await e.published(), 'Sessions', hour)
      .map(key)
      .sort();
    expect(published).toEqual(
      e.standin
        .rowsFor('Sessions', { fromMs: hour, toMs: hour + HOUR })
        .map(key)
        .sort(),
    );
  });
});
