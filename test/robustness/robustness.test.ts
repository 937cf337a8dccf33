// The short robustness run of CI: a 3-member cluster of the real binary behind the fault-injecting
// peer proxies, recorded traffic and watches, faults on a fixed seed, then every checker
// (docs/robustness.md). Longer runs: npm run robustness -- --profile all --seconds 600.
import { describe, expect, it } from 'vitest';
import type { History } from './history.js';
import { checkLinearizable, checkRevisions } from './linearizability.js';
import { runRobustness } from './runner.js';
import { checkWatches } from './watch-checker.js';

/** The recorded history, tampered three ways: each must be caught (the checkers see real histories). */
function tamperedAreCaught(h: History): void {
  const clone = (): History => structuredClone(h);
  // 1. an acknowledged put dropped from a final watch (not its first event: the watch starts at the
  // compacted revision, and what happened there may be exempt, e.g. a delete whose tombstone went)
  const a = clone();
  const acked = new Set(a.ops.flatMap((o) => (o.status === 'ok' && o.req.type === 'put' ? [`${o.resp!.revision}\0${o.req.key}`] : [])));
  const dropped = a.watches.filter((w) => w.id.startsWith('final')).some((w) => w.responses.some((x) => {
    const i = x.events.findIndex((e) => e.type === 'PUT' && e.modRev > w.startRevision && acked.has(`${e.modRev}\0${e.key}`));
    if (i >= 0) x.events.splice(i, 1);
    return i >= 0;
  }));
  expect(dropped).toBe(true);
  expect(checkWatches(a).join('\n')).toMatch(/missing/);
  // 2. a read answered with the value of an earlier write to its key. Candidates whose key the
  // search cannot decide within its budget (a partition run's retried, unknown writes) are passed
  // over, as are those whose earlier value is the same: the first decided one must be caught by both.
  const gets = h.ops.flatMap((o, i) => (o.status === 'ok' && o.req.type === 'get' && o.resp?.kv ? [i] : []));
  let outcome = 'no candidate read';
  for (const gi of gets) {
    const g = h.ops[gi]!;
    const prev = h.ops.find((o) => o.status === 'ok' && o.req.type === 'put' && g.req.type === 'get' && o.req.key === g.req.key && o.ret < g.call && o.resp!.revision < g.resp!.kv!.modRev);
    const seen = h.ops.find((o) => o.status === 'ok' && o.resp!.revision === g.resp!.kv!.modRev && o.req.type !== 'get');
    if (!prev || prev.req.type !== 'put' || !seen || seen.ret >= g.call || prev.req.value === g.resp!.kv!.value) continue;
    const b = clone();
    b.ops[gi]!.resp!.kv = { value: prev.req.value, modRev: prev.resp!.revision };
    const lin = checkLinearizable(b);
    if (lin.ok && lin.undecided?.length) {
      outcome = `undecided: ${lin.undecided.join(', ')}`;
      continue;
    }
    outcome = `linearizable ${!lin.ok ? 'caught' : 'missed'}, revisions ${checkRevisions(b).length > 0 ? 'caught' : 'missed'}`;
    break;
  }
  expect(outcome).toBe('linearizable caught, revisions caught');
  // 3. two acknowledged writes claiming one revision
  const c = clone();
  const puts = c.ops.filter((o) => o.status === 'ok' && o.req.type === 'put');
  puts[1]!.resp!.revision = puts[0]!.resp!.revision;
  expect(checkRevisions(c).join('\n')).toMatch(/two acknowledged writes|went back/);
  // 4. a progress notification moved ahead of the events it vouches for
  const d = clone();
  const pw = d.watches.find((w) => w.responses.some((x) => x.progress) && w.responses.some((x) => x.events.length > 1))!;
  const lastEv = Math.max(...pw.responses.flatMap((x) => x.events.map((e) => e.modRev)));
  pw.responses.unshift({ revision: lastEv, events: [], at: 0, progress: true });
  expect(checkWatches(d).join('\n')).toMatch(/not bookmarkable/);
}

const SECONDS = Number(process.env.ROBUSTNESS_SECONDS ?? 12);

describe('robustness (short)', () => {
  // the partition run on etcd-like traffic only: Kubernetes-like traffic and lease churn (whose end
  // waits for the leases to expire) run in the first, so CI stays within its time
  for (const [profile, seed, compact, traffic] of [['ci', 11, false, 'mixed'], ['partition', 12, true, 'etcd']] as const) {
    it(`profile ${profile}, seed ${seed}${compact ? ', with compaction' : ''}, ${traffic} traffic: no anomalies`, async () => {
      const r = await runRobustness({ profile, seconds: SECONDS, seed, compact, traffic, log: () => {} });
      const report = r.ok ? '' : `seed ${seed}, profile ${profile}\nschedule:\n${r.schedule.join('\n')}\nanomalies:\n${r.anomalies.slice(0, 10).join('\n\n')}\nkept in ${r.folder}`;
      expect(report).toBe('');
      expect(r.stats.ok).toBeGreaterThan(50);
      expect(r.stats.writes).toBeGreaterThan(20);
      expect(r.stats.etcd3Ok).toBeGreaterThan(10); // the npm etcd3 clients were heard
      expect(r.stats.mtxnOk).toBeGreaterThan(3); // and multi-key txns made
      expect(r.history!.watches.some((w) => w.responses.some((x) => x.progress))).toBe(true);
      tamperedAreCaught(r.history!);
    }, 150_000);
  }
});
