/**
 * The entity sets of the Monitor Service OData API: the v4 `Data` endpoints of citrix/monitoring-api
 * (citrix/monitoring-api/docs/index.md), the entity types of its Monitor.Model.md whose sets the Citrix docs name
 * (../shared/docs/citrix-monitor-api.md). ENTITIES may name others only with ALLOW_UNKNOWN_ENTITIES=true:
 * a name outside this list is far more often a typo than a new entity, and a typo fails only at query time.
 */
export const MONITOR_ENTITIES: readonly string[] = Object.freeze([
  'Applications',
  'ApplicationActivitySummaries',
  'ApplicationErrors',
  'ApplicationFaults',
  'ApplicationInstances',
  'Catalogs',
  'ConnectionFailureCategories',
  'ConnectionFailureLogs',
  'Connections',
  'DesktopGroups',
  'FailureLogSummaries',
  'Hotfixes',
  'Hypervisors',
  'LoadIndexes',
  'LoadIndexSummaries',
  'LogOnMetrics',
  'LogOnSummaries',
  'MachineFailureLogs',
  'MachineHotfixLogs',
  'MachineMetric',
  'Machines',
  'ProbeEndpoints',
  'ProbeLogs',
  'ProbeResults',
  'ProbeRules',
  'SessionActivitySummaries',
  'SessionMetrics',
  'Sessions',
  'TaskLogs',
  'Users',
]);

/** Edit distance (insertions, deletions, substitutions) of two short names. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

/**
 * The name of `names` that `name` most likely means: the same but for case, or at most `most` edits away
 * (the nearest; the first of equals). Undefined when `name` is one of them or none is that close.
 */
export function closest(name: string, names: readonly string[], most = 2): string | undefined {
  if (names.includes(name)) return undefined;
  const lower = name.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const candidate of names) {
    const d = distance(lower, candidate.toLowerCase());
    if (d <= most && (best === undefined || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}

/** The known entity a name that is not one most likely means: the same but for case, or 1 or 2 edits away. */
export function closestEntity(name: string): string | undefined {
  return closest(name, MONITOR_ENTITIES);
}
