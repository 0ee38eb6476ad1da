/**
 * Randomized fault-injection trials for the exactly-once promise, on Ceph RGW (real S3 conditional
 * writes and versioning). Each trial crashes, races, redrives, fails or cuts off the collector in one
 * of several ways, lets the SecOps feed ingest (and sometimes delete) what was published, recovers the
 * way an operator or the schedule would, and then checks every due hour row by row against the
 * stand-in's data. FAULT_TRIALS (default 200) and FAULT_SEED (default: random, printed) replay a run.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecutionOutcome } from '../../local/workflow.ts';
import { HOUR, iso, newTally, World } from './world.ts';

const TRIALS = Number(process.env.FAULT_TRIALS ?? 200);
const SEED = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ALL_ENTITIES = ['Machines', 'Sessions', 'Connections', 'Applications', 'Users'];
const KINDS = [
  'crash',
  'concurrent',
  'redrive-after-other',
  'persistent-failure',
  'outage',
  'backfill',
  'ahead',
] as const;
const RUN_TAG = Date.now().toString(36);

/** mulberry32: a small seeded generator, so a failing trial can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
  };
}

const tally = newTally();

afterAll(() => {
  const lines = [
    `fault-injection trials (seed ${SEED}; replay with FAULT_SEED=${SEED} FAULT_TRIALS=${TRIALS})`,
    `  trials:                   ${tally.trials}`,
    `  executions:               ${tally.executions}`,
    '  faults injected by kind:',
    ...Object.entries(tally.faults)
      .sort()
      .map(([kind, n]) => `    ${kind.padEnd(46)} ${n}`),
    `  rows checked:             ${tally.rowsExpected}`,
    `  rows lost:                ${tally.rowsLost}`,
    `  rows duplicated:          ${tally.rowsDuplicated}`,
    `  published keys rewritten: ${tally.keysRewritten}`,
    `  state moved backwards:    ${tally.stateBackwards}`,
  ];
  console.log(lines.join('\n'));
});

/** Runs the schedule (and, when asked, redrives) until the state is on the newest due hour. */
async function recover(
  world: World,
  last: ExecutionOutcome,
  rng: ReturnType<typeof random>,
  deleting: boolean,
) {
  let outcome = last;
  for (
    let attempt = 0;
    attempt < 8 && !(outcome.status === 'SUCCEEDED' && (await world.state()) === iso(world.newestDue()));
    attempt++
  ) {
    if (outcome.status !== 'SUCCEEDED' && outcome.redrive && rng.chance(0.5)) {
      world.fault('redrive of a failed or killed execution');
      outcome = await world.run({ executionName: outcome.executionName, redriveOf: outcome.redrive });
    } else {
      // The next scheduled run comes later: long enough for a lease a killed run held to expire.
      world.clock += 21 * 60_000;
      outcome = await world.run();
    }
    await world.feed(deleting);
  }
  return outcome;
}

function sprinkleCitrixFaults(world: World, rng: ReturnType<typeof random>) {
  for (const kind of ['429', '503-html', 'truncated', 'reset'] as const) {
    if (rng.chance(0.3)) world.standin.injectFault({ kind, times: rng.int(1, 3), retryAfterSeconds: 0 });
  }
}

