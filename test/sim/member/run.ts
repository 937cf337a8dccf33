/*
 * One seed of the whole-member simulation: a cluster of 1, 3 or 5 real EtcdServers (the Ready loop,
 * WAL, snapshots, v3 apply, MVCC, backend) over simulated disks, store, network and clock; clients
 * put and read linearizably while members crash (their disks keep only what was flushed) and restart,
 * the network drops, delays, duplicates and partitions, and leaders hand over. In half the seeds the
 * membership changes too (reconfig.ts): members added (joining as --initial-cluster-state existing),
 * learners added and promoted, members removed; in a third clients use leases (leases.ts), left to
 * expire at the end. Then everything heals and the checks run (finalChecks, Reconfig.check,
 * LeaseLoad.check). Deterministic: a seed replays exactly.
 */
import type { PutRequest__Output } from '../../../src/pb/etcdserverpb/PutRequest.js';
import type { RangeRequest__Output } from '../../../src/pb/etcdserverpb/RangeRequest.js';
import type { Entry } from '../../../src/raft/types.js';
import { crc32c } from '../../../src/pkg/crc32c.js';
import { SimCrash } from '../disk.js';
import { Rng } from '../rng.js';
import { SimClock } from './clock.js';
import { History } from './history.js';
import { SimMember } from './member.js';
import { Reconfig } from './reconfig.js';
import { LeaseLoad } from './leases.js';
import { BootstrapError } from '../../../src/server/join-existing.js';
import { MemberRemovedError } from '../../../src/server/errors.js';
import { SimNet } from './transport.js';

export interface MemberSimOptions {
  seed: number;
  /** 1, 3 or 5 (default drawn from the seed). */
  members?: number;
  /** Virtual ms of faults and client load (default 6000). */
  durationMs?: number;
  trace?: boolean;
}

export interface MemberSimResult {
  seed: number;
  members: number;
  ok: boolean;
  error?: string;
  stats: Record<string, number>;
  trace: string[];
}

const KEYS = ['a', 'b', 'c'];

