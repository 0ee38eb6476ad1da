/**
 * The exit-code contract (cli/exit-codes.ts) on the outcomes the error-case table (exit-codes.test.ts)
 * cannot reach cheaply: a TenantsFailed takes the code its tenants' errors share, or 1 when they differ.
 */
import { describe, expect, it } from 'vitest';
import { exitCodeOfExecution } from '../../cli/exit-codes.ts';

describe('the exit code of an execution', () => {
  it('is 0 when it succeeded, and 3 when another run holds one of its windows', () => {
    expect(exitCodeOfExecution({ status: 'SUCCEEDED' })).toBe(0);
    expect(exitCodeOfExecution({ status: 'SUCCEEDED', heldElsewhere: true })).toBe(3);
  });

  it.each([
    ['BadConfiguration', 2],
    ['CitrixAuthFailed', 2],
    ['CitrixTransient', 3],
    ['CitrixThrottled', 3],
    ['StateContended', 3],
    ['StorageTransient', 3],
    ['CitrixBadQuery', 1],
    ['ForeignNextLink', 1],
    ['StateCorrupt', 1],
    ['Sandbox.Timedout', 1],
    ['toString', 1],
  ])('is, for a failure %s, %i', (error, code) => {
    expect(exitCodeOfExecution({ status: 'FAILED', error })).toBe(code);
  });

  it("is, for a TenantsFailed, the code its tenants' errors share", () => {
    const failed = (...tenantErrors: string[]) =>
      exitCodeOfExecution({ status: 'FAILED', error: 'TenantsFailed', tenantErrors });
    expect(failed('CitrixAuthFailed', 'BadConfiguration')).toBe(2);
    expect(failed('CitrixTransient', 'CitrixThrottled')).toBe(3);
    expect(failed('CitrixTransient', 'CitrixAuthFailed')).toBe(1);
    expect(failed()).toBe(1);
  });
});
