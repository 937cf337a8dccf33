import { configDefaults, defineConfig } from 'vitest/config';

// Groups run one after the other (sequence.groupOrder), each one file at a time on CI's 2 cores: the
// unit tests and the simulations, then the files that drive real processes (test/integration,
// test/robustness; many run their ours and etcd halves side by side, each mostly waiting on its
// children), then the load generator's smoke test. Two integration files at a time cut ~3 minutes
// but, with both halves of each running, made clusters miss their deadlines (a fresh-clone CI run:
// etcd's own member remove timed out); one at a time is the margin kept.
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
          maxWorkers: 1, sequence: { groupOrder: 1 },
        },
      },
      { test: { ...shared, name: 'bench', include: [BENCH], maxWorkers: 1, sequence: { groupOrder: 2 } } },
    ],
  },
});
