// The robustness runner: a cluster of our real binary (cluster.ts), every peer link through the
// fault-injecting proxy, concurrent clients recording a history (traffic.ts) plus a watch per member
// (watches.ts), faults on a seeded schedule (faults.ts), then healing and the checks: linearizability
// (per-key search + revision checks), the watch guarantees, every member at the same revision with
// the same HashKV, and every acknowledged write present on every member (a final watch from the start
// on each member, checked as a complete watch).
//
// A failure prints the seed, profile and fault schedule, and keeps history.json, the anomalies, the
// smallest failing sub-history and the members' logs (and data dirs) in a folder named by the run.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng } from '../../src/pkg/rng.js';
import { cleanup } from '../integration/harness.js';
import { call, Cluster, sleep, type Any } from './cluster.js';
import { PROFILE_CLUSTER, PROFILES, runFault, SEQUENCED, type FaultCtx } from './faults.js';
import type { History, Op, WatchLog } from './history.js';
import { isWrite } from './history.js';
import { checkLinearizable, checkRevisions } from './linearizability.js';
import { etcdClient, type TrafficCtx } from './traffic.js';
import { etcd3Client } from './traffic-etcd3.js';
import { kubernetesClient, leaseChurnClient, leaseKeysExpire } from './traffic-k8s.js';
import { heard, lastRev, openWatch, watchLoop, type WatchCtx } from './watches.js';
import { checkWatches } from './watch-checker.js';

export { PROFILES } from './faults.js';

export interface RunOpts {
  profile: string;
  seconds: number;
  seed: number;
  clients?: number;
  /** clients of the etcd-like mix through the npm etcd3 client (2), beside the grpc-js ones */
  etcd3Clients?: number;
  keys?: number;
  /** members of the cluster (3; 5 makes majority/minority partitions and bridges differ) */
  members?: number;
  /** where run folders go (default $TMPDIR/etcd-robustness) */
  outDir?: string;
  log?: (s: string) => void;
  /**
   * Reads with serializable=true (served from the member's own store, possibly stale). Not a
   * correct configuration: it exists to show that the checkers catch the stale reads it allows.
   */
  serializable?: boolean;
  /** Compact every 2–3 s to 30 revisions below the highest acknowledged one (watch cancel/resume paths). */
  compact?: boolean;
  /** The last member is real etcd 3.4 (/usr/bin/etcd) instead of ours. */
  mixed?: boolean;
  /**
   * etcd: every client on the put/get/delete/txn mix (traffic.ts); kubernetes: every client
   * Kubernetes-like (traffic-k8s.ts) plus lease churn; mixed (default): half and half, lease churn.
   */
  traffic?: 'etcd' | 'kubernetes' | 'mixed';
}

export interface RunResult {
  ok: boolean;
  anomalies: string[];
  schedule: string[];
  folder: string;
  history?: History;
  stats: { ops: number; ok: number; failed: number; unknown: number; writes: number; watchEvents: number; finalRevision: number; etcd3Ok: number; mtxnOk: number };
}

const highest = (ops: Op[]) => ops.reduce((m, op) => (op.status === 'ok' ? Math.max(m, op.resp!.revision) : m), 0);

