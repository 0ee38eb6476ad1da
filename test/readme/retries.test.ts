import { describe, expect, it } from 'vitest';
import { longestWaitSeconds, RETRIERS } from '../../statemachine/collector.asl.ts';
import { page, section } from './readme.ts';

// The table of retry policies (docs/design.md, section "Errors") against the policies the state machine is
// written from (RETRIERS in statemachine/collector.asl.ts): a backoff changed in one is changed in the other.

/** A row of the policy table: `| \`name\` | errors | delays | retries | longest wait |`. */
interface PolicyRow {
  readonly name: string;
  readonly delays: string;
  readonly retries: string;
  readonly longest: string;
}

function policyRows(): PolicyRow[] {
  const errors = section(page('docs/design.md'), "Errors (the vocabulary of the state machine's Retry)");
  const start = errors.indexOf('| Policy |');
  if (start < 0) throw new Error('The "Errors" section of docs/design.md has no "| Policy |" table');
  return errors
    .slice(start)
    .split('\n')
    .slice(2)
    .filter((line) => line.startsWith('|'))
    .map((line) => {
      const [name = '', , delays = '', retries = '', longest = ''] = line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      return { name: name.replace(/`/g, ''), delays, retries, longest };
    });
}

/** How the table writes a policy's delays: `5 s ×2, up to 60 s`, or `1 s ×2` without a cap. */
const delaysOf = (backoff: (typeof RETRIERS)[keyof typeof RETRIERS]) =>
  `${backoff.IntervalSeconds} s ×${backoff.BackoffRate}${backoff.MaxDelaySeconds === undefined ? '' : `, up to ${backoff.MaxDelaySeconds} s`}`;

describe("docs/design.md's retry policies", () => {
  const rows = policyRows();

  it('list every policy of RETRIERS once, and no other', () => {
    expect(rows.map((row) => row.name).sort()).toEqual(Object.keys(RETRIERS).sort());
  });

  it.each(Object.entries(RETRIERS))(
    'give %s the delays, retries and longest wait the state machine has',
    (name, backoff) => {
      const row = rows.find((r) => r.name === name);

      expect(row?.delays).toBe(delaysOf(backoff));
      expect(row?.retries).toBe(String(backoff.MaxAttempts));
      expect(row?.longest).toMatch(new RegExp(`^${longestWaitSeconds(backoff)} s\\b`));
    },
  );
});
