import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Suites that start real daemons run in their own forks so one crash cannot
    // take the others down.
    pool: 'forks',
  },
});
