/**
 * The one exit-code contract of `npm start`, `npm run collect` and `citrix-monitor` (docs/operating.md, "Exit
 * codes"): what a script can rely on, whichever of them it runs.
 *
 * - 0 done;
 * - 1 failed for a reason a retry does not cure (CitrixBadQuery, ForeignNextLink, StateCorrupt, an
 *   error of no known kind), or `status` found the collector unhealthy;
 * - 2 usage or configuration: fix the command or the settings (bad arguments, BadConfiguration (AWS
 *   credentials missing, expired or refused among them, whichever call meets them), CitrixAuthFailed,
 *   UnknownTenant, StateMachineNotFound);
 * - 3 busy or unavailable, try later (another run holds a window, CitrixTransient, CitrixThrottled,
 *   StorageTransient, StateContended, AwsCallFailed).
 *
 * Erasable TypeScript with no imports: `citrix-monitor` loads it without dev dependencies.
 */

export const EXIT = { done: 0, failed: 1, usage: 2, unavailable: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The code of each error name that is not {@link EXIT.failed}. */
const CODE_OF_ERROR: Readonly<Record<string, ExitCode>> = {
  UsageError: EXIT.usage,
  BadConfiguration: EXIT.usage,
  CitrixAuthFailed: EXIT.usage,
  UnknownTenant: EXIT.usage,
  StateMachineNotFound: EXIT.usage,
  CitrixTransient: EXIT.unavailable,
  CitrixThrottled: EXIT.unavailable,
  StorageTransient: EXIT.unavailable,
  StateContended: EXIT.unavailable,
  AwsCallFailed: EXIT.unavailable,
};

/** The exit code of a failure by its error name (functions/domain/errors.ts, cli/errors.ts); 1 for any other. */
export function exitCodeOfError(name: string | undefined): ExitCode {
  if (name === undefined || !Object.hasOwn(CODE_OF_ERROR, name)) return EXIT.failed;
  return CODE_OF_ERROR[name] ?? EXIT.failed;
}

/**
 * The exit code of a TenantsFailed: the code its tenants' errors share, or 1 when they differ (a
 * script cannot say "fix the configuration" and "try later" with one code) or none is known.
 */
export function exitCodeOfTenants(tenantErrors: readonly string[]): ExitCode {
  const codes = new Set(tenantErrors.map(exitCodeOfError));
  const [only] = codes;
  return codes.size === 1 && only !== undefined ? only : EXIT.failed;
}

/** What an execution ended as, in the terms of the contract. */
export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  /** On failure: the error name. */
  readonly error?: string;
  /** On a TenantsFailed: the error name of each failed tenant. */
  readonly tenantErrors?: readonly string[];
  /** Whether another run holds a window this one planned (nothing of it written by this one). */
  readonly heldElsewhere?: boolean;
}

/** The exit code of an execution: 0 done, 3 a window held by another run, else its failure's code. */
export function exitCodeOfExecution(result: ExecutionResult): ExitCode {
  if (result.status === 'SUCCEEDED') return result.heldElsewhere ? EXIT.unavailable : EXIT.done;
  if (result.status !== 'FAILED') return EXIT.failed;
  if (result.error === 'TenantsFailed') return exitCodeOfTenants(result.tenantErrors ?? []);
  return exitCodeOfError(result.error);
}
