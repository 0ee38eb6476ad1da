/**
 * The timeouts that depend on one another, read where they are set: each Lambda's timeout
 * (serverless.yml), each Task's TimeoutSeconds and HeartbeatSeconds (statemachine/collector.asl.json), the
 * commit lease (publish.ts) and FETCH_BUDGET_SECONDS (the settings schema). A change to one that breaks
 * another fails here, not in a run that outlives its lease.
 */
import { readFileSync } from 'node:fs';
import { LAMBDA_TIMEOUT_SECONDS } from '@citrix-monitor/testkit/aws-limits';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LEASE_MS } from '../../functions/domain/publish.ts';
import {
  FETCH_BUDGET_SECONDS,
  FETCH_SAFETY_SECONDS,
  LAMBDA_MAX_TIMEOUT_SECONDS,
} from '../../functions/domain/settings/registry.ts';
import { block, serverlessYml } from './serverless-yml.ts';

const yml = serverlessYml();
const functions = Object.keys(block(yml, ['functions']));
/** Each function's Lambda timeout in seconds (serverless.yml functions.<name>.timeout). */
const timeout = Object.fromEntries(
  functions.map((name) => [name, Number(block(yml, ['functions', name]).timeout)]),
);

/** A Task state that invokes one of the template's functions. */
const taskSchema = z.looseObject({
  Type: z.literal('Task'),
  Resource: z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) }),
  TimeoutSeconds: z.number().int().positive().optional(),
  HeartbeatSeconds: z.number().int().positive().optional(),
});
type Task = z.infer<typeof taskSchema> & { readonly state: string; readonly fn: string };
const node = z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]);

/** The Tasks of the state machine, at any depth (maps, parallels), with the function each invokes. */
function tasks(): Task[] {
  const found: Task[] = [];
  const walk = (value: unknown, state: string): void => {
    const task = taskSchema.safeParse(value);
    if (task.success) found.push({ ...task.data, state, fn: task.data.Resource['Fn::GetAtt'][0] });
    const inner = node.safeParse(value);
    if (!inner.success) return;
    for (const [key, child] of Object.entries(inner.data))
      walk(child, Array.isArray(inner.data) ? state : key);
  };
  walk(
    JSON.parse(readFileSync(new URL('../../statemachine/collector.asl.json', import.meta.url), 'utf8')),
    '',
  );
  return found;
}

describe('timeouts that depend on one another', () => {
  it('finds every function and the Tasks that invoke them', () => {
    expect(functions).toEqual(expect.arrayContaining(['fetchPage', 'commit']));
    expect(tasks().map((t) => t.fn)).toEqual(expect.arrayContaining(['fetchPage', 'commit']));
  });

  it.each(functions)("keeps %s's Lambda timeout within Lambda's 900 s", (name) => {
    expect(timeout[name]).toBeGreaterThan(0);
    expect(timeout[name]).toBeLessThanOrEqual(LAMBDA_MAX_TIMEOUT_SECONDS);
  });

  it("runs each handler locally under its function's own Lambda timeout (packages/testkit/src/aws-limits.ts)", () => {
    expect(LAMBDA_TIMEOUT_SECONDS).toEqual(timeout);
  });

  it("lets the longest fetch budget and its margin fit in the fetch Lambda's timeout", () => {
    const longest = LAMBDA_MAX_TIMEOUT_SECONDS - FETCH_SAFETY_SECONDS;

    expect(FETCH_BUDGET_SECONDS.parse.safeParse(String(longest)).success).toBe(true);
    expect(FETCH_BUDGET_SECONDS.parse.safeParse(String(longest + 1)).success).toBe(false);
    expect(longest + FETCH_SAFETY_SECONDS).toBeLessThanOrEqual(timeout.fetchPage ?? 0);
    expect(Number(FETCH_BUDGET_SECONDS.default) + FETCH_SAFETY_SECONDS).toBeLessThanOrEqual(
      timeout.fetchPage ?? 0,
    );
  });

  it.each(tasks().map((t) => [t.state, t.fn, t] as const))(
    "gives the Task %s at least its Lambda's (%s) timeout, and a heartbeat below it",
    (_state, fn, task) => {
      // A Task that times out first abandons a live invocation, which keeps writing.
      expect(task.TimeoutSeconds ?? Number.POSITIVE_INFINITY).toBeGreaterThanOrEqual(
        timeout[fn] ?? Number.NaN,
      );
      if (task.HeartbeatSeconds !== undefined)
        expect(task.HeartbeatSeconds).toBeLessThan(task.TimeoutSeconds ?? Number.POSITIVE_INFINITY);
    },
  );

  it('holds a commit lease longer than any step that may hold it can run', () => {
    // An expired lease is taken over: its holder must surely be gone by then.
    const longestStep = Math.max(
      LAMBDA_MAX_TIMEOUT_SECONDS,
      ...functions.map((name) => timeout[name] ?? 0),
      ...tasks()
        .filter((t) => t.fn === 'commit')
        .map((t) => t.TimeoutSeconds ?? 0),
    );

    expect(LEASE_MS / 1000).toBeGreaterThan(longestStep);
  });
});