/** Lets every microtask and immediate queued so far run (the members' work between two timers). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function runMemberSeed(opts: MemberSimOptions): Promise<MemberSimResult> {
  const rng = new Rng(opts.seed);
  const n = opts.members ?? rng.pick([1, 3, 3, 5]);
  const duration = opts.durationMs ?? 1600;
  const powerCut = rng.chance(0.5);
  const clock = new SimClock();
  const sys = clock.forOwner(0);
  const net = new SimNet(rng.fork(), sys, { dropRate: rng.pick([0, 0.02, 0.1]), dupRate: rng.pick([0, 0.02]), maxDelayMs: rng.pick([5, 20, 60]) });
  const trace: string[] = [];
  const tracing = opts.trace === true;
  const log = (s: string): void => void (tracing && trace.push(`${clock.nowMs - 1_700_000_000_000} ${s}`));
  const stats: Record<string, number> = { crashes: 0, restarts: 0, partitions: 0, transfers: 0, puts: 0, putsAcked: 0, gets: 0, getsOk: 0, snapshotsSent: 0, leaders: 0 };
  const errors: string[] = [];
  const fail = (e: string): void => void (errors.length < 3 && errors.push(e));

  const names = Array.from({ length: n }, (_, i) => `m${i}`);
  const initialCluster = new Map(names.map((nm, i) => [nm, [`http://10.0.0.${i + 1}:2380`]]));
  const churn = rng.chance(0.5);
  const leasing = rng.chance(0.35);
  const applied = new Map<number, string>(); // index -> term:data digest, the first member to apply it
  const env = {
    clock, net, rng: rng.fork(), log,
    snapshotCount: rng.pick([10, 30, 1000]),
    catchUpEntries: rng.pick([5, 20]),
    onApply: (member: string, entries: Entry[]) => {
      for (const e of entries) {
        if (tracing) log(`${member} applies ${e.index}/${e.term} (${e.data.length} B)`);
        const d = `${e.term}:${e.type}:${e.data.length}:${crc32c(e.data)}`;
        const had = applied.get(e.index);
        if (had === undefined) applied.set(e.index, d);
        else if (had !== d) fail(`state machine safety: ${member} applied a different entry at index ${e.index}`);
      }
    },
    onRevoke: (member: string, id: bigint, rev: number, keys: number) => leases.onRevoke(member, id, rev, keys),
  };
  const leases = new LeaseLoad({ rng: rng.fork(), now: () => clock.nowMs, log, stats, fail });
  const members = names.map((nm) => new SimMember(nm, env, rng.int(1, 2 ** 30), initialCluster.get(nm)![0]!, initialCluster, false));
  const reconfig = new Reconfig({ members, env, rng: rng.fork(), clock: sys, log, stats, fail, diskSeed: () => rng.int(1, 2 ** 30) });
  const history = new History();
  const leadersByTerm = new Map<number, bigint>();

  const restartLater = (m: SimMember): void => {
    sys.setTimeout(() => {
      if (!reconfig.mayStart(m)) return;
      stats.restarts!++;
      log(`restart ${m.name}`);
      reconfig.start(m);
    }, rng.int(50, 1500));
  };

  const observe = (): void => {
    for (const m of members) {
      if (m.gone) continue;
      // a crash at a disk operation, in the middle of the member's work: it is down from here on
      if (m.disk.isCrashed && (m.server || m.starting)) {
        log(`crashed ${m.name}: ${m.disk.crashNote}`);
        m.crash();
        if (!healing) restartLater(m);
      } else if (m.fatal instanceof MemberRemovedError) {
        log(`${m.name} stopped: removed from the cluster`);
        reconfig.stoppedAsRemoved(m);
      } else if (m.fatal instanceof BootstrapError && m.joins) {
        // the cluster refused the join (not applied yet where it asked, or nobody answered): as etcd, it exits
        stats.joinsRefused!++;
        log(`${m.name} could not join: ${m.fatal.message.slice(0, 100)}`);
        m.crash();
        if (!healing) restartLater(m);
      } else if (m.fatal !== undefined && !m.disk.isCrashed && !(m.fatal instanceof SimCrash)) {
        fail(`${m.name} stopped by an error of its own: ${String((m.fatal as Error)?.stack ?? m.fatal).slice(0, 300)}`);
        m.crash();
        if (!healing) restartLater(m);
      }
    }
    for (const m of members) {
      const s = m.server;
      if (!m.up || !s || m.gone) continue;
      if (churn) reconfig.observe(m);
      // lead and term as the member took them from raft's soft state
      if (s.lead !== s.memberId) continue;
      const had = leadersByTerm.get(s.term);
      if (had === undefined) {
        leadersByTerm.set(s.term, s.memberId);
        stats.leaders!++;
        log(`${m.name} leads term ${s.term}`);
      } else if (had !== s.memberId) fail(`election safety: two leaders in term ${s.term}`);
    }
  };

  let valueSeq = 0;
  let healing = false;
  const clientOp = (): void => {
    const live = members.filter((m) => m.up && m.kv && !m.gone);
    if (live.length === 0) return;
    const m = rng.pick(live);
    const kv = m.kv!;
    const inc = m.incarnation;
    if (leasing && rng.chance(0.3)) return leases.op(m);
    const key = rng.pick(KEYS);
    const start = clock.nowMs;
    if (rng.chance(0.6)) {
      // some values span several 512-byte sectors, so a crash can tear the WAL write holding them
      const value = `v${++valueSeq}${rng.chance(0.3) ? '.'.repeat(rng.int(300, 1500)) : ''}`;
      history.issued.set(value, start);
      stats.puts!++;
      const req = { key: Buffer.from(key), value: Buffer.from(value), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false } as unknown as PutRequest__Output;
      kv.put(req).then(
        (r) => {
          if (inc !== m.incarnation) return;
          stats.putsAcked!++;
          history.done.push({ kind: 'put', key, value, start, end: clock.nowMs, rev: Number(r.header?.revision ?? 0), modRev: 0, member: m.name });
          if (tracing) log(`put ${key}=${value} at ${m.name} rev ${r.header?.revision}`);
        },
        () => undefined,
      );
    } else {
      stats.gets!++;
      kv.range(rangeOf(key)).then(
        (r) => {
          if (inc !== m.incarnation) return;
          stats.getsOk!++;
          const kvs = r.kvs ?? [];
          const value = kvs.length > 0 ? Buffer.from(kvs[0]!.value as Uint8Array).toString() : '';
          const modRev = kvs.length > 0 ? Number(kvs[0]!.mod_revision) : 0;
          history.done.push({ kind: 'get', key, value, start, end: clock.nowMs, rev: Number(r.header?.revision ?? 0), modRev, member: m.name });
          if (tracing) log(`get ${key}=${value || '-'} at ${m.name} rev ${r.header?.revision}`);
        },
        () => undefined,
      );
    }
  };

  const fault = (): void => {
    const r = rng.next();
    if (churn) reconfig.discover();
    const candidates = members.filter((x) => !x.gone && x.id !== undefined);
    if (candidates.length === 0) return;
    const m = rng.pick(candidates);
    const size = candidates.length;
    if (r < 0.3) {
      if (!m.up && !m.starting) return;
      stats.crashes!++;
      if (rng.chance(0.5)) {
        // at one of its next disk operations (before, inside or after it): mid-save, mid-apply, mid-install
        m.disk.crashAtOp = m.disk.opCount + rng.int(1, 30);
        log(`crash ${m.name} at disk op ${m.disk.crashAtOp}`);
        return;
      }
      m.crash();
      log(`crash ${m.name}`);
      restartLater(m);
    } else if (r < 0.47 && size > 1) {
      const shuffled = [...candidates].sort(() => rng.next() - 0.5);
      const cut = rng.int(1, size - 1);
      const ids = (ms: SimMember[]) => ms.map((x) => x.id!);
      net.partition([ids(shuffled.slice(0, cut)), ids(shuffled.slice(cut))]);
      stats.partitions!++;
      log(`partition ${shuffled.slice(0, cut).map((x) => x.name).join(',')} | ${shuffled.slice(cut).map((x) => x.name).join(',')}`);
      sys.setTimeout(() => net.heal(), rng.int(200, 2000));
    } else if (r < 0.64 && size > 1) {
      const leader = members.find((x) => x.up && !x.gone && x.server!.isLeader());
      const to = members.filter((x) => x.up && !x.gone && x !== leader);
      if (!leader || to.length === 0) return;
      const target = rng.pick(to);
      stats.transfers!++;
      log(`transfer ${leader.name} -> ${target.name}`);
      leader.server!.moveLeader(target.server!.memberId, 2000).catch(() => undefined);
    } else if (r < 0.95 && churn) {
      reconfig.change();
    }
  };

  /**
   * Time runs on (members idle meanwhile are kept ticking) until the cluster converges: every member
   * of the leader's membership up and applied to the leader's commit, the whole log committed, and
   * no removed member left running. Down members are started, removed ones stopped (reconfig.tidy).
   */
  const converge = async (ms: number, notBefore = 0, also: (c: SimMember[]) => boolean = () => true): Promise<SimMember[] | undefined> => {
    const from = clock.nowMs;
    const deadline = Math.max(from, notBefore) + ms;
    while (clock.step(deadline)) {
      stats.healEvents!++;
      await settle();
      observe();
      if (clock.nowMs % 250 >= 50) continue;
      const leader = members.find((m) => m.up && !m.gone && m.server!.isLeader());
      if (leader) reconfig.tidy(leader, clock.nowMs - from > 3000);
      for (const m of members) if (reconfig.mayStart(m)) reconfig.start(m);
      if (clock.nowMs < notBefore) continue;
      const cluster = reconfig.cluster();
      if (cluster && converged(cluster) && also(cluster)) return cluster;
    }
    return undefined;
  };

  const wall0 = performance.now();
  stats.events = 0;
  stats.healEvents = 0;
  for (const k of ['leaseGrants', 'leaseGrantsAcked', 'leasePuts', 'leasePutsAcked', 'keepAlives', 'keepAlivesAcked', 'leaseRevokes', 'leaseRevokesAcked']) stats[k] = 0;
  for (const k of ['adds', 'addsAcked', 'joins', 'joinsRefused', 'promotes', 'promotesAcked', 'removes', 'removesAcked', 'removedStops', 'removedStoppedByOperator']) stats[k] = 0;
  try {
    await Promise.all(members.map((m) => m.start()));
    stats.bootMs = Math.round(performance.now() - wall0);
    // load and faults on the simulated clock
    const t0 = clock.nowMs;
    for (let t = 300; t < duration; t += 5 * rng.int(2, 12)) sys.setTimeout(clientOp, t);
    for (let t = 400; t < duration - 300; t += rng.int(150, 700)) sys.setTimeout(fault, t);
    if (churn) for (let t = 350; t < duration - 300; t += rng.int(200, 600)) sys.setTimeout(() => reconfig.change(), t);
    sys.setTimeout(() => log('faults end'), duration);
    while (clock.step(t0 + duration)) {
      stats.events!++;
      await settle();
      observe();
    }
    stats.loadMs = Math.round(performance.now() - wall0);
    // heal: network whole and quiet, every member up, until they agree
    healing = true;
    for (const m of members) m.disk.crashAtOp = undefined;
    net.heal();
    net.faults = { dropRate: 0, dupRate: 0, maxDelayMs: 5 };
    for (const m of members) {
      if (m.gone) continue;
      if (m.disk.isCrashed || (m.fatal !== undefined && !m.starting)) m.crash();
    }
    sys.setInterval(() => undefined, 50); // keeps time moving while members are idle
    let cluster = await converge(20_000);
    stats.healMs = Math.round(performance.now() - wall0) - stats.loadMs!;
    stats.healVirtualMs = clock.nowMs - t0 - duration;
    if (!cluster) fail(`no convergence: ${standing(members)}`);
    else {
      await finalChecks(cluster, history, fail);
      if (churn) reconfig.check(cluster);
      if (leasing) {
        // time for every lease to expire (and a new leader's extension of them), nothing kept alive
        const expired = await converge(20_000, leases.allExpiredBy() + 1500, (c) => !leases.anyLeft(c));
        if (!expired) {
          fail(`leases never all expired: ${members.filter((m) => m.up && !m.gone).map((m) => `${m.name} holds ${m.server!.lessor.size}`).join(', ')}`);
          return finish();
        }
        cluster = expired;
        stats.leaseWaitVirtualMs = clock.nowMs - t0 - duration - stats.healVirtualMs!;
        leases.check(cluster);
        await finalChecks(cluster, history, fail);
      }
      // in half the seeds the whole cluster then loses power at once, comes back, and serves reads at every member
      if (!powerCut) return finish();
      for (const m of cluster) m.crash();
      stats.powerCuts = 1;
      cluster = await converge(20_000);
      if (!cluster) fail(`no convergence after a power cut of the whole cluster: ${standing(members)}`);
      else {
        log(`converged after the power cut: ${cluster.map((m) => `${m.name} lead=${m.server!.lead.toString(16)} applied=${m.server!.appliedIndex}`).join(' ')}`);
        await finalChecks(cluster, history, fail);
        if (churn) reconfig.check(cluster);
        await readsEverywhere(cluster, clock, fail);
      }
    }
  } catch (err) {
    fail(`simulation error: ${(err as Error).stack ?? String(err)}`);
  }
  return finish();

  function finish(): MemberSimResult {
    const h = history.check();
    if (h) fail(`linearizability: ${h}`);
    stats.snapshotsSent = net.snapshots;
    stats.peerGetMembers = net.requests.get('/members') ?? 0;
    stats.peerPromotes = net.requests.get('/members/promote') ?? 0;
    stats.peerLeaseRenews = net.requests.get('/leases') ?? 0;
    stats.finalMembers = members.filter((m) => !m.gone && m.started).length;
    for (const m of members) m.crash();
    return { seed: opts.seed, members: n, ok: errors.length === 0, error: errors.join('; ') || undefined, stats, trace };
  }
}

