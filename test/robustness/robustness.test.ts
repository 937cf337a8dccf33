// The short robustness run of CI: a 3-member cluster of the real binary behind the fault-injecting
// peer proxies, recorded traffic and watches, faults on a fixed seed, then every checker
// (docs/robustness.md). Longer runs: npm run robustness -- --profile all --seconds 600.
import { describe, expect, it } from 'vitest';
import { runRobustness } from './runner.js';

const SECONDS = Number(process.env.ROBUSTNESS_SECONDS ?? 15);

describe('robustness (short)', () => {
  for (const [profile, seed] of [['kill', 11], ['partition', 12]] as const) {
    it(`profile ${profile}, seed ${seed}: no anomalies`, async () => {
      const r = await runRobustness({ profile, seconds: SECONDS, seed, log: () => {} });
      const report = r.ok ? '' : `seed ${seed}, profile ${profile}\nschedule:\n${r.schedule.join('\n')}\nanomalies:\n${r.anomalies.slice(0, 10).join('\n\n')}\nkept in ${r.folder}`;
      expect(report).toBe('');
      expect(r.stats.ok).toBeGreaterThan(50);
      expect(r.stats.writes).toBeGreaterThan(20);
    }, 150_000);
  }
});
