// The robustness runner: a 3-member cluster of our real binary, every peer link through the
// fault-injecting proxy, concurrent clients recording an etcd-like put/get/delete/txn history on a
// small key space plus a watch per member, faults on a seeded schedule, then healing and the checks:
// linearizability (per-key search + revision checks), the watch guarantees, every member at the same
// revision with the same HashKV, and every acknowledged write present on every member (a final watch
// from revision 1 on each member, checked as a complete watch).
//
// A failure prints the seed, profile and fault schedule, and keeps history.json, the anomalies and
// the members' logs (and data dirs) in a folder named by the run.
import * as grpc from '@grpc/grpc-js';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdGrpc } from '../../src/api/v3/proto.js';
import { seededRng } from '../../src/pkg/rng.js';
import { clusterMember, waitHealthy, type ClusterMember } from '../integration/cluster-harness.js';
import { cleanup, freePort } from '../integration/harness.js';
import type { History, Op, Req, Resp, WatchEvent, WatchLog } from './history.js';
import { isWrite } from './history.js';
import { checkLinearizable, checkRevisions } from './linearizability.js';
import { PeerNetwork } from './proxy.js';
import { checkWatches } from './watch-checker.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

export type FaultKind = 'kill-all' | 'isolate-kill-leader' | 'kill-leader' | 'kill-follower' | 'pause-leader' | 'pause-follower' | 'isolate-leader' | 'one-way-leader' | 'isolate-follower' | 'delay';

export const PROFILES: Record<string, FaultKind[]> = {
  kill: ['kill-leader', 'kill-follower'],
  pause: ['pause-leader', 'pause-follower'],
  partition: ['isolate-leader', 'one-way-leader', 'isolate-follower', 'delay'],
  /** followers fall behind the leader's compacted log and must be sent a snapshot (see PROFILE_CLUSTER) */
  snapshot: ['kill-follower', 'isolate-follower'],
  /** every member killed at once; the leader killed while it is cut off */
  crash: ['kill-all', 'isolate-kill-leader', 'kill-leader'],
  none: [],
  all: ['kill-all', 'isolate-kill-leader', 'kill-leader', 'kill-follower', 'pause-leader', 'pause-follower', 'isolate-leader', 'one-way-leader', 'isolate-follower', 'delay'],
};

/** Cluster settings of a profile: `snapshot` snapshots every 100 entries and keeps only 50 behind. */
const PROFILE_CLUSTER: Record<string, { args: string[]; env: Record<string, string> }> = {
  snapshot: { args: ['--snapshot-count', '100'], env: { ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES: '50' } },
};

export interface RunOpts {
  profile: string;
  seconds: number;
  seed: number;
  clients?: number;
  keys?: number;
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
}

export interface RunResult {
  ok: boolean;
  anomalies: string[];
  schedule: string[];
  folder: string;
  history?: History;
  stats: { ops: number; ok: number; failed: number; unknown: number; writes: number; watchEvents: number; finalRevision: number };
}

const REQUEST_TIMEOUT_MS = 3000;
const ELECTION_MS = 1000;

interface Node {
  name: string;
  member: ClusterMember;
  clientPort: number;
  idHex?: string;
  pastLogs: string[];
  paused: boolean;
}

/**
 * grpc-js backs off reconnecting up to 120 s: after a member was down for a while, its clients kept
 * failing fast ("No connection established") long after it was back, and the rig lost most of its
 * traffic and watches (seed 91, profile all, after kill-all). Reconnect quickly instead.
 */
const CHANNEL_OPTS = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000, 'grpc.min_reconnect_backoff_ms': 100 };

