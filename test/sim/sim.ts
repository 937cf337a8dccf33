// One seeded run of a simulated cluster: faults (drops, duplicates, delays, partitions, crashes that lose
// unpersisted state, membership changes) with clients proposing throughout, then healing and a liveness
// check. Every Ready feeds the safety checkers; a violation (or a raft invariant failure) ends the run
// with its trace.
import {
  decodeConfChange, type Entry, EntryType, ErrProposalDropped, type Message, MessageType, type NodeId, type Ready, StateType,
} from '../../src/raft/index.js';
import { Checker } from './checker.js';
import { emptyMembershipStats, Membership, type MembershipHost } from './membership.js';
import { SimNetwork } from './network.js';
import { type Compaction, entryText, SimNode } from './node.js';
import { Rng } from './rng.js';
import { describeMessage } from './trace.js';

export interface SimOptions {
  seed: number;
  /** 3 or 5; by default drawn from the seed. */
  nodes?: number;
  faultTicks?: number;
  trace?: boolean;
}

export interface SimResult {
  seed: number;
  nodes: number;
  ok: boolean;
  error?: string;
  trace: string[];
  stats: SimStats;
}

export type SimStats = ReturnType<typeof newStats>;

function newStats() {
  return { ticks: 0, acked: 0, proposed: 0, leaders: 0, crashes: 0, snapshotsSent: 0, delivered: 0, confChanges: 0, reads: 0, ...emptyMembershipStats() };
}

interface Profile {
  crashRate: number;
  midReadyCrashRate: number;
  partitionRate: number;
  healRate: number;
  proposeRate: number;
  transferRate: number;
  confChangeRate: number;
  readRate: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Bound on Ready cycles per node per tick (a hang guard). */
const maxReadyPerTick = 50;
const electionTicks = 10;

export class Simulation implements MembershipHost {
  readonly rng: Rng;
  /** Every member ever started, in start order (removed ones stay, stopped). */
  readonly nodes: SimNode[] = [];
  /** Indexed by Number(id): ids are small and handed out in sequence. */
  private readonly byId: (SimNode | undefined)[] = [];
  readonly net: SimNetwork;
  readonly members: Membership;
  private readonly compaction: Compaction;
  readonly checker = new Checker();
  readonly trace: string[] = [];
  now = 0;
  private readonly tracing: boolean;
  private readonly profile: Profile;
  readonly learnerStart: boolean;
  faultsOn = true;
  clientsOn = true;
  private seq = 0;
  /** value -> proposer (id, incarnation) still waiting for its entry to apply. */
  private readonly pending = new Map<string, { id: NodeId; inc: number }>();
  readonly acked = new Map<string, number>();
  /** read context -> highest acknowledged index when the read was issued. */
  private readonly reads = new Map<string, number>();
  private maxAckedIndex = 0;
  private readonly leaderMark = new Map<NodeId, { term: number; lastIndex: number }>();
  stats = newStats();

  constructor(readonly seed: number, n: number, tracing: boolean) {
    this.rng = new Rng(seed);
    this.tracing = tracing;
    const ids = Array.from({ length: n }, (_, i) => BigInt(i + 1));
    this.net = new SimNetwork(this.rng.fork(), {
      dropRate: this.rng.pick([0, 0.01, 0.05, 0.15]),
      dupRate: this.rng.pick([0, 0.02, 0.1]),
      maxDelayTicks: this.rng.pick([0, 1, 2, 4]),
    });
    this.profile = {
      crashRate: this.rng.pick([0, 0.002, 0.006, 0.015]),
      midReadyCrashRate: this.rng.pick([0, 0.005, 0.02]),
      partitionRate: this.rng.pick([0, 0.005, 0.02]),
      healRate: this.rng.pick([0.01, 0.03, 0.1]),
      proposeRate: this.rng.pick([0.1, 0.4, 1]),
      transferRate: this.rng.pick([0, 0.002, 0.01]),
      confChangeRate: this.rng.pick([0, 0.01, 0.03, 0.06, 0.15]),
      readRate: this.rng.pick([0, 0.05]),
    };
    this.compaction = { snapshotEveryEntries: this.rng.pick([10, 20, 40]), snapshotCatchUpEntries: this.rng.pick([2, 8]) };
    // Half the clusters start with their last member as a learner, and membership changes run throughout.
    this.learnerStart = this.rng.chance(0.5);
    const voters = this.learnerStart ? ids.slice(0, -1) : ids;
    const learners = this.learnerStart ? ids.slice(-1) : [];
    for (const id of ids) this.addNode(new SimNode(id, this.rng.fork(), { voters, learners }, electionTicks, this.compaction));
    const membership = {
      strictReconfig: this.rng.chance(0.5), streamRedialChance: this.rng.pick([0.05, 0.3, 1]), removedStopDelayTicks: this.rng.pick([1, 10, 10]),
    };
    this.members = new Membership(this, n, membership);
    this.net.onLost = (m) => {
      const from = this.node(m.from);
      if (m.type === MessageType.MsgSnap && from?.alive) from.raw!.reportSnapshot(m.to, true);
    };
    this.log(`cluster of ${n}: faults ${JSON.stringify(this.net.faults)} profile ${JSON.stringify(this.profile)} compaction ${JSON.stringify(this.compaction)} membership ${JSON.stringify(membership)}`);
  }

