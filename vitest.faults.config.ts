import { defineConfig } from 'vitest/config';

/** `npm run test:faults`: the exactly-once suite on Ceph RGW (started by packages/testkit/ceph/with-rgw.sh). */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