function client(port: number): Any {
  const g = etcdGrpc() as Any;
  const mk = (svc: string) => new g.etcdserverpb[svc](`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTS);
  return { kv: mk('KV'), watch: mk('Watch'), maint: mk('Maintenance'), cluster: mk('Cluster') };
}

function call<T = Any>(svc: Any, method: string, req: object, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    svc[method](req, { deadline: Date.now() + timeoutMs }, (err: Error | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runRobustness(o: RunOpts): Promise<RunResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const kinds = PROFILES[o.profile];
  if (!kinds) throw new Error(`unknown profile ${o.profile}; one of ${Object.keys(PROFILES).join(', ')}`);
  const rng = seededRng(BigInt(o.seed));
  const pick = <T>(a: T[]): T => a[Math.floor(rng() * a.length)]!;
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

  // --- cluster behind the proxies
  const net = new PeerNetwork(rng);
  const n = 3;
  const defs: Array<{ name: string; client: number; peer: number; proxy: number }> = [];
  const used = new Set<number>();
  const port = async () => {
    for (;;) {
      const p = await freePort();
      if (!used.has(p)) {
        used.add(p);
        return p;
      }
    }
  };
  for (let i = 0; i < n; i++) defs.push({ name: `m${i}`, client: await port(), peer: await port(), proxy: await port() });
  const initialCluster = defs.map((d) => `${d.name}=http://127.0.0.1:${d.proxy}`).join(',');
  for (const d of defs) await net.listen(d.name, d.proxy, d.peer, `http://127.0.0.1:${d.proxy}`);
  const nodes: Node[] = defs.map((d) => {
    const c = `http://127.0.0.1:${d.client}`;
    const args = [
      '--name', d.name, '--data-dir', join(folder, d.name), '--listen-client-urls', c, '--advertise-client-urls', c,
      '--listen-peer-urls', `http://127.0.0.1:${d.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${d.proxy}`,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', `robust-${o.seed}`,
      '--heartbeat-interval', '100', '--election-timeout', String(ELECTION_MS), '--snapshot-count', '500',
      ...(PROFILE_CLUSTER[o.profile]?.args ?? []),
    ];
    const impl = o.mixed && d.name === `m${n - 1}` ? 'etcd' : 'ours';
    const member = clusterMember(impl, { name: d.name, clientUrl: c, peerUrl: `http://127.0.0.1:${d.proxy}`, endpoint: `127.0.0.1:${d.client}`, dataDir: join(folder, d.name) }, args, { env: PROFILE_CLUSTER[o.profile]?.env });
    return { name: d.name, member, clientPort: d.client, pastLogs: [], paused: false };
  });
  const clients = nodes.map((nd) => client(nd.clientPort));
  const anomalies: string[] = [];
  const ops: Op[] = [];
  const watches: WatchLog[] = [];
  let stopTraffic = false;
  let stopWatches = false;
  let keep = true;

  try {
    await waitHealthy(nodes.map((nd) => nd.member));
    const ml: Any = await call(clients[0].cluster, 'MemberList', {});
    for (const m of ml.members) {
      const idHex = BigInt(m.ID).toString(16);
      const nd = nodes.find((x) => x.name === m.name);
      if (nd) nd.idHex = idHex;
      net.nameId(idHex, m.name);
    }
    log(`cluster up: ${nodes.map((nd) => `${nd.name}=${nd.idHex}${nd.member.impl === 'etcd' ? ' (etcd 3.4)' : ''}`).join(' ')}; folder ${folder}`);

    // --- watches: one per member, all keys of the workload, from revision 1, with prev_kv
    const openWatch = (i: number, startRevision: number, id: string, until?: () => boolean): { log: WatchLog; done: Promise<void> } => {
      const wl: WatchLog = { id, member: nodes[i]!.name, prefix: 'k', startRevision, prevKv: true, responses: [], complete: true };
      watches.push(wl);
      const stream = clients[i].watch.Watch();
      const done = new Promise<void>((resolve) => {
        const finish = () => {
          clearInterval(timer);
          stream.cancel();
          resolve();
        };
        const timer = setInterval(() => {
          if (stopWatches || (until && until())) finish();
        }, 100);
        stream.on('data', (r: Any) => {
          const events: WatchEvent[] = (r.events ?? []).map((e: Any) => ({
            type: e.type, key: e.kv.key.toString(), value: e.kv.value.toString(), modRev: Number(e.kv.mod_revision),
            createRev: Number(e.kv.create_revision), version: Number(e.kv.version),
            ...(e.prev_kv && e.prev_kv.key?.length ? { prevKv: { value: e.prev_kv.value.toString(), modRev: Number(e.prev_kv.mod_revision), createRev: Number(e.prev_kv.create_revision), version: Number(e.prev_kv.version) } } : {}),
          }));
          if (events.length || Number(r.compact_revision) || r.canceled) {
            wl.responses.push({ revision: Number(r.header?.revision ?? 0), events, at: now(), ...(Number(r.compact_revision) ? { compactRevision: Number(r.compact_revision) } : {}), ...(r.canceled ? { canceled: true } : {}) });
          }
        });
        stream.on('error', (e: Error) => {
          wl.error = e.message;
          wl.complete = false;
          finish();
        });
        stream.on('end', () => {
          wl.complete = false;
          finish();
        });
      });
      stream.write({ create_request: { key: Buffer.from('k'), range_end: Buffer.from('l'), start_revision: String(startRevision), prev_kv: true } });
      return { log: wl, done };
    };
    const lastRev = (wl: WatchLog) => wl.responses.reduce((m, r) => Math.max(m, ...r.events.map((e) => e.modRev)), 0);
    // a watch per member; when its stream breaks (member killed), it is reopened from where it stopped
    const watchLoops = nodes.map(async (_, i) => {
      let start = 1;
      let gen = 0;
      while (!stopWatches) {
        const w = openWatch(i, start, `m${i}.${gen++}`);
        await w.done;
        start = Math.max(start, lastRev(w.log) + 1);
        // cancelled by a compaction: resume from the compacted revision (the oldest one still there)
        for (const r of w.log.responses) if (r.compactRevision) start = Math.max(start, r.compactRevision);
        if (!stopWatches) await sleep(500);
      }
    });

    // --- traffic (the run's seconds count from here, after the cluster is up)
    const trafficEnd = now() + o.seconds * 1000;
    const nClients = o.clients ?? 4;
    const nKeys = o.keys ?? 5;
    let opId = 0;
    const trafficLoops = Array.from({ length: nClients }, async (_, c) => {
      const crng = seededRng(BigInt(o.seed * 1000 + c + 1));
      let seq = 0;
      let mi = c % n;
      const lastMod = new Map<string, number>();
      while (!stopTraffic) {
        const key = `k${Math.floor(crng() * nKeys)}`;
        const x = crng();
        const value = `c${c}-${seq++}`;
        const req: Req =
          x < 0.35 ? { type: 'put', key, value }
          : x < 0.65 ? { type: 'get', key }
          : x < 0.75 ? { type: 'delete', key }
          : { type: 'txn', key, value, expectModRev: crng() < 0.8 ? (lastMod.get(key) ?? 0) : Math.floor(crng() * 10) };
        const op: Op = { id: opId++, client: c, req, call: now(), ret: Infinity, status: 'unknown', member: nodes[mi]!.name };
        ops.push(op);
        const kv = clients[mi].kv;
        try {
          let resp: Resp;
          const k = Buffer.from(key);
          if (req.type === 'put') {
            const r: Any = await call(kv, 'Put', { key: k, value: Buffer.from(req.value) });
            resp = { revision: Number(r.header.revision) };
          } else if (req.type === 'get') {
            const r: Any = await call(kv, 'Range', { key: k, serializable: !!o.serializable });
            const kvs = r.kvs?.[0];
            resp = { revision: Number(r.header.revision), kv: kvs ? { value: kvs.value.toString(), modRev: Number(kvs.mod_revision) } : null };
          } else if (req.type === 'delete') {
            const r: Any = await call(kv, 'DeleteRange', { key: k });
            resp = { revision: Number(r.header.revision), deleted: Number(r.deleted) };
          } else {
            const r: Any = await call(kv, 'Txn', {
              compare: [{ key: k, target: 'MOD', result: 'EQUAL', mod_revision: String(req.expectModRev) }],
              success: [{ request_put: { key: k, value: Buffer.from(req.value) } }],
              failure: [{ request_range: { key: k } }],
            });
            const kvs = r.succeeded ? undefined : r.responses?.[0]?.response_range?.kvs?.[0];
            resp = { revision: Number(r.header.revision), succeeded: !!r.succeeded, ...(r.succeeded ? {} : { kv: kvs ? { value: kvs.value.toString(), modRev: Number(kvs.mod_revision) } : null }) };
          }
          op.ret = now();
          op.status = 'ok';
          op.resp = resp;
          if (resp.kv !== undefined) lastMod.set(key, resp.kv?.modRev ?? 0);
          else if (isWrite(op)) lastMod.set(key, req.type === 'delete' ? 0 : resp.revision);
        } catch (e) {
          op.error = (e as Error).message;
          // a request that never reached a member failed; any other error may come after the request was
          // proposed: its outcome is unknown
          if (/ECONNREFUSED|No connection established/.test(op.error)) {
            op.status = 'failed';
            op.ret = now();
          }
          mi = (mi + 1) % n; // try another member next
          await sleep(50);
        }
      }
    });

    // --- faults
    const leader = async (): Promise<Node | undefined> => {
      for (let tries = 0; tries < 30; tries++) {
        for (let i = 0; i < n; i++) {
          if (!nodes[i]!.member.alive() || nodes[i]!.paused) continue;
          try {
            const st: Any = await call(clients[i].maint, 'Status', {}, 1000);
            const id = BigInt(st.leader).toString(16);
            const l = nodes.find((nd) => nd.idHex === id);
            if (l && l.member.alive() && !l.paused) return l;
          } catch {
            /* next */
          }
        }
        await sleep(300);
      }
      return undefined;
    };
    const restart = async (nd: Node) => {
      nd.pastLogs.push(nd.member.logs());
      await nd.member.restart({ wait: false });
    };
    const faultLoop = async () => {
      const end = trafficEnd;
      await sleep(1500);
      while (now() < end && kinds.length) {
        const kind = pick(kinds);
        const hold = 2000 + rng() * 2000;
        const l = await leader();
        if (!l) {
          sched(`${kind}: no leader found, skipped`);
          await sleep(1000);
          continue;
        }
        const followers = nodes.filter((x) => x !== l);
        const target = kind.endsWith('leader') ? l : pick(followers);
        if (kind === 'kill-all') {
          sched(`kill-all: SIGKILL every member, restart after ${hold.toFixed(0)} ms`);
          for (const x of nodes) x.pastLogs.push(x.member.logs());
          await Promise.all(nodes.map((x) => x.member.kill()));
          await sleep(hold);
          for (const x of nodes) await x.member.restart({ wait: false });
          const healthy = await waitHealthy(nodes.map((x) => x.member), undefined, 90_000).then(() => true, () => false);
          sched(`restarted all: ${healthy ? 'healthy' : 'NOT healthy within 90 s'}`);
        } else if (kind === 'isolate-kill-leader') {
          sched(`isolate-kill-leader: drop every link of ${target.name}, SIGKILL it 1 s later, restart it still cut off, heal after ${hold.toFixed(0)} ms`);
          for (const x of nodes) if (x !== target) net.setPair(target.name, x.name, { mode: 'drop' });
          await sleep(1000);
          target.pastLogs.push(target.member.logs());
          await target.member.kill();
          await target.member.restart({ wait: false });
          await sleep(hold);
          net.healAll();
          sched('healed');
          const healthy = await waitHealthy([target.member], undefined, 60_000).then(() => true, () => false);
          sched(`${target.name} ${healthy ? 'healthy' : 'NOT healthy within 60 s'}`);
        } else if (kind.startsWith('kill')) {
          sched(`${kind}: SIGKILL ${target.name}, restart after ${hold.toFixed(0)} ms`);
          target.pastLogs.push(target.member.logs());
          await target.member.kill();
          await sleep(hold);
          await target.member.restart({ wait: false });
          const t1 = now();
          const healthy = await waitHealthy([target.member], undefined, 60_000).then(() => true, () => false);
          sched(`restarted ${target.name}: ${healthy ? `healthy after ${(now() - t1).toFixed(0)} ms` : 'NOT healthy within 60 s'}`);
        } else if (kind.startsWith('pause')) {
          sched(`${kind}: SIGSTOP ${target.name} for ${hold.toFixed(0)} ms`);
          target.paused = true;
          process.kill(target.member.pid, 'SIGSTOP');
          await sleep(hold);
          process.kill(target.member.pid, 'SIGCONT');
          target.paused = false;
          sched(`SIGCONT ${target.name}`);
        } else if (kind === 'isolate-leader' || kind === 'isolate-follower') {
          sched(`${kind}: drop every link of ${target.name} for ${hold.toFixed(0)} ms`);
          for (const x of nodes) if (x !== target) net.setPair(target.name, x.name, { mode: 'drop' });
          await sleep(hold);
          net.healAll();
          sched('healed');
        } else if (kind === 'one-way-leader') {
          sched(`${kind}: blackhole ${target.name} → others for ${hold.toFixed(0)} ms`);
          for (const x of nodes) if (x !== target) net.set(target.name, x.name, { mode: 'blackhole' });
          await sleep(hold);
          net.healAll();
          sched('healed');
        } else if (kind === 'delay') {
          sched(`delay every link 100±50 ms for ${hold.toFixed(0)} ms`);
          for (const a of nodes) for (const b of nodes) if (a !== b) net.set(a.name, b.name, { mode: 'delay', delayMs: 100, jitterMs: 50 });
          await sleep(hold);
          net.healAll();
          sched('healed');
        }
        // let the cluster settle before the next fault
        await sleep(1000 + rng() * 1500);
        const l2 = await leader();
        sched(`leader was ${l.name}, now ${l2?.name ?? 'none'}; proxy ${JSON.stringify(net.stats)}`);
      }
    };
    let compactedTo = 0;
    const compactions: number[] = [];
    const compactLoop = (async () => {
      while (o.compact && !stopTraffic) {
        await sleep(2000 + rng() * 1000);
        let maxRev = 0;
        for (const op of ops) if (op.status === 'ok') maxRev = Math.max(maxRev, op.resp!.revision);
        const rev = maxRev - 30;
        if (rev <= compactedTo) continue;
        const i = Math.floor(rng() * n);
        if (!nodes[i]!.member.alive() || nodes[i]!.paused) continue;
        compactions.push(rev);
        try {
          await call(clients[i].kv, 'Compact', { revision: String(rev) });
          compactedTo = rev;
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
    net.healAll();
    for (const nd of nodes) {
      if (nd.paused) process.kill(nd.member.pid, 'SIGCONT');
      if (!nd.member.alive()) await restart(nd);
    }
    await waitHealthy(nodes.map((nd) => nd.member), undefined, 60_000);

    // --- convergence: every member reaches the highest revision
    let finalRev = 0;
    for (const op of ops) if (op.status === 'ok') finalRev = Math.max(finalRev, op.resp!.revision);
    const revs: number[] = [];
    for (let t = 0; t < 100; t++) {
      revs.length = 0;
      for (let i = 0; i < n; i++) {
        try {
          const r: Any = await call(clients[i].kv, 'Range', { key: Buffer.from('k'), range_end: Buffer.from('l'), serializable: true, count_only: true });
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
        const r: Any = await call(clients[i].maint, 'HashKV', { revision: String(revs[0]) }, 10_000);
        hashes.push(String(r.hash));
      } catch (e) {
        hashes.push(`error ${(e as Error).message}`);
      }
    }
    if (new Set(hashes).size !== 1) anomalies.push(`HashKV at revision ${revs[0]} differs: ${nodes.map((nd, i) => `${nd.name}=${hashes[i]}`).join(' ')}`);

    // --- live watches catch up, then a final watch from revision 1 on each member (every write present)
    const caughtUp = Date.now() + 15_000;
    while (Date.now() < caughtUp) {
      const open = watches.filter((w) => w.complete);
      if (open.every((w) => lastRev(w) >= finalRev || w.responses.length === 0)) break;
      await sleep(200);
    }
    stopWatches = true;
    await Promise.all(watchLoops);
    stopWatches = false;
    const finals = nodes.map((_, i) => {
      const holder: { w?: WatchLog } = {};
      const w = openWatch(i, Math.max(1, compactedTo), `final-m${i}`, () => (holder.w ? lastRev(holder.w) >= finalRev : false));
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
  } finally {
    stopTraffic = true;
    stopWatches = true;
    for (const nd of nodes) {
      try {
        if (nd.paused && nd.member.alive()) process.kill(nd.member.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    for (const nd of nodes) writeFileSync(join(folder, `${nd.name}.log`), [...nd.pastLogs, nd.member.logs()].join('\n----- restart -----\n'));
    for (const c of clients) for (const s of Object.values(c)) (s as grpc.Client).close();
    for (const nd of nodes) await nd.member.kill();
    await net.close_();
    await cleanup();
    if (!keep && !process.env.ROBUSTNESS_KEEP) rmSync(folder, { recursive: true, force: true });
  }
}
