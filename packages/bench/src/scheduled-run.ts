/**
 * What the bench children of one scheduled run share (tenants-run.ts, real-speed-run.ts): the collector's
 * tenants on the schedule's clock, and the head of the result line.
 */
import type { ExecutionOutcome } from '@citrix-monitor/testkit/workflow';
import { z } from 'zod';
import { fleetFromEnv } from '../../../functions/adapters/lambda.ts';
import { silentTelemetry } from '../../../functions/adapters/telemetry.ts';
import type { Fleet } from '../../../functions/domain/tenants.ts';
import { need } from './result.ts';

/** How the execution ended, and how long it took. */
export interface ScheduledRun {
  readonly status: ExecutionOutcome['status'];
  readonly error?: string;
  readonly cause?: string;
  /** State machine start to end, ms. */
  readonly wallMs: number;
}

/** A {@link ScheduledRun}, as a bench child prints it: the head of its result's schema. */
export const scheduledRunSchema = z.object({
  status: z.enum(['SUCCEEDED', 'FAILED', 'ABORTED']),
  error: z.string().optional(),
  cause: z.string().optional(),
  wallMs: z.number(),
}) satisfies z.ZodType<ScheduledRun>;

/**
 * The tenants of the child's environment, their clock BENCH_CLOCK_MS at the start (set by the parent: the
 * schedule's clock, 20 past the hour after the hour to collect) and running on from there, and the
 * execution's start time (the plan's clock) at that instant, so the due hour cannot move while the bench
 * runs.
 */
export function scheduledFleet(): { fleet: Fleet; startTime: number } {
  const clockAtStart = Number(need('BENCH_CLOCK_MS'));
  const realStart = Date.now();
  const now = () => clockAtStart + (Date.now() - realStart);
  return {
    fleet: fleetFromEnv({ env: process.env, telemetry: silentTelemetry, inAws: false, overrides: { now } }),
    startTime: clockAtStart,
  };
}
