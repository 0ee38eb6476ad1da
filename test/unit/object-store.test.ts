import { objectStoreContract } from '../contract/object-store.ts';
import { MemoryStore } from '../fixtures/memory-store.ts';

// The in-memory store of the unit tests, held to the contract that Ceph RGW passes too
// (test/faults/object-store.test.ts).
objectStoreContract('in memory', async ({ versioned }) => ({
  store: new MemoryStore({ versioned }),
  versioned,
  enforcesCopyCondition: true,
}));