/** Where each member stands, for a failure's message. */
function standing(members: SimMember[]): string {
  return members.filter((m) => !m.gone).map((m) => {
    if (!m.up) return `${m.name}=${m.fatal ? `fatal(${String(m.fatal).slice(0, 80)})` : 'down'}`;
    const s = m.server!;
    const st = s.raftStatus;
    const cfg = (s as unknown as { raftNode: { node: { raft: { prs: { confState(): { voters: bigint[]; learners: bigint[] } } } } } }).raftNode.node.raft.prs.confState();
    const hex = (ids: bigint[]) => ids.map((i) => i.toString(16).slice(0, 4)).join(',');
    return `${m.name}(${s.memberId.toString(16).slice(0, 4)})=applied ${s.appliedIndex} commit ${st.hardState.commit} term ${st.hardState.term} lead ${s.lead.toString(16).slice(0, 4)} voters ${hex(cfg.voters)} learners ${hex(cfg.learners)} members ${hex(s.cluster.members().map((x) => x.id))}`;
  }).join('; ');
}

function rangeOf(key: string): RangeRequest__Output {
  return {
    key: Buffer.from(key), range_end: Buffer.alloc(0), limit: '0', revision: '0', sort_order: 'NONE', sort_target: 'KEY', serializable: false,
    keys_only: false, count_only: false, min_mod_revision: '0', max_mod_revision: '0', min_create_revision: '0', max_create_revision: '0',
  } as unknown as RangeRequest__Output;
}

