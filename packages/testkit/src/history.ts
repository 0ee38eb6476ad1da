/**
 * The Step Functions history events an execution of the collector's ASL writes, counted from the states
 * it enters. Step Functions keeps at most 25,000 events per execution; a Distributed Map's children are
 * executions of their own, so the parent's history holds the map once, whatever the number of tenants.
 *
 * Events per entry of a state, as a Standard workflow's history records them (AWS, "HistoryEvent"):
 * - Task on a Lambda function: TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted,
 *   LambdaFunctionSucceeded, TaskStateExited (5; each retry adds Scheduled, Started and Failed);
 * - Pass, Choice, Succeed, Fail, Wait: Entered and Exited (2);
 * - Parallel: Entered, Started, Succeeded, Exited (4), plus its branches' states;
 * - inline Map: Entered, Started, Succeeded, Exited (4), plus MapIterationStarted and
 *   MapIterationSucceeded per item (2) and the iterations' states;
 * - Distributed Map: MapStateEntered, MapRunStarted, MapRunSucceeded, MapStateExited (4) in the parent;
 *   each item is a child execution with ExecutionStarted and ExecutionSucceeded (2) and its states.
 * Retries and a page fetch looping on its continuation add to these: the figures are the floor of a clean run.
 */
import { z } from 'zod';

/** A Map's item processor (or, in older definitions, its Iterator): as much of it as the counts read. */
const processorSchema = z.looseObject({
  StartAt: z.string(),
  States: z.record(z.string(), z.unknown()),
  ProcessorConfig: z.looseObject({ Mode: z.string().optional() }).optional(),
});

/** A state of the ASL, as much of it as the counts read. */
const stateSchema = z.looseObject({
  Type: z.string(),
  Branches: z.array(z.looseObject({ States: z.unknown() })).optional(),
  ItemProcessor: processorSchema.optional(),
  Iterator: processorSchema.optional(),
});
type State = z.infer<typeof stateSchema>;

/** The states of one scope (a definition, a Parallel branch, a Map's processor), by name. */
const scopeSchema = z.record(z.string(), stateSchema);

/** A definition: its states are all the counts read. */
interface Definition {
  readonly States: unknown;
}

/** Events per entry of a state, by its Type (2 for any other); the local runner meters its runs by them too. */
export const PER_ENTRY: Readonly<Record<string, number>> = {
  Task: 5,
  Pass: 2,
  Choice: 2,
  Succeed: 2,
  Fail: 2,
  Wait: 2,
  Parallel: 4,
  Map: 4,
};
export const PER_ITERATION = 2;
export const PER_EXECUTION = 2;

const isDistributed = (state: State): boolean => state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED';

/**
 * The events the states of one scope write, given how often each state was entered (`entered`, by state
 * name: the ASL's names are unique): descends into Parallel branches and inline Map iterations (an
 * iteration per entry of the iterator's first state), not into a Distributed Map's children.
 */
export function scopeEvents(states: unknown, entered: Readonly<Record<string, number>>): number {
  let events = 0;
  for (const [name, state] of Object.entries(scopeSchema.parse(states))) {
    const times = entered[name] ?? 0;
    events += times * (PER_ENTRY[state.Type] ?? 2);
    if (state.Type === 'Parallel') {
      for (const branch of state.Branches ?? []) events += scopeEvents(branch.States, entered);
    }
    if (state.Type === 'Map' && !isDistributed(state)) {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (!processor) throw new Error(`The Map state ${name} has neither ItemProcessor nor Iterator.`);
      events += (entered[processor.StartAt] ?? 0) * PER_ITERATION + scopeEvents(processor.States, entered);
    }
  }
  return events;
}

/** The parent execution's events: its own states, the Distributed Map counted once. */
export const parentEvents = (definition: Definition, entered: Readonly<Record<string, number>>) =>
  PER_EXECUTION + scopeEvents(definition.States, entered);

/** One child execution's events, from the states one child entered. */
export function childEvents(
  definition: Definition,
  mapName: string,
  entered: Readonly<Record<string, number>>,
): number {
  const processor = scopeSchema.parse(definition.States)[mapName]?.ItemProcessor;
  if (!processor) throw new Error(`The definition has no Map state ${mapName} with an ItemProcessor.`);
  return PER_EXECUTION + scopeEvents(processor.States, entered);
}

/**
 * The states one tenant's child enters in a clean run: `windows` windows (none published before) of
 * `entities` entities, each entity-window in one page-fetch invocation.
 */
export function tenantEntries(windows: number, entities: number): Record<string, number> {
  const entityWindows = windows * entities;
  return {
    Tenant: 1,
    Plan: 1,
    Windows: 1,
    'Already published?': windows,
    Entities: windows,
    FetchPages: entityWindows,
    'More pages?': entityWindows,
    'Entity fetched': entityWindows,
    Commit: windows,
  };
}

/**
 * The states the parent enters in a run without failures, at any number of tenants, with tenants behind
 * (Standard children) and, with `onTime`, tenants on time too (Express children, then the Hand on step).
 */
export function parentEntries(onTime = false): Readonly<Record<string, number>> {
  return {
    Tenants: 1,
    'Any on time?': 1,
    ...(onTime ? { 'Collect on time': 1, HandOn: 1 } : {}),
    'Any behind?': 1,
    'Collect tenants': 1,
    Collected: 1,
    Report: 1,
    'Again?': 1,
    Done: 1,
  };
}

/** The most states the parent enters in a run without failures: tenants of both kinds. */
export const PARENT_ENTRIES: Readonly<Record<string, number>> = parentEntries(true);
