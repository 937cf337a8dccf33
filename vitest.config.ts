import { configDefaults, defineConfig } from 'vitest/config';

// Groups run one after the other (sequence.groupOrder). The unit tests and the simulations are CPU
// bound: one file at a time on CI's 2 cores. The files that drive real processes (test/integration,
// test/robustness) mostly wait on their children (elections, etcd's 5 s HealthInterval, etcdctl
// deadlines): two files at a time there, but for the load generator's smoke test, which keeps both
// cores busy by itself and runs alone.
const shared = {
  // Timeouts are hang guards only: no test asserts on wall-clock speed.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: 'forks',
} as const;
const BENCH = 'test/integration/bench-smoke.test.ts';

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts', 'test/sim/**/*.test.ts'], maxWorkers: 1, sequence: { groupOrder: 0 } } },
      {
        test: {
          ...shared, name: 'integration', include: ['test/integration/**/*.test.ts', 'test/robustness/**/*.test.ts'], exclude: [...configDefaults.exclude, BENCH],
          maxWorkers: 2, sequence: { groupOrder: 1 },
        },
      },
      { test: { ...shared, name: 'bench', include: [BENCH], maxWorkers: 1, sequence: { groupOrder: 2 } } },
    ],
  },
});
