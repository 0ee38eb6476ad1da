import { describe, expect, it } from 'vitest';
import { ERROR_CONTRACT } from '../../functions/domain/errors.ts';
import { longestWaitSeconds, RETRIERS } from '../../statemachine/collector.asl.ts';
import { errorTable, retryPolicyTable, TABLE_MARKERS, tableAfter } from '../../statemachine/error-tables.ts';
import { page } from './readme.ts';

// The error table and the retry policy table of docs/design.md (section "Errors") against the contract they
// are written from (ERROR_CONTRACT in functions/domain/errors.ts; RAISES and RETRIERS in
// statemachine/collector.asl.ts): an error or a backoff changed in one is changed in the other.

const REGENERATE = 'regenerate it: npm run asl';
const design = page('docs/design.md');

/** The cells of each body row of a Markdown table. */
const cellsOf = (table: string) =>
  table
    .split('\n')
    .slice(2)
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/`/g, '')),
    );

describe("docs/design.md's error table", () => {
  it('is the table ERROR_CONTRACT and RAISES make', () => {
    expect(tableAfter(design, TABLE_MARKERS.errors), REGENERATE).toBe(errorTable());
  });

  it('names every error of the contract once, and no other', () => {
    const names = cellsOf(tableAfter(design, TABLE_MARKERS.errors)).map(([name]) => name);

    expect(names).toEqual(Object.keys(ERROR_CONTRACT));
  });
});

describe("docs/design.md's retry policies", () => {
  const rows = cellsOf(tableAfter(design, TABLE_MARKERS.retries));

  it('are the table RETRIERS makes', () => {
    expect(tableAfter(design, TABLE_MARKERS.retries), REGENERATE).toBe(retryPolicyTable());
  });

  it.each(Object.entries(RETRIERS))(
    'give %s the interval, backoff rate, cap, retries and longest wait the state machine has',
    (name, backoff) => {
      const [, , delays, retries, longest] = rows.find(([policy]) => policy === name) ?? [];
      const cap = backoff.MaxDelaySeconds === undefined ? '' : `, up to ${backoff.MaxDelaySeconds} s`;

      expect(delays).toBe(`${backoff.IntervalSeconds} s ×${backoff.BackoffRate}${cap}`);
      expect(retries).toBe(String(backoff.MaxAttempts));
      expect(longest).toMatch(new RegExp(`^${longestWaitSeconds(backoff)} s\\b`));
    },
  );
});