export async function runRobustness(o: RunOpts): Promise<RunResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const kinds = PROFILES[o.profile];
  if (!kinds) throw new Error(`unknown profile ${o.profile}; one of ${Object.keys(PROFILES).join(', ')}`);
  const rng = seededRng(BigInt(o.seed));
  const runName = `${o.profile}-seed${o.seed}-${new Date().toISOString().replace(/[:.]/g, '')}`;
  const folder = join(o.outDir ?? join(tmpdir(), 'etcd-robustness'), runName);
  mkdirSync(folder, { recursive: true });
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const schedule: string[] = [];
  const sched = (s: string) => {
    const line = `${(now() / 1000).toFixed(2)}s ${s}`;
    schedule.push(line);
    log(`  [fault] ${line}`);
  };
  const pc = PROFILE_CLUSTER[o.profile];
  const cluster = new Cluster({ members: o.members ?? 3, folder, seed: o.seed, rng, args: ['--snapshot-count', '500', ...(pc?.args ?? [])], env: pc?.env, mixed: o.mixed });
  const anomalies: string[] = [];
  const ops: Op[] = [];
  const watches: WatchLog[] = [];
  let stopTraffic = false;
  let stopWatches = false;
  let keep = true;

  try {
    await cluster.start();
    const nodes = cluster.nodes;
    const n = cluster.n;
    log(`cluster up: ${nodes.map((nd) => `${nd.name}=${nd.idHex}${nd.member.impl === 'etcd' ? ' (etcd 3.4)' : ''}`).join(' ')}; folder ${folder}`);
    const wctx: WatchCtx = { cluster, watches, now, stopped: () => stopWatches };
    // per member: a watch with prev_kv, and one asking for progress every 500 ms, filtered NODELETE
    // on m0, NOPUT on m1, unfiltered on the others
    const FILTERS: Array<Array<'NOPUT' | 'NODELETE'>> = [['NODELETE'], ['NOPUT']];
    // (and progress_notify, so also the member's periodic notifications, every second). Real etcd 3.4.23
    // (--mixed) is not asked: it answers progress requests before a catching-up watcher's events
    // (etcd issue 15220), which the checker would flag; its periodic notifications are checked.
    const watchLoops = nodes.flatMap((nd, i) => [
      watchLoop(wctx, i),
      watchLoop(wctx, i, { filters: FILTERS[i] ?? [], progressNotify: true, ...(nd.member.impl === 'ours' ? { progressEveryMs: 500 } : {}) }),
    ]);

    // --- traffic (the run's seconds count from here, after the cluster is up)
    const trafficEnd = now() + o.seconds * 1000;
    let opId = 0;
    const tctx: TrafficCtx = { cluster, ops, now, stopped: () => stopTraffic, seed: o.seed, keys: o.keys ?? 5, serializable: o.serializable, nextId: () => opId++ };
    const traffic = o.traffic ?? 'mixed';
    const k8s = (c: number) => traffic === 'kubernetes' || (traffic === 'mixed' && c % 2 === 1);
    const nGrpc = o.clients ?? 4;
    const trafficLoops = Array.from({ length: nGrpc }, (_, c) => (k8s(c) ? kubernetesClient(tctx, c) : etcdClient(tctx, c)));
    for (let c = nGrpc; c < nGrpc + (o.etcd3Clients ?? 2); c++) trafficLoops.push(etcd3Client(tctx, c));
    if (traffic !== 'etcd') trafficLoops.push(leaseChurnClient(cluster, () => stopTraffic, o.seed, anomalies));

    // --- faults
    let compactedTo = 0;
    const compactions: number[] = [];
    const fctx: FaultCtx = {
      cluster, rng, sched, anomalies, highestRevision: () => highest(ops),
      compacting: (rev) => compactions.push(rev),
      compacted: (rev) => (compactedTo = Math.max(compactedTo, rev)),
    };
    const faultLoop = async () => {
      await sleep(1500);
      let drawn = 0;
      while (now() < trafficEnd && kinds.length) {
        const kind = SEQUENCED.has(o.profile) ? kinds[drawn++ % kinds.length]! : kinds[Math.floor(rng() * kinds.length)]!;
        const l = await cluster.leader();
        if (!l) {
          sched(`${kind}: no leader found, skipped`);
          await sleep(1000);
          continue;
        }
        await runFault(fctx, kind, l);
        // let the cluster settle before the next fault
        await sleep(1000 + rng() * 1500);
        const l2 = await cluster.leader();
        sched(`leader was ${l.name}, now ${l2?.name ?? 'none'}; proxy ${JSON.stringify(cluster.net.stats)}`);
      }
    };
    const compactLoop = (async () => {
      while (o.compact && !stopTraffic) {
        await sleep(2000 + rng() * 1000);
        const rev = highest(ops) - 30;
        if (rev <= compactedTo) continue;
        const i = Math.floor(rng() * n);
        if (!cluster.up(nodes[i]!)) continue;
        compactions.push(rev);
        try {
          await call(cluster.clients[i]!.kv, 'Compact', { revision: String(rev) });
          compactedTo = Math.max(compactedTo, rev);
        } catch {
          /* an unknown compaction: harmless, the next one goes further */
        }
      }
    })();
    await faultLoop();
    const remain = trafficEnd - now();
    if (remain > 0) await sleep(remain);
    stopTraffic = true;
    await Promise.all(trafficLoops);
    await compactLoop;
    if (compactedTo) sched(`last compaction acknowledged at revision ${compactedTo}`);

    // --- healing
    cluster.net.healAll();
    for (const nd of nodes) {
      if (nd.paused) process.kill(nd.member.pid, 'SIGCONT');
      nd.paused = false;
      if (!nd.member.alive()) await cluster.restart(nd);
    }
    const unhealthy = await cluster.healthy(nodes, 60_000);
    if (unhealthy) throw new Error(`members not healthy after healing: ${unhealthy}`);

    // --- convergence: every member reaches the highest revision
    let finalRev = highest(ops);
    const revs: number[] = [];
    for (let t = 0; t < 100; t++) {
      revs.length = 0;
      for (let i = 0; i < n; i++) {
        try {
          const r: Any = await call(cluster.clients[i]!.kv, 'Range', { key: Buffer.from('k'), range_end: Buffer.from('l'), serializable: true, count_only: true });
          revs.push(Number(r.header.revision));
        } catch {
          revs.push(-1);
        }
      }
      if (revs.every((r) => r === revs[0] && r >= finalRev)) break;
      await sleep(200);
    }
    if (!revs.every((r) => r === revs[0])) anomalies.push(`members did not converge to one revision: ${revs.join(', ')}`);
    finalRev = Math.max(finalRev, ...revs);
    log(`traffic done: ${ops.length} ops; members at revisions ${revs.join(', ')}`);

    // --- HashKV at the common revision
    const hashes: string[] = [];
    for (let i = 0; i < n; i++) {
      try {
        const r: Any = await call(cluster.clients[i]!.maint, 'HashKV', { revision: String(revs[0]) }, 10_000);
        hashes.push(String(r.hash));
      } catch (e) {
        hashes.push(`error ${(e as Error).message}`);
      }
    }
    if (new Set(hashes).size !== 1) anomalies.push(`HashKV at revision ${revs[0]} differs: ${nodes.map((nd, i) => `${nd.name}=${hashes[i]}`).join(' ')}`);

    if (traffic !== 'etcd') anomalies.push(...(await leaseKeysExpire(cluster, 30_000)));

    // --- live watches catch up, then a final watch from the start on each member (every write present)
    const caughtUp = Date.now() + 15_000;
    while (Date.now() < caughtUp) {
      const open = watches.filter((w) => w.complete);
      if (open.every((w) => heard(w) >= finalRev || w.responses.length === 0)) break;
      await sleep(200);
    }
    stopWatches = true;
    await Promise.all(watchLoops);
    stopWatches = false;
    const finals = nodes.map((_, i) => {
      const holder: { w?: WatchLog } = {};
      const w = openWatch(wctx, i, Math.max(1, compactedTo, ...compactions), `final-m${i}`, () => (holder.w ? lastRev(holder.w) >= finalRev : false), nodes[i]!.member.impl === 'ours' ? { progressEveryMs: 100 } : {});
      holder.w = w.log;
      return w;
    });
    await Promise.race([Promise.all(finals.map((f) => f.done)), sleep(20_000)]);
    stopWatches = true;
    await Promise.all(finals.map((f) => f.done));
    for (const f of finals) if (lastRev(f.log) < finalRev) anomalies.push(`final watch ${f.log.id} reached only revision ${lastRev(f.log)} of ${finalRev}`);
    for (const f of finals) f.log.complete = true; // judged as complete: every acknowledged write must be in it

    // --- the checkers
    const history: History = { ops, watches, compactions };
    const lin = checkLinearizable(history);
    anomalies.push(...lin.anomalies);
    if (lin.undecided) anomalies.push(`linearizability search gave up on keys ${lin.undecided.join(', ')} (undecided)`);
    anomalies.push(...checkRevisions(history));
    anomalies.push(...checkWatches(history));

    const okOps = ops.filter((x) => x.status === 'ok');
    const stats = {
      ops: ops.length, ok: okOps.length, failed: ops.filter((x) => x.status === 'failed').length, unknown: ops.filter((x) => x.status === 'unknown').length, writes: okOps.filter(isWrite).length,
      watchEvents: watches.reduce((s, w) => s + w.responses.reduce((t, r) => t + r.events.length, 0), 0), finalRevision: finalRev,
      etcd3Ok: okOps.filter((x) => x.member === 'etcd3').length, mtxnOk: okOps.filter((x) => x.req.type === 'mtxn').length,
    };
    // coverage, not correctness: how far each member's live watches got (a watch that never delivers
    // proves nothing, so a member whose watches stalled is worth a look)
    for (const nd of nodes) {
      const got = watches.filter((w) => w.member === nd.name && !w.id.startsWith('final')).reduce((m, w) => Math.max(m, lastRev(w)), 0);
      if (got < finalRev) log(`  [coverage] live watches on ${nd.name} reached revision ${got} of ${finalRev}`);
    }
    const ok = anomalies.length === 0;
    keep = !ok;
    writeFileSync(join(folder, 'history.json'), JSON.stringify({ seed: o.seed, profile: o.profile, seconds: o.seconds, schedule, stats, history }, (_, v) => (v === Infinity ? 'Infinity' : v)));
    if (!ok) {
      writeFileSync(join(folder, 'anomalies.txt'), anomalies.join('\n\n'));
      writeFileSync(join(folder, 'schedule.txt'), schedule.join('\n'));
    }
    return { ok, anomalies, schedule, folder, stats, history };
  } catch (e) {
    // the run itself broke (a member that never came back): keep everything for a look
    writeFileSync(join(folder, 'schedule.txt'), schedule.join('\n'));
    writeFileSync(join(folder, 'anomalies.txt'), [...anomalies, `run aborted: ${(e as Error).message}`].join('\n\n'));
    throw Object.assign(e as Error, { schedule, folder, anomalies });
  } finally {
    stopTraffic = true;
    stopWatches = true;
    for (const nd of cluster.nodes) writeFileSync(join(folder, `${nd.name}.log`), [...nd.pastLogs, nd.member.logs()].join('\n----- restart -----\n'));
    await cluster.close();
    await cleanup();
    if (!keep && !process.env.ROBUSTNESS_KEEP) rmSync(folder, { recursive: true, force: true });
  }
}
