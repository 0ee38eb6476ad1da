/**
 * What `npm start` and `npm run collect` check before any execution starts, so that a mistake in the
 * command or the settings exits 2 at once with one line saying what to fix (cli/exit-codes.ts), instead
 * of failing an execution.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { newestDueHourOf } from '../../../cli/backfill.ts';
import { UsageError } from '../../../cli/errors.ts';
import { type ExitCode, exitCodeOfError } from '../../../cli/exit-codes.ts';
import type { StorageLayout } from '../../../functions/domain/config.ts';
import { formatHour } from '../../../functions/domain/hours.ts';
import { type Fleet, readTenantList } from '../../../functions/domain/tenants.ts';
import { newestDueEnd } from '../../../functions/domain/windows.ts';

/**
 * Checks the configuration as the Tenants step does (functions/domain/tenants.ts): the tenant list, if
 * there is one, fits its schema, and every tenant it lists (or the environment's one tenant) has a valid
 * configuration (functions/domain/config.ts tenantConfig, through the fleet's collector). The storage
 * settings were checked when the fleet was built. Throws BadConfiguration naming what is wrong.
 */
export async function checkConfiguration(fleet: Fleet): Promise<void> {
  const list = await readTenantList(fleet);
  for (const tenant of list ?? [null]) fleet.collector(tenant);
}

/**
 * `--hour` must have a due window (one that ended SETTLE_MINUTES ago), as the Plan step requires: a
 * later hour is a usage error, said before any execution starts.
 */
export function checkHour(hour: number, layout: StorageLayout, now: number = Date.now()): void {
  const newestDue = newestDueHourOf(newestDueEnd(now, layout.windowMinutes, layout.settleMinutes));
  if (hour <= newestDue) return;
  throw new UsageError(
    `--hour ${formatHour(hour)} is not due yet: give an hour up to ${formatHour(newestDue)}, the newest with a due window (a window is due SETTLE_MINUTES=${layout.settleMinutes} after its end).`,
  );
}

/**
 * A local command's options (`npm start`, `npm run collect`, `npm run s3`), `-h`/`--help` among them: an
 * option it does not have, or a value missing, is a UsageError (exit 2).
 */
export function commandOptions<O extends NonNullable<ParseArgsConfig['options']>>(
  options: O,
): ReturnType<typeof parseArgs<{ options: O & { help: { type: 'boolean'; short: 'h' } } }>>['values'] {
  try {
    return parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(message.endsWith('.') ? message : `${message}.`);
  }
}

/** Prints an error as one line, `Name: message` (never a stack), and returns its exit code. */
export function reportFailure(err: unknown, help?: string): ExitCode {
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  const code = exitCodeOfError(name);
  console.error(`${name}: ${message}${name === 'UsageError' && help ? ` See ${help}.` : ''}`);
  return code;
}
