import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../functions/domain/ports.ts';

/** What a store under test is, and what its server is known to do. */
export interface StoreUnderTest {
  /** A store on an empty bucket. */
  readonly store: ObjectStore;
  /** Whether the bucket keeps versions (then `everWritten` can tell). */
  readonly versioned: boolean;
  /** Whether the server enforces `If-None-Match: *` on a copy (AWS S3 does; Ceph RGW 16 does not). */
  readonly enforcesCopyCondition: boolean;
}

/**
 * The ObjectStore contract: the S3 semantics the exactly-once design relies on. It runs against the
 * in-memory store the unit tests use (test/unit/object-store.test.ts) and against Ceph RGW, a server that
 * enforces conditional writes (test/faults/object-store.test.ts), so the fake is held to the real thing.
 */
export function objectStoreContract(
  name: string,
  open: (options: { versioned: boolean }) => Promise<StoreUnderTest>,
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    it('answers null for a key that does not exist', async () => {
      const { store } = await open({ versioned: false });

      expect(await store.get('missing/key.json')).toBeNull();
    });

    it('gives back what was put, with an ETag without quotes that changes with the body', async () => {
      const { store } = await open({ versioned: false });

      await store.put('a/one.ndjson', '{"n":1}\n');
      const first = await store.get('a/one.ndjson');
      await store.put('a/one.ndjson', '{"n":2}\n');
      const second = await store.get('a/one.ndjson');

      expect(first?.body.toString()).toBe('{"n":1}\n');
      expect(first?.etag).toMatch(/^[^"]+$/);
      expect(second?.etag).not.toBe(first?.etag);
    });

    it('writes with If-None-Match: * only where the key does not exist', async () => {
      const { store } = await open({ versioned: false });

      const created = await store.putIf('c/record.json', '{"v":1}', { ifNoneMatch: '*' });
      const again = await store.putIf('c/record.json', '{"v":2}', { ifNoneMatch: '*' });

      expect(created).toMatchObject({ written: true });
      expect(again).toEqual({ written: false });
      expect((await store.get('c/record.json'))?.body.toString()).toBe('{"v":1}');
    });

    it('writes with If-Match only over the ETag it names, and returns the new ETag as get does', async () => {
      const { store } = await open({ versioned: false });
      const created = await store.putIf('s/state.json', '{"v":1}', { ifNoneMatch: '*' });
      if (!created.written) throw new Error('the first write was refused');

      const swapped = await store.putIf('s/state.json', '{"v":2}', { ifMatch: created.etag });
      const stale = await store.putIf('s/state.json', '{"v":3}', { ifMatch: created.etag });

      expect(swapped).toMatchObject({ written: true });
      expect(stale).toEqual({ written: false });
      const now = await store.get('s/state.json');
      expect(now?.body.toString()).toBe('{"v":2}');
      expect(swapped.written && swapped.etag).toBe(now?.etag);
    });

    it('refuses If-Match on a key that does not exist', async () => {
      const { store } = await open({ versioned: false });

      const outcome = await store.putIf('s/none.json', '{}', { ifMatch: 'd41d8cd98f00b204e9800998ecf8427e' });

      expect(outcome).toEqual({ written: false });
      expect(await store.get('s/none.json')).toBeNull();
    });

    it('copies to a key that does not exist, and tells when the source is missing', async () => {
      const { store } = await open({ versioned: false });
      await store.put('stage/0.ndjson', 'row\n');

      const copied = await store.copyIfAbsent(store.bucket, 'stage/0.ndjson', 'pub/0.ndjson');
      const missing = await store.copyIfAbsent(store.bucket, 'stage/none.ndjson', 'pub/1.ndjson');

      expect(copied).toBe('written');
      expect(missing).toBe('source-missing');
      expect((await store.get('pub/0.ndjson'))?.body.toString()).toBe('row\n');
    });

    it('copies over an existing key only where the server ignores the copy condition', async () => {
      const { store, enforcesCopyCondition } = await open({ versioned: false });
      await store.put('stage/0.ndjson', 'new\n');
      await store.put('pub/0.ndjson', 'old\n');

      const outcome = await store.copyIfAbsent(store.bucket, 'stage/0.ndjson', 'pub/0.ndjson');

      expect(outcome).toBe(enforcesCopyCondition ? 'exists' : 'written');
      expect((await store.get('pub/0.ndjson'))?.body.toString()).toBe(
        enforcesCopyCondition ? 'old\n' : 'new\n',
      );
    });

    it('lists the keys under a prefix, in key order, and deletes them', async () => {
      const { store } = await open({ versioned: false });
      for (const key of ['p/b', 'p/a', 'p/c/d', 'q/a']) await store.put(key, 'x');

      const listed = await store.list('p/');
      await store.deleteAll(['p/a', 'p/b']);

      expect(listed).toEqual(['p/a', 'p/b', 'p/c/d']);
      expect(await store.list('p/')).toEqual(['p/c/d']);
    });

    it('deletes keys one by one, a key that does not exist among them', async () => {
      const { store } = await open({ versioned: false });
      for (const key of ['e/a', 'e/b', 'e/c', 'f/a']) await store.put(key, 'x');

      await store.deleteEach(['e/a', 'e/c', 'e/none']);

      expect(await store.list('e/')).toEqual(['e/b']);
      expect(await store.list('f/')).toEqual(['f/a']);
    });

    it('cannot tell whether a key was ever written in a bucket without versions', async () => {
      const { store } = await open({ versioned: false });
      await store.put('pub/0.ndjson', 'x');

      expect(await store.everWritten('pub/0.ndjson')).toBeNull();
    });

    it('remembers in a versioned bucket that a key was written, after it was deleted', async () => {
      const { store } = await open({ versioned: true });
      await store.put('pub/0.ndjson', 'x');
      await store.deleteAll(['pub/0.ndjson']);

      expect(await store.everWritten('pub/0.ndjson')).toBe(true);
      expect(await store.everWritten('pub/1.ndjson')).toBe(false);
      expect(await store.everWritten('pub/0')).toBe(false);
    });
  });
}
