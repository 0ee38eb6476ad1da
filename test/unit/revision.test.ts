import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEPLOYED_REVISION } from '../../functions/adapters/definition.ts';
import { RedeployedSinceStart } from '../../functions/domain/errors.ts';
import { checkRevision, REVISION_FIELD, revisionOf } from '../../functions/domain/revision.ts';
import { ASL_JSON_PATH, DEFINITION_REVISION, definition } from '../../statemachine/collector.asl.ts';

// The revision a definition carries to the Tasks a redrive enters, and the functions' check of it
// (functions/domain/revision.ts): a redrive after a redeploy fails at once, naming the redeploy.

const file: unknown = JSON.parse(readFileSync(ASL_JSON_PATH, 'utf8'));

/** Every value of the revision field in a definition, at any depth. */
function revisionFields(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(revisionFields);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === REVISION_FIELD ? [inner] : revisionFields(inner),
  );
}

describe('the revision of the state machine definition', () => {
  it('is carried by the Tenants, Plan (of each kind of child) and Report Tasks of the deployed file, and is the revision of that file', () => {
    expect(revisionFields(file)).toEqual([
      DEFINITION_REVISION,
      DEFINITION_REVISION,
      DEFINITION_REVISION,
      DEFINITION_REVISION,
    ]);
    expect(revisionOf(file)).toBe(DEFINITION_REVISION);
  });

  it('is the revision the functions were built with (the ASL file they bundle)', () => {
    expect(DEPLOYED_REVISION).toBe(DEFINITION_REVISION);
  });

  it('changes when a state changes, and not when a comment does', () => {
    const retryChanged = JSON.parse(
      JSON.stringify(definition).replace('"MaxAttempts":12', '"MaxAttempts":11'),
    );
    const commented = { ...definition, Comment: 'another comment' };

    expect(revisionOf(retryChanged)).not.toBe(DEFINITION_REVISION);
    expect(revisionOf(commented)).toBe(DEFINITION_REVISION);
  });
});

describe('the check of an event against the functions’ revision', () => {
  const check = (sent: string | null | undefined) => () =>
    checkRevision({ step: 'Report', runId: 'hourly-1', sent, own: 'aaaaaaaaaaaa' });

  it('lets an event of the same definition through', () => {
    expect(check('aaaaaaaaaaaa')).not.toThrow();
  });

  it('fails an event of another definition with RedeployedSinceStart, saying to start a new execution', () => {
    expect(check('bbbbbbbbbbbb')).toThrow(RedeployedSinceStart);
    expect(check('bbbbbbbbbbbb')).toThrow(
      /^Execution hourly-1 was started by an earlier deployment .* revision bbbbbbbbbbbb, and the functions deployed now are of revision aaaaaaaaaaaa\. A redrive .* cannot run this execution .* Start a new execution instead: the next scheduled run .* citrix-monitor backfill --from HOUR --to HOUR/,
    );
  });

  it('fails an event without a revision (a definition from before revisions) the same way', () => {
    expect(check(undefined)).toThrow(RedeployedSinceStart);
    expect(check(null)).toThrow(/a revision from before definitions carried one/);
  });
});
