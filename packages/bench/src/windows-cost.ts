/**
 * The windows bench's cost model (windows.ts): what one hour of executions, as windows-run.ts recorded them,
 * costs by service. Counted from the run, not assumed:
 * - Step Functions Standard: the states entered by the parent and by the Standard children (the event log's
 *   StateEntered, and what the handler invocations imply: cost.ts derivedEntered; the higher of the two, each
 *   scope on its own), the retries of their Tasks, and one transition per child execution a Distributed Map
 *   started, Express or Standard.
 * - Step Functions Express: one request per Express child, and each child's duration at real Citrix speed:
 *   its own wall time here, each of its Lambda invocations replaced by that invocation's modelled duration
 *   (below), rounded up to 100 ms, at the memory AWS's estimate gives it (cost.ts expressMemoryMB).
 * - Lambda: each invocation's modelled duration, rounded up to the ms, at its function's memory: its wall time
 *   here, each Citrix request's stand-in latency replaced by the real request's time, plus its CPU time
 *   stretched to the memory's CPU share (cost.ts stretch); and $0.20 per 1M requests.
 * - S3: the requests that reached s3rver, by price tier.
 */
import type { ExecutionRef } from '@citrix-monitor/testkit/workflow';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { z } from 'zod';
import {
  derivedEntered,
  EXPRESS_PER_GB_SECOND,
  EXPRESS_PER_REQUEST,
  expressGbSeconds,
  expressMemoryMB,
  FUNCTION,
  HOURS_PER_MONTH,
  LAMBDA_PER_GB_SECOND,
  LAMBDA_PER_REQUEST,
  SFN_PER_TRANSITION,
  s3Tiers,
  stretch,
  sum,
} from './cost.ts';
import type { Call } from './metered-execution.ts';
import type { S3Requests } from './s3-counter.ts';
import type { WindowsExecution } from './windows-run.ts';

type Scope = ExecutionRef['type'];

/** A Distributed or inline Map's item processor config: the parts the benches read, the rest kept. */
const processorConfig = z.looseObject({ Mode: z.string().optional(), ExecutionType: z.string().optional() });

/** The parts of a state machine definition (statemachine/collector.asl.json) the benches read. */
export interface AslStates {
  readonly States: Record<string, AslState>;
}
export interface AslState {
  readonly Type: string;
  readonly ItemProcessor?:
    | (AslStates & { readonly ProcessorConfig?: z.infer<typeof processorConfig> })
    | undefined;
  readonly Iterator?: AslStates | undefined;
  readonly Branches?: readonly AslStates[] | undefined;
}
export const aslState: z.ZodType<AslState> = z.lazy(() =>
  z.object({
    Type: z.string(),
    ItemProcessor: z
      .object({ States: z.record(z.string(), aslState), ProcessorConfig: processorConfig.optional() })
      .optional(),
    Iterator: aslStates.optional(),
    Branches: z.array(aslStates).optional(),
  }),
);
export const aslStates: z.ZodType<AslStates> = z.lazy(() =>
  z.object({ States: z.record(z.string(), aslState) }),
);

/** The execution type a state's item processor runs its items in: a Distributed Map's children's, else `scope`. */
const innerScope = (state: AslState, scope: Scope): Scope => {
  const config = state.ItemProcessor?.ProcessorConfig;
  if (config?.Mode !== 'DISTRIBUTED') return scope;
  return config.ExecutionType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD';
};

/**
 * The execution each state of `definition` runs in, by state name (the ASL's names are unique): the parent's
 * own states, and each Distributed Map's item states, in a child of that map's ExecutionType.
 */
export function stateScopes(definition: StateMachineDefinition): Map<string, Scope> {
  const scopes = new Map<string, Scope>();
  const walk = (states: AslStates | undefined, scope: Scope): void => {
    for (const [name, state] of Object.entries(states?.States ?? {})) {
      scopes.set(name, scope);
      for (const branch of state.Branches ?? []) walk(branch, scope);
      walk(state.ItemProcessor ?? state.Iterator, innerScope(state, scope));
    }
  };
  walk(aslStates.parse(definition), 'PARENT');
  return scopes;
}

/** How each invocation's Lambda duration is modelled at real speed. */
export interface SpeedModel {
  /** A Citrix request's time at real speed (a 100-row page at 35 rows/s: 2,857 ms), and at the stand-in. */
  readonly realRequestMs: number;
  readonly standinRequestMs: number;
  /** Each function's memory, MB (serverless.yml). */
  readonly memory: Readonly<Record<string, number>>;
}

/** An invocation's duration at real speed, ms, unrounded: its wall time, its requests at real speed, its CPU stretched. */
export function modelledMs(call: Call, requests: number, model: SpeedModel): number {
  const wall = call.endedMs - call.startedMs + requests * (model.realRequestMs - model.standinRequestMs);
  return wall + call.cpuMs * stretch(model.memory[FUNCTION[call.state]] ?? 0);
}

/**
 * Each child execution's duration at real speed, ms: its wall time here with each of its invocations' wall
 * time replaced by that invocation's modelled duration. `modelled[j]` is `calls[j]`'s.
 */
