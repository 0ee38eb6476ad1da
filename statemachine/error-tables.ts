/**
 * The two tables of docs/design.md's "Errors" section, written from the contract (ERROR_CONTRACT in
 * functions/domain/errors.ts) and the state machine's source (RAISES and RETRIERS in collector.asl.ts):
 * `npm run asl` writes them into the page, and test/readme/error-tables.test.ts fails when the page differs.
 */
import { ERROR_CONTRACT, ERROR_NAMES, type ErrorName } from '../functions/domain/errors.ts';
import * as asl from './collector.asl.ts';

const { RAISES, RETRIERS, RETRIES_NONE_OF_OURS, longestWaitSeconds } = asl;

/** The page that holds the tables. */
export const ERROR_TABLES_PATH = new URL('../docs/design.md', import.meta.url);

type Policy = keyof typeof RETRIERS;
type Backoff = (typeof RETRIERS)[Policy];

const code = (name: string) => `\`${name}\``;
/** The own keys of a constant object, typed as its keys (a filter with a guard, not a cast). */
const keysOf = <T extends object>(o: T): Extract<keyof T, string>[] =>
  Object.keys(o).filter((key): key is Extract<keyof T, string> => Object.hasOwn(o, key));
const TASKS = keysOf(RAISES);
const raises = (task: keyof typeof RAISES, error: ErrorName) =>
  RAISES[task].some((raised) => raised === error);
const isPolicy = (name: string): name is Policy => Object.hasOwn(RETRIERS, name);

/** The Tasks whose handler raises `error`, or "every step". */
function raisedBy(error: ErrorName): string {
  const tasks = TASKS.filter((task) => raises(task, error));
  return tasks.length === TASKS.length ? 'every step' : tasks.join(', ');
}

/** What the state machine does with `error`, by its treatment and its retrier. */
function treatmentOf(error: ErrorName): string {
  const { treatment } = ERROR_CONTRACT[error];
  if (treatment === 'fatal') return 'fails at once';
  if (treatment === 'handed-on') return 'hands the tenant on to a Standard child of the same run';
  const policy = isPolicy(error) ? RETRIERS[error] : undefined;
  const retries = policy ? `retries ${policy.MaxAttempts} times (policy ${code(error)} below)` : 'retries';
  const unretried = RETRIES_NONE_OF_OURS.filter((task) => raises(task, error));
  return unretried.length ? `${retries}, not in ${unretried.join(', ')}` : retries;
}

/** The error table: a row per error of the contract, its meaning, the Tasks raising it and its treatment. */
export function errorTable(): string {
  const rows = ERROR_NAMES.map(
    (error) =>
      `| ${code(error)} | ${ERROR_CONTRACT[error].meaning} | ${raisedBy(error)} | ${treatmentOf(error)} |`,
  );
  return ['| Error name | Meaning | Raised by | The state machine |', '|---|---|---|---|', ...rows].join(
    '\n',
  );
}

/** The errors each retrier of Lambda's own is for; a contract error's retrier is for that error alone. */
const LAMBDA_POLICIES: Partial<Record<Policy, readonly string[]>> = {
  lambdaService: asl.LAMBDA_SERVICE_ERRORS,
  lambdaThrottled: [asl.LAMBDA_THROTTLED],
  interrupted: [...asl.INTERRUPTED_ERRORS, asl.TASK_TIMEOUT],
};

/** A policy's delays: `5 s ×2, up to 60 s`, or `1 s ×2` without a cap. */
const delaysOf = (backoff: Backoff) =>
  `${backoff.IntervalSeconds} s ×${backoff.BackoffRate}${backoff.MaxDelaySeconds === undefined ? '' : `, up to ${backoff.MaxDelaySeconds} s`}`;

/** The longest wait in all, in seconds, and in minutes past one. */
function longestOf(backoff: Backoff): string {
  const seconds = longestWaitSeconds(backoff);
  return seconds < 60 ? `${seconds} s` : `${seconds} s (${Math.round(seconds / 60)} min)`;
}

/** The retry policy table: a row per retrier of RETRIERS, its errors and its backoff. */
export function retryPolicyTable(): string {
  const rows = keysOf(RETRIERS).map((policy) => {
    const backoff = RETRIERS[policy];
    const errors = (LAMBDA_POLICIES[policy] ?? [policy]).map(code).join(', ');
    return `| ${code(policy)} | ${errors} | ${delaysOf(backoff)} | ${backoff.MaxAttempts} | ${longestOf(backoff)} |`;
  });
  return [
    '| Policy | Errors | Delays | Retries | Longest wait in all |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The marker line before each generated table of the page. */
export const TABLE_MARKERS = {
  errors: '<!-- generated: the error table (npm run asl, from ERROR_CONTRACT and RAISES) -->',
  retries: '<!-- generated: the retry policies (npm run asl, from RETRIERS) -->',
} as const;

/** The table that follows `marker` in `page`: the `|` lines right after it. */
export function tableAfter(page: string, marker: string): string {
  const lines = page.split('\n');
  const at = lines.indexOf(marker);
  if (at < 0) throw new Error(`docs/design.md has no line "${marker}"`);
  const end = lines.findIndex((line, i) => i > at && !line.startsWith('|'));
  return lines.slice(at + 1, end < 0 ? undefined : end).join('\n');
}

/** The page with the table after each marker written anew. */
export function withTables(page: string): string {
  const tables = { errors: errorTable(), retries: retryPolicyTable() };
  return keysOf(TABLE_MARKERS).reduce(
    (text, which) =>
      text.replace(`${TABLE_MARKERS[which]}\n${tableAfter(text, TABLE_MARKERS[which])}`, () =>
        [TABLE_MARKERS[which], tables[which]].join('\n'),
      ),
    page,
  );
}