  private addNode(n: SimNode): void {
    this.nodes.push(n);
    this.byId[Number(n.id)] = n;
  }

  /** A member added under a fresh id starts: empty disk, empty configuration. */
  startFresh(id: NodeId): void {
    this.addNode(new SimNode(id, this.rng.fork(), undefined, electionTicks, this.compaction));
    this.log(`n${id} started as a new member (empty disk)`);
  }

  stop(n: SimNode, why: string): void {
    n.stop();
    for (const [v, p] of this.pending) if (p.id === n.id) this.pending.delete(v);
    this.leaderMark.delete(n.id);
    this.log(`n${n.id} ${why} (applied ${n.app.appliedIndex})`);
  }

  present(): SimNode[] {
    return this.nodes.filter((n) => !n.removed);
  }

  connected(a: NodeId, b: NodeId): boolean {
    return this.net.connected(a, b);
  }

  log(s: string): void {
    if (this.tracing) this.trace.push(`[${this.now}] ${s}`);
  }

  node(id: NodeId): SimNode | undefined {
    return this.byId[Number(id)];
  }

  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes) if (n.alive && n.isLeader() && (!best || n.term() > best.term())) best = n;
    return best;
  }

  /** One tick of simulated time. */
  step(): void {
    this.now++;
    this.stats.ticks++;
    if (this.faultsOn) this.injectFaults();
    if (this.clientsOn) this.clients();
    this.members.tick();
    for (const n of this.nodes) if (n.alive && !(this.faultsOn && this.rng.chance(0.03))) n.raw!.tick();
    for (const m of this.net.due(this.now)) this.deliver(m);
    for (const n of this.nodes) this.drainReady(n);
    for (const n of this.nodes) if (n.alive && n.isLeader()) this.checker.leader(n.id, n.term());
  }

  private injectFaults(): void {
    const p = this.profile;
    const alive = this.nodes.filter((n) => n.alive);
    if (alive.length > 0 && this.rng.chance(p.crashRate)) {
      const n = this.rng.pick(alive);
      this.crash(n, 'crash');
    }
    for (const n of this.nodes) {
      if (!n.alive && !n.removed && this.rng.chance(0.04)) this.restart(n);
    }
    if (!this.net.partitioned() && this.rng.chance(p.partitionRate)) this.partition();
    else if (this.net.partitioned() && this.rng.chance(p.healRate)) {
      this.net.heal();
      this.log('partition healed');
    }
    const lead = this.leader();
    if (lead && this.rng.chance(p.confChangeRate)) this.members.propose(lead);
    if (lead && this.rng.chance(p.transferRate)) {
      const others = this.present().filter((n) => n !== lead);
      if (others.length === 0) return;
      const to = this.rng.pick(others).id;
      this.log(`n${lead.id} transferLeader(${to})`);
      lead.raw!.transferLeader(to);
    }
  }

  private partition(): void {
    const order = this.present().map((n) => n.id).sort(() => this.rng.next() - 0.5);
    if (order.length < 2) return;
    const k = this.rng.int(1, order.length - 1);
    const groups = [order.slice(0, k), order.slice(k)];
    this.net.partition(groups);
    this.log(`partition ${groups.map((g) => `{${g.join(',')}}`).join(' ')}`);
  }

  crash(n: SimNode, why: string): void {
    n.crash();
    this.stats.crashes++;
    for (const [v, p] of this.pending) if (p.id === n.id) this.pending.delete(v);
    this.leaderMark.delete(n.id);
    this.log(`n${n.id} ${why} (disk: last ${n.disk.lastIndex()}, hs ${JSON.stringify(n.disk.initialState().hardState, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}, applied ${n.app.appliedIndex})`);
  }

  restart(n: SimNode): void {
    if (this.members.knowsRemoved(n, n.id)) {
      // It applied its own removal before it crashed: a removed member does not come back.
      this.stop(n, 'stays down: it knows it was removed');
      return;
    }
    n.start();
    this.log(`n${n.id} restarted (term ${n.term()}, applied ${n.app.appliedIndex})`);
  }

  private clients(): void {
    const p = this.profile;
    const alive = this.nodes.filter((n) => n.alive);
    if (alive.length === 0) return;
    if (this.rng.chance(p.proposeRate)) this.propose(this.rng.pick(alive));
    if (this.rng.chance(p.readRate)) {
      const n = this.rng.pick(alive);
      const ctx = `r${this.seq++}`;
      this.reads.set(ctx, this.maxAckedIndex);
      n.raw!.readIndex(enc.encode(ctx));
    }
  }

  propose(n: SimNode, value = `v${this.seq++}`): boolean {
    try {
      n.raw!.propose(enc.encode(value));
    } catch (e) {
      if (e instanceof ErrProposalDropped) return false;
      throw e;
    }
    this.stats.proposed++;
    this.pending.set(value, { id: n.id, inc: n.incarnation });
    this.log(`client -> n${n.id} propose ${value}`);
    return true;
  }

  private deliver(m: Message): void {
    const n = this.node(m.to);
    const from = this.node(m.from);
    // A member refuses messages from a peer it knows was removed; the refused sender learns it is removed.
    const refused = n?.alive === true && this.members.knowsRemoved(n, m.from);
    if (m.type === MessageType.MsgSnap) {
      // The transport reports a finished snapshot stream to the sender.
      if (from?.alive) from.raw!.reportSnapshot(m.to, !n?.alive || refused);
    }
    if (refused && from?.alive) this.stop(from, `stopped: n${n!.id} refused its message as from a removed member`);
    if (!n?.alive || refused) return;
    this.stats.delivered++;
    if (this.tracing) this.log(`deliver ${describeMessage(m)}`);
    n.raw!.step(m);
  }

  drainReady(n: SimNode): void {
    for (let i = 0; i < maxReadyPerTick && n.alive && n.raw!.hasReady(); i++) this.handleReady(n);
  }

  private handleReady(n: SimNode): void {
    const raw = n.raw!;
    const r = raw.raft;
    const mark = this.leaderMark.get(n.id);
    const rd = raw.ready();
    const isLeader = r.state === StateType.StateLeader;
    if (isLeader && mark && mark.term === r.term) this.checker.leaderAppend(n.id, mark.lastIndex, rd.entries);
    if (rd.softState) this.softStateChanged(n, rd);
    if (isLeader) {
      // The leader sends its appends while its own fsync runs; a crash here loses the unsynced entries.
      this.send(n, rd.messages);
      if (this.faultsOn && rd.entries.length > 0 && this.rng.chance(this.profile.midReadyCrashRate)) {
        this.crash(n, 'crashed after sending, before its fsync');
        return;
      }
      this.persist(n, rd);
    } else {
      this.persist(n, rd);
      this.send(n, rd.messages);
    }
    this.apply(n, rd);
    raw.advance(rd);
    n.maybeSnapshot();
    if (r.state === StateType.StateLeader) this.leaderMark.set(n.id, { term: r.term, lastIndex: r.raftLog.lastIndex() });
    else this.leaderMark.delete(n.id);
  }

  private softStateChanged(n: SimNode, rd: Ready): void {
    const r = n.raw!.raft;
    this.log(`n${n.id} is ${StateType[rd.softState!.raftState]} (term ${r.term}, lead ${rd.softState!.lead})`);
    if (rd.softState!.raftState === StateType.StateLeader) {
      this.stats.leaders++;
      this.checker.leader(n.id, r.term);
      this.checker.leaderComplete(n.id, r.term, r.raftLog.firstIndex(), r.raftLog.lastIndex(), (i) => r.raftLog.termOrZero(i));
    }
  }

  private send(n: SimNode, msgs: Message[]): void {
    for (let m of msgs) {
      if (m.type === MessageType.MsgSnap) {
        this.stats.snapshotsSent++;
        m = mergedSnapshot(n, m);
      }
      // The transport has no peer for a member it knows was removed.
      const ok = !this.members.knowsRemoved(n, m.to) && this.net.send(this.now, m);
      if (this.tracing) this.log(`send ${describeMessage(m)}${ok ? '' : ' (dropped)'}`);
      if (!ok && m.type === MessageType.MsgSnap) n.raw!.reportSnapshot(m.to, true);
      // A transport sometimes notices a failed send: the leader then probes that follower again.
      else if (!ok && m.type === MessageType.MsgApp && this.rng.chance(0.2)) n.raw!.reportUnreachable(m.to);
    }
  }

  /** Persist a Ready; a snapshot in it is a catch-up (of a fresh member or a learner left behind). */
  private persist(n: SimNode, rd: Ready): void {
    if (rd.snapshot) {
      if (n.app.appliedIndex === 0) this.stats.freshSnapshots++;
      else if (rd.snapshot.metadata.confState.learners.includes(n.id)) this.stats.learnerSnapshots++;
      this.log(`n${n.id} installs snapshot ${rd.snapshot.metadata.index} (applied ${n.app.appliedIndex})`);
    }
    n.persist(rd);
    if (rd.snapshot) this.checker.hashState(n.id, rd.snapshot.metadata.index, n.app.hash);
    for (const e of rd.entries) this.checker.persisted(n.id, e, n.disk.term(e.index - 1));
  }

  private apply(n: SimNode, rd: Ready): void {
    if (rd.snapshot) n.raftApplied = rd.snapshot.metadata.index;
    for (const e of rd.committedEntries) {
      if (e.index !== n.raftApplied + 1) this.checker.fail(`apply order: n${n.id} got entry ${e.index} to apply after ${n.raftApplied}`);
      n.raftApplied = e.index;
      if (e.type === EntryType.EntryConfChange) this.applyConfChange(n, e);
      if (e.index <= n.app.appliedIndex) {
        // Applied before a crash (the state machine is durable): it must be the very same entry.
        const was = this.checker.textAt.get(e.index);
        if (was !== undefined && was !== entryText(e)) this.checker.fail(`durability: n${n.id} re-read "${entryText(e)}" at ${e.index}, applied "${was}" before`);
        continue;
      }
      if (e.type === EntryType.EntryConfChange && !this.checker.textAt.has(e.index)) this.stats.confChanges++;
      const hash = n.apply(e);
      this.checker.applied(n.id, e, hash);
      if (e.type !== EntryType.EntryNormal) continue;
      const v = dec.decode(e.data);
      const p = this.pending.get(v);
      if (p && p.id === n.id && p.inc === n.incarnation) {
        this.pending.delete(v);
        this.acked.set(v, e.index);
        this.stats.acked++;
        if (e.index > this.maxAckedIndex) this.maxAckedIndex = e.index;
        this.log(`n${n.id} acked ${v} at ${e.index}`);
      }
    }
    for (const rs of rd.readStates) {
      const ctx = dec.decode(rs.requestCtx);
      const floor = this.reads.get(ctx);
      if (floor !== undefined && rs.index < floor) {
        this.checker.fail(`linearizable read: n${n.id} read ${ctx} at index ${rs.index}, but ${floor} was acknowledged before it was issued`);
      }
      if (floor !== undefined) this.stats.reads++;
      this.reads.delete(ctx);
    }
  }

  private applyConfChange(n: SimNode, e: Entry): void {
    const cc = decodeConfChange(e.data);
    const before = n.raw!.raft.prs.confState();
    const after = n.raw!.applyConfChange(cc);
    if (e.index > n.app.appliedIndex) this.members.applied(n, e.index, cc, before, after, !this.checker.textAt.has(e.index));
  }
}

/**
 * etcd's createMergedSnapshotMessage (our server's too): raft's MsgSnap goes out with the state applied
 * now, its index, term and configuration, not raft's older stored snapshot (which may predate the
 * recipient's own addition, and a member refuses a snapshot whose configuration lacks it). Only when
 * raft's configuration is the state machine's (after a restart raft may still be re-applying).
 */
function mergedSnapshot(n: SimNode, m: Message): Message {
  if (n.raftApplied !== n.app.appliedIndex) return m;
  const r = n.raw!.raft;
  const index = n.app.appliedIndex;
  const metadata = { index, term: r.raftLog.term(index), confState: r.prs.confState() };
  return { ...m, snapshot: { data: enc.encode(`${index}:${n.app.hash}`), metadata } };
}
