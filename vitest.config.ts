import { defineConfig } from 'vitest/config';

// Two groups, one after the other (sequence.groupOrder). The unit tests and the simulations are CPU
// bound: one file at a time on CI's 2 cores. The files that drive real processes (test/integration,
// test/robustness) mostly wait on their children (elections, etcd's 5 s HealthInterval, etcdctl
// deadlines): two files at a time there.
const shared = {
  // Timeouts are hang guards only: no test asserts on wall-clock speed.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: 'forks',
} as const;

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts', 'test/sim/**/*.test.ts'], maxWorkers: 1, sequence: { groupOrder: 0 } } },
      {
        test: {
          ...shared, name: 'integration', include: ['test/integration/**/*.test.ts', 'test/robustness/**/*.test.ts'],
          maxWorkers: 2, sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
