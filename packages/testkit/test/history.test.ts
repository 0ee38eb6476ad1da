/**
 * How much of Step Functions' 25,000 events per execution the collector uses, counted from the ASL
 * (packages/testkit/src/history.ts). The states entered that the counts start from are checked against a run of the
 * real state machine in test/integration/history.test.ts.
 */
import { childEvents, PARENT_ENTRIES, parentEvents, tenantEntries } from '@citrix-monitor/testkit/history';
import { loadDefinition } from '@citrix-monitor/testkit/workflow';
import { describe, expect, it } from 'vitest';

const definition = loadDefinition();
const LIMIT = 25_000;

describe("an execution's history", () => {
  it('holds the parent once, whatever the number of tenants: 5,000 tenants fit in one execution', () => {
    // Each tenant is a child execution: the parent enters its states once, at 1 tenant or 5,000.
    const parent = parentEvents(definition, PARENT_ENTRIES);

    // Tenants, two Choices, two Distributed Maps, Hand on, Collected, Report, Again?, Done, and the execution.
    expect(parent).toBe(35);
    expect(parent).toBeLessThan(LIMIT);
  });

  it("holds a tenant's whole day of catch-up in its own child, and a week of five entities", () => {
    const child = (hours: number, entities: number) =>
      childEvents(definition, 'Collect tenants', tenantEntries(hours, entities));

    expect(child(1, 5)).toBe(15 + 68);
    expect(child(24, 5)).toBe(15 + 24 * 68);
    // MAX_HOURS_PER_RUN at most 168: a week of five entities, with room for retries and continuations.
    expect(child(168, 5)).toBeLessThan(LIMIT / 2);
    expect(child(168, 12)).toBeLessThan(LIMIT);
  });
});
