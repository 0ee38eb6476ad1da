import { describe, expect, it } from 'vitest';
import { StateCorrupt } from '../../functions/domain/errors.ts';
import { excludedEntities, readState, writeState } from '../../functions/domain/state-store.ts';
import { MemoryStore } from '../fixtures/memory-store.ts';

const config = { stateKey: 'collector-work/citrix_monitor/state.json' };
const where = 's3://logs-bucket/collector-work/citrix_monitor/state.json';
const hour = (iso: string) => Date.parse(iso);
const noState = { lastHourMs: null, end: null, etag: null, file: null };

async function stateFileText(store: MemoryStore): Promise<string | undefined> {
  return (await store.get(config.stateKey))?.body.toString('utf8');
}

describe('readState', () => {
  it('has no last hour when there is no state file yet', async () => {
    const state = await readState(new MemoryStore(), config);

    expect(state).toEqual(noState);
  });

  it("reads the old guide's state file, so its users keep their place", async () => {
    const store = new MemoryStore();
    await store.put(config.stateKey, '{"last_hour_utc": "2026-11-24T10:00:00Z"}');

    const state = await readState(store, config);

    expect(state.lastHourMs).toBe(hour('2026-11-24T10:00:00Z'));
  });

  it.each([
    ['invalid JSON', '{"last_hour_utc": "2026-11-24T10:00', 'is not valid JSON', 'Restore it'],
    ['JSON null', 'null', 'has no valid "last_hour_utc" (found null)', 'Fix the file'],
    [
      'no last_hour_utc',
      '{"updated_at": "2026-11-24T11:15:02Z"}',
      'has no valid "last_hour_utc"',
      'Fix the file',
    ],
    ['a time that is not an hour', '{"last_hour_utc": "2026-11-24T10:30:00Z"}', '10:30:00Z', 'Fix the file'],
    ['a number', '{"last_hour_utc": 1795514400000}', '(found 1795514400000)', 'Fix the file'],
  ])(
    'refuses a state file with %s, naming where it is and what to do',
    async (_what, body, problem, todo) => {
      const store = new MemoryStore();
      await store.put(config.stateKey, body);

      const error = await readState(store, config).then(
        () => new Error('the state file was accepted'),
        (e: unknown) => e as Error,
      );

      expect(error).toBeInstanceOf(StateCorrupt);
      expect(error.message).toContain(where);
      expect(error.message).toContain(problem);
      expect(error.message).toContain(todo);
    },
  );
});

describe('writeState', () => {
  it("creates the first state file in the old guide's format", async () => {
    const store = new MemoryStore();

    const written = await writeState(
      { work: store, config },
      { previous: noState, end: hour('2026-11-24T11:00:00Z') },
      {
        updated_by: 'run-a',
      },
    );

    expect(written).toBe(true);
    expect(JSON.parse((await stateFileText(store)) ?? '')).toEqual({
      last_hour_utc: '2026-11-24T10:00:00Z',
      last_window_end: '2026-11-24T11:00:00Z',
      updated_by: 'run-a',
    });
  });

  it('loses the race when another run created the state file first', async () => {
    const store = new MemoryStore();
    await writeState(
      { work: store, config },
      { previous: noState, end: hour('2026-11-24T11:00:00Z') },
      { updated_by: 'run-a' },
    );

    const written = await writeState(
      { work: store, config },
      { previous: noState, end: hour('2026-11-24T12:00:00Z') },
      {
        updated_by: 'run-b',
      },
    );

    expect(written).toBe(false);
    expect((await readState(store, config)).lastHourMs).toBe(hour('2026-11-24T10:00:00Z'));
  });

  it('advances a state file that nobody changed since it was read', async () => {
    const store = new MemoryStore();
    await store.put(config.stateKey, '{"last_hour_utc": "2026-11-24T10:00:00Z"}');
    const read = await readState(store, config);

    const written = await writeState(
      { work: store, config },
      { previous: read, end: hour('2026-11-24T12:00:00Z') },
      {},
    );

    expect(written).toBe(true);
    expect((await readState(store, config)).lastHourMs).toBe(hour('2026-11-24T11:00:00Z'));
  });

  it('keeps the last whole hour in last_hour_utc and the end of a shorter window in last_window_end', async () => {
    const store = new MemoryStore();
    const read = await readState(store, config);

    await writeState(
      { work: store, config },
      { previous: read, end: Date.parse('2026-11-24T11:25:00Z') },
      {},
    );

    expect(JSON.parse((await stateFileText(store)) ?? '')).toMatchObject({
      last_hour_utc: '2026-11-24T10:00:00Z',
      last_window_end: '2026-11-24T11:25:00Z',
    });
    expect(await readState(store, config)).toMatchObject({
      lastHourMs: hour('2026-11-24T10:00:00Z'),
      end: Date.parse('2026-11-24T11:25:00Z'),
    });
  });

  it("reads a state file from before windows at the end of its hour, and one whose last_hour_utc was set by hand since at that hour's end", async () => {
    const store = new MemoryStore();
    await store.put(config.stateKey, '{"last_hour_utc": "2026-11-24T10:00:00Z"}');
    expect((await readState(store, config)).end).toBe(hour('2026-11-24T11:00:00Z'));

    await store.put(
      config.stateKey,
      '{"last_hour_utc": "2026-11-24T06:00:00Z", "last_window_end": "2026-11-24T11:25:00Z"}',
    );
    expect((await readState(store, config)).end).toBe(hour('2026-11-24T07:00:00Z'));
  });

  it('leaves the file unchanged when another run advanced it since it was read', async () => {
    const store = new MemoryStore();
    await store.put(config.stateKey, '{"last_hour_utc": "2026-11-24T10:00:00Z"}');
    const stale = await readState(store, config);
    await writeState(
      { work: store, config },
      { previous: stale, end: hour('2026-11-24T11:00:00Z') },
      { updated_by: 'run-a' },
    );
    const before = await stateFileText(store);

    const written = await writeState(
      { work: store, config },
      { previous: stale, end: hour('2026-11-24T12:00:00Z') },
      {
        updated_by: 'run-b',
      },
    );

    expect(written).toBe(false);
    expect(await stateFileText(store)).toBe(before);
  });
});

describe('excludedEntities', () => {
  it('records an entity the operator removed from ENTITIES, with the first hour collected without it', () => {
    const previous = { last_hour_utc: '2026-11-24T09:00:00Z', entities: ['Sessions', 'Users'] };

    expect(excludedEntities(previous, ['Sessions'], '2026-11-24T10:00:00Z')).toEqual([
      { entity: 'Users', since: '2026-11-24T10:00:00Z' },
    ]);
  });

  it('keeps the original hour of an exclusion and forgets it once the entity is listed again', () => {
    const previous = {
      entities: ['Sessions'],
      excluded_entities: [
        { entity: 'Users', since: '2026-11-24T10:00:00Z' },
        { entity: 'Machines', since: '2026-11-24T08:00:00Z' },
      ],
    };

    expect(excludedEntities(previous, ['Sessions', 'Machines'], '2026-11-24T12:00:00Z')).toEqual([
      { entity: 'Users', since: '2026-11-24T10:00:00Z' },
    ]);
  });
});
