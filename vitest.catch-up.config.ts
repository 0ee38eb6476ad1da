import { defineConfig } from 'vitest/config';

/** `npm run test:catch-up`: a tenant a week behind, caught up over successive runs under AWS's quotas. */
export default defineConfig({
  test: {
    include: ['test/catch-up/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