async function trial(n: number): Promise<string[]> {
  const rng = random(SEED + n);
  const kind = KINDS[n % KINDS.length] ?? 'crash';
  const entities = ALL_ENTITIES.filter(() => rng.chance(0.6));
  if (entities.length === 0) entities.push(rng.pick(ALL_ENTITIES));
  const world = await World.create({
    name: `trial-${RUN_TAG}-${n}`,
    tally,
    clock: Date.now() - rng.int(0, 20) * HOUR - rng.int(0, 59) * 60_000,
    rowsPerHour: rng.int(5, 40),
    serverPageSize: rng.int(5, 30),
    seed: SEED + n,
    entities,
  });
  try {
    const deleting = rng.chance(0.5);
    const start = world.newestDue() - rng.int(1, 3) * HOUR;
    await world.setState(start);
    const from = start + HOUR;
    const problems: string[] = [];
    sprinkleCitrixFaults(world, rng);
    let outcome: ExecutionOutcome;

    if (kind === 'crash') {
      const processCrash = rng.chance(0.7);
      outcome = await world.run({
        crash: {
          atWrite: rng.int(1, 30),
          when: rng.chance(0.5) ? 'before' : 'after',
          kind: processCrash ? 'process' : 'lambda',
        },
      });
      await world.feed(deleting);
      outcome = await recover(world, outcome, rng, deleting);
    } else if (kind === 'concurrent') {
      world.fault('two executions at once');
      const crashOne = rng.chance(0.4);
      const [a] = await Promise.all([
        world.run(crashOne ? { crash: { atWrite: rng.int(1, 20), when: 'after', kind: 'process' } } : {}),
        world.run(),
      ]);
      await world.feed(deleting);
      outcome = await recover(world, a, rng, deleting);
    } else if (kind === 'redrive-after-other') {
      const entity = rng.pick(entities);
      world.standin.failEntity(entity);
      const failed = await world.run();
      if (failed.status !== 'FAILED')
        problems.push(`the execution with ${entity} failing ended ${failed.status}`);
      world.standin.failEntity(null);
      const other = await world.run();
      await world.feed(deleting);
      if (other.status !== 'SUCCEEDED')
        problems.push(`the next execution ended ${other.status}: ${other.cause}`);
      world.fault('redrive after another execution succeeded');
      outcome = await world.run({
        executionName: failed.executionName,
        redriveOf: failed.redrive,
      });
      const wrote = outcome.output?.committed.filter((c) => c.objects > 0) ?? [];
      if (outcome.status !== 'SUCCEEDED' || wrote.length > 0) {
        problems.push(
          `the late redrive ended ${outcome.status} and wrote ${wrote.length} hours: ${outcome.cause ?? ''}`,
        );
      }
    } else if (kind === 'persistent-failure' || kind === 'outage') {
      const failing = kind === 'outage' ? entities : [rng.pick(entities)];
      const runs = kind === 'outage' ? rng.int(2, 8) : rng.int(2, 4);
      world.fault(kind === 'outage' ? 'Citrix API cut off (hours)' : 'entity failing (runs)');
      for (const e of failing) world.standin.failEntity(e);
      const before = await world.state();
      for (let i = 0; i < runs; i++) {
        world.clock += HOUR;
        if (kind === 'outage') world.fault('Citrix API cut off (hours)');
        const failed = await world.run();
        await world.feed(deleting);
        if (
          failed.status !== 'FAILED' ||
          !failed.cause?.includes(`entity ${failing[0] === undefined ? '' : ''}`)
        ) {
          problems.push(`run ${i} during the failure ended ${failed.status}`);
        }
        if (!/Hour \d{4}-\d\d-\d\dT\d\d:00:00Z, entity \w+/.test(failed.cause ?? '')) {
          problems.push(`run ${i} failed without naming the hour and entity: ${failed.cause}`);
        }
        if ((await world.state()) !== before)
          problems.push(`the state moved during the failure: ${await world.state()}`);
      }
      world.standin.failEntity(null);
      outcome = await recover(world, await world.run(), rng, deleting);
    } else if (kind === 'ahead') {
      // An operator starts an hour ahead of the state: it is published, but the state must stay behind
      // the hours between, which only the schedule publishes; then the schedule catches up.
      world.fault('run ahead of the state');
      // Leave at least one unpublished hour between the state and the hour run ahead.
      while (world.newestDue() < from + HOUR) world.clock += HOUR;
      const ahead = world.newestDue() - (world.newestDue() > from + HOUR && rng.chance(0.5) ? HOUR : 0);
      const early = await world.run({ input: { hour: iso(ahead) } });
      await world.feed(deleting);
      if (early.status !== 'SUCCEEDED') problems.push(`the run ahead ended ${early.status}: ${early.cause}`);
      if ((await world.state()) !== iso(start))
        problems.push(
          `the run of ${iso(ahead)} moved the state past unpublished hours: ${await world.state()}`,
        );
      outcome = await recover(world, await world.run(), rng, deleting);
    } else {
      outcome = await recover(world, await world.run(), rng, deleting);
      const past = rng.chance(0.5) ? from : from - rng.int(1, 5) * HOUR;
      world.fault('backfill of a past hour');
      const backfill = await world.run({ input: { hour: iso(past) } });
      await world.feed(deleting);
      const committed = backfill.output?.committed[0];
      if (backfill.status !== 'SUCCEEDED')
        problems.push(`the backfill ended ${backfill.status}: ${backfill.cause}`);
      if (committed?.state.moved) problems.push(`the backfill of ${iso(past)} moved the state`);
      if (past >= from && committed?.outcome !== 'already-published')
        problems.push(`the backfill republished ${iso(past)}`);
      if (past < from) problems.push(...(await world.check(past, entities, past)));
    }

    if (outcome.status !== 'SUCCEEDED')
      problems.push(`could not recover: ${outcome.status} ${outcome.error}: ${outcome.cause}`);
    if ((await world.state()) !== iso(world.newestDue()))
      problems.push(`the state is ${await world.state()}, not ${iso(world.newestDue())}`);
    for (const [k, v] of Object.entries(world.standin.stats.faultsInjected))
      tally.faults[`Citrix ${k}`] = (tally.faults[`Citrix ${k}`] ?? 0) + v;
    problems.push(...(await world.check(from, entities)));
    tally.trials += 1;
    return problems.map((p) => `trial ${n} (${kind}): ${p}`);
  } finally {
    await world.stop();
  }
}

describe(`exactly once through ${TRIALS} randomized fault trials`, () => {
  it('loses no row, duplicates no row, rewrites no published key and never moves the state backwards', async () => {
    const problems: string[] = [];
    for (let n = 0; n < TRIALS; n++) {
      const started = Date.now();
      problems.push(...(await trial(n)));
      if (process.env.FAULT_VERBOSE)
        console.log(`trial ${n} (${KINDS[n % KINDS.length]}): ${Date.now() - started} ms`);
    }

    expect(problems).toEqual([]);
    expect(tally).toMatchObject({
      trials: TRIALS,
      rowsLost: 0,
      rowsDuplicated: 0,
      keysRewritten: 0,
      stateBackwards: 0,
    });
    expect(tally.rowsExpected).toBeGreaterThan(0);
  }, 3_600_000);
});
