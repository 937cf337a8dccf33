import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Timeouts are hang guards only: no test asserts on wall-clock speed.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