export function childDurations(
  execution: Pick<WindowsExecution, 'calls' | 'executions'>,
  modelled: readonly number[],
): Array<{ name: string; type: Scope; ms: number; localMs: number }> {
  const children = new Map<string, { type: Scope; replaced: number }>();
  for (const [j, call] of execution.calls.entries()) {
    if (call.execution.type === 'PARENT') continue;
    const child = children.get(call.execution.name) ?? { type: call.execution.type, replaced: 0 };
    child.replaced += (modelled[j] ?? 0) - (call.endedMs - call.startedMs);
    children.set(call.execution.name, child);
  }
  return [...children].map(([name, { type, replaced }]) => {
    const span = execution.executions.find((e) => e.name === name);
    if (!span) throw new Error(`child execution ${name} invoked handlers but its run was not timed`);
    const localMs = span.endedMs - span.startedMs;
    return { name, type, ms: localMs + replaced, localMs };
  });
}

/** One hour of executions of `tenants` tenants, as windows.ts measured them. */
export interface HourRun {
  readonly tenants: number;
  readonly executions: readonly WindowsExecution[];
  /** Per execution, per call: the Citrix data requests made during it. */
  readonly requestsPerCall: readonly (readonly number[])[];
  readonly s3: S3Requests;
}

export interface Account {
  /** The parent executions, and the children they started by type. */
  readonly executions: number;
  readonly children: { readonly express: number; readonly standard: number };
  /** States entered, billed as Standard transitions: the parent's and the Standard children's. */
  readonly entered: { readonly parent: number; readonly standardChildren: number };
  /** Their totals as the event log and as the invocations count them. */
  readonly enteredLog: number;
  readonly enteredDerived: number;
  /** States the Express children entered (not billed per transition), the higher count. */
  readonly expressEntered: number;
  /** Failed Task invocations retried in the parent and the Standard children. */
  readonly retries: number;
  /** Billed Standard transitions: states entered + retries + one per child execution started. */
  readonly transitions: number;
  /** Express children's billed memory (MB) and GB-s. */
  readonly expressMemoryMB: number;
  readonly expressGbSeconds: number;
  /** The longest child at real speed, and its wall time here, s; and the most Step Functions' own time in one (here). */
  readonly longestChildS: number;
  readonly longestChildLocalS: number;
  readonly invocations: Record<string, number>;
  readonly gbSeconds: Record<string, number>;
  readonly s3: ReturnType<typeof s3Tiers>;
  /** Dollars for the whole run (every tenant's hour). */
  readonly dollars: {
    readonly standard: number;
    readonly express: number;
    readonly lambda: number;
    readonly s3: number;
    readonly total: number;
  };
}

/** What one hour of executions used, counted execution by execution. */
interface Usage {
  parent: number;
  standardChildren: number;
  enteredLog: number;
  enteredDerived: number;
  expressEntered: number;
  retries: number;
  readonly children: { express: number; standard: number };
  readonly expressMs: number[];
  longest: { readonly ms: number; readonly localMs: number };
  expressSteps: number;
  dataBytes: number;
  readonly invocations: Record<string, number>;
  readonly gbSeconds: Record<string, number>;
}

type ScopeOf = (name: string) => Scope;

/** The states `e` entered, by scope: each scope at the higher of the event log's and the invocations' count. */
function addEntered(u: Usage, e: WindowsExecution, scopeOf: ScopeOf): void {
  const ok = (name: string) => e.calls.filter((c) => c.stateName === name && !c.failed).length;
  const derived = derivedEntered(ok, e.plans, e.status === 'SUCCEEDED').entered;
  const scoped = (entered: Record<string, number>, scope: Scope) =>
    sum(Object.entries(entered).flatMap(([name, n]) => (scopeOf(name) === scope ? [n] : [])));
  // Each scope at the higher of its two counts (the log can drop the last events of a map iteration).
  const higher = (scope: Scope) => Math.max(scoped(e.statesEntered, scope), scoped(derived, scope));
  u.parent += higher('PARENT');
  u.standardChildren += higher('STANDARD');
  u.expressEntered += higher('EXPRESS');
  const billed = (entered: Record<string, number>) => scoped(entered, 'PARENT') + scoped(entered, 'STANDARD');
  u.enteredLog += billed(e.statesEntered);
  u.enteredDerived += billed(derived);
  u.retries += e.calls.filter((c) => c.failed && scopeOf(c.stateName) !== 'EXPRESS').length;
}

/** An execution, and each of its calls' duration at real speed, ms (`modelled[j]` is `e.calls[j]`'s). */
interface ModelledExecution {
  readonly e: WindowsExecution;
  readonly modelled: readonly number[];
}

/** Each invocation of `e.calls`, by function, and its GB-s at its modelled duration. */
function addInvocations(
  u: Usage,
  { e: { calls }, modelled }: ModelledExecution,
  memory: SpeedModel['memory'],
): void {
  for (const [j, c] of calls.entries()) {
    const fn = FUNCTION[c.state];
    const ms = Math.ceil(modelled[j] ?? 0);
    u.invocations[fn] = (u.invocations[fn] ?? 0) + 1;
    u.gbSeconds[fn] = (u.gbSeconds[fn] ?? 0) + (ms / 1000) * ((memory[fn] ?? 0) / 1024);
  }
}