/**
 * Linearizable reads at every member at once, a few rounds, in a healthy quiet cluster: each must be
 * answered well within one ReadIndex retry (500 ms): a context two members share, say, shows here.
 */
async function readsEverywhere(members: SimMember[], clock: SimClock, fail: (e: string) => void): Promise<void> {
  const req = rangeOf('a');
  for (let round = 0; round < 3; round++) {
    const start = clock.nowMs;
    const pending = new Set(members.map((m) => m.name));
    for (const m of members) m.kv!.range(req).then(() => pending.delete(m.name), () => undefined);
    while (pending.size > 0 && clock.nowMs - start < 400 && clock.step(start + 400)) await settle();
    if (pending.size > 0) return fail(`reads in a healthy cluster not answered within 400 ms at ${[...pending].join(', ')}`);
  }
}

/** Every member up, one leader, the same applied index as the leader's commit. */
function converged(members: SimMember[]): boolean {
  if (!members.every((m) => m.up)) return false;
  const leader = members.find((m) => m.server!.isLeader());
  if (!leader) return false;
  const commit = leader.server!.raftStatus.hardState.commit;
  // everything in the leader's log committed (a new leader's own first entry included)
  const last = (leader.server as unknown as { raftNode: { storage: { lastIndex(): number } } }).raftNode.storage.lastIndex();
  if (commit < last) return false;
  return members.every((m) => m.server!.appliedIndex === commit && m.server!.raftStatus.hardState.commit === commit);
}

async function finalChecks(members: SimMember[], history: History, fail: (e: string) => void): Promise<void> {
  const hashes = new Map<string, string>();
  for (const m of members) {
    const s = m.server!;
    const rev = s.kv.rev();
    const hk = await s.kv.hashKV(rev);
    hashes.set(m.name, `${rev}:${hk.hash}`);
  }
  if (new Set(hashes.values()).size > 1) fail(`HashKV differs: ${[...hashes].map(([k, v]) => `${k}=${v}`).join(' ')}`);
  for (const [key, p] of history.lastAcked()) {
    for (const m of members) {
      const r = m.server!.kv.range(Buffer.from(key), undefined);
      const kv = r.kvs[0];
      const modRev = kv ? Number(kv.modRevision) : 0;
      const value = kv ? Buffer.from(kv.value).toString() : '';
      if (modRev < p.rev || (modRev === p.rev && value !== p.value)) {
        fail(`acknowledged write lost: ${key}=${p.value} (rev ${p.rev}) but ${m.name} has ${value || "nothing"} (mod rev ${modRev}; rev ${m.server!.kv.rev()}, ci ${m.server!.backend.consistentIndex()}, applied ${m.server!.appliedIndex})`);
      }
    }
  }
}
