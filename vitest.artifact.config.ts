import { defineConfig } from 'vitest/config';

/**
 * `npm run test:artifact`: what `serverless package` writes (the esbuild zips and the template's
 * environment and state machine), run on Node 24 against the stand-ins (test/artifact/).
 */
export default defineConfig({
  test: {
    include: ['test/artifact/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