/** The children `e` started, by type, the Express ones' durations and the longest at real speed. */
function addChildren(u: Usage, { e, modelled }: ModelledExecution, scopeOf: ScopeOf): void {
  const durations = childDurations(e, modelled);
  const started = e.express.children + e.standardChildren;
  if (durations.length !== started) {
    throw new Error(
      `${e.name}: the run started ${started} children, ${durations.length} of them invoked handlers`,
    );
  }
  for (const child of durations) {
    const stateName = e.calls.find((c) => c.execution.name === child.name)?.stateName ?? '';
    if (scopeOf(stateName) === 'EXPRESS') {
      u.children.express += 1;
      u.expressMs.push(child.ms);
    } else u.children.standard += 1;
    if (child.ms > u.longest.ms) u.longest = child;
  }
}

/**
 * AWS's memory estimate per Express child: its Parallel (Tenant), its Windows map, an Entities map per
 * window not yet published; each holding at most the run's largest state output.
 */
function addExpressMemory(u: Usage, e: WindowsExecution, scopeOf: ScopeOf): void {
  for (const p of e.plans.filter((x) => scopeOf(x.plan ?? 'Plan') === 'EXPRESS')) {
    u.expressSteps = Math.max(u.expressSteps, 2 + p.windows.filter((w) => !w.published).length);
  }
  u.dataBytes = Math.max(u.dataBytes, e.largestOutputBytes);
}

/** What `run`'s executions used, each state priced in the scope `definition` gives it. */
function usageOf(run: HourRun, definition: StateMachineDefinition, model: SpeedModel): Usage {
  const scopes = stateScopes(definition);
  const scopeOf = (name: string): Scope => scopes.get(name) ?? 'PARENT';
  const u: Usage = {
    parent: 0,
    standardChildren: 0,
    enteredLog: 0,
    enteredDerived: 0,
    expressEntered: 0,
    retries: 0,
    children: { express: 0, standard: 0 },
    expressMs: [],
    longest: { ms: 0, localMs: 0 },
    expressSteps: 0,
    dataBytes: 0,
    invocations: {},
    gbSeconds: {},
  };
  for (const [i, e] of run.executions.entries()) {
    addEntered(u, e, scopeOf);
    const modelled = e.calls.map((c, j) => modelledMs(c, run.requestsPerCall[i]?.[j] ?? 0, model));
    addInvocations(u, { e, modelled }, model.memory);
    addChildren(u, { e, modelled }, scopeOf);
    addExpressMemory(u, e, scopeOf);
  }
  return u;
}

/**
 * Prices one hour of executions as if run with `definition`: a child is billed as an Express execution only
 * if the Distributed Map whose states it entered says EXPRESS there. The run's own definition gives what it
 * was billed; the all-Standard one prices the same executions as the baseline would be billed.
 */
/** What an account needs besides the definition: the speed model and the definition's size. */
export interface AccountModel {
  readonly model: SpeedModel;
  /** The definition's size as deployed: the ASL file, without its formatting. */
  readonly definitionBytes: number;
}

export function account(
  run: HourRun,
  definition: StateMachineDefinition,
  { model, definitionBytes }: AccountModel,
): Account {
  const u = usageOf(run, definition, model);
  const { children, parent, standardChildren, retries, invocations, gbSeconds } = u;
  const transitions = parent + standardChildren + retries + children.express + children.standard;
  const memoryMB = expressMemoryMB(definitionBytes, u.dataBytes, u.expressSteps);
  const expressGb = sum(u.expressMs.map((ms) => expressGbSeconds(ms, memoryMB)));
  const s3 = s3Tiers(run.s3);
  const standard = transitions * SFN_PER_TRANSITION;
  const express = children.express * EXPRESS_PER_REQUEST + expressGb * EXPRESS_PER_GB_SECOND;
  const lambda =
    sum(Object.values(gbSeconds)) * LAMBDA_PER_GB_SECOND +
    sum(Object.values(invocations)) * LAMBDA_PER_REQUEST;
  return {
    executions: run.executions.length,
    children,
    entered: { parent, standardChildren },
    enteredLog: u.enteredLog,
    enteredDerived: u.enteredDerived,
    expressEntered: u.expressEntered,
    retries,
    transitions,
    expressMemoryMB: memoryMB,
    expressGbSeconds: expressGb,
    longestChildS: u.longest.ms / 1000,
    longestChildLocalS: u.longest.localMs / 1000,
    invocations,
    gbSeconds,
    s3,
    dollars: { standard, express, lambda, s3: s3.dollars, total: standard + express + lambda + s3.dollars },
  };
}

/** Dollars per tenant-month: the run's dollars for one hour of `tenants` tenants' data, over 730 hours. */
export const perTenantMonth = (dollars: number, tenants: number): number =>
  (HOURS_PER_MONTH * dollars) / tenants;
