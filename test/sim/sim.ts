// One seeded run of a simulated cluster: faults (drops, duplicates, delays, partitions, crashes that lose
// unpersisted state) with clients proposing throughout, then healing and a liveness check. Every Ready
// feeds the safety checkers; a violation (or a raft invariant failure) ends the run with its trace.
import {
  ConfChangeType, decodeConfChange, EntryType, ErrProposalDropped, type Message, MessageType, type NodeId, type Ready, StateType,
} from '../../src/raft/index.js';
import { Checker } from './checker.js';
import { SimNetwork } from './network.js';
import { entryText, SimNode } from './node.js';
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
  stats: { ticks: number; acked: number; proposed: number; leaders: number; crashes: number; snapshotsSent: number; delivered: number; confChanges: number; reads: number };
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

export class Simulation {
  readonly rng: Rng;
  readonly nodes: SimNode[];
  readonly ids: NodeId[];
  readonly net: SimNetwork;
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
  stats = { ticks: 0, acked: 0, proposed: 0, leaders: 0, crashes: 0, snapshotsSent: 0, delivered: 0, confChanges: 0, reads: 0 };

  constructor(readonly seed: number, n: number, tracing: boolean) {
    this.rng = new Rng(seed);
    this.tracing = tracing;
    this.ids = Array.from({ length: n }, (_, i) => BigInt(i + 1));
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
      confChangeRate: this.rng.pick([0, 0.01, 0.05]),
      readRate: this.rng.pick([0, 0.05]),
    };
    // Half the clusters start with their last member as a learner, and membership changes run throughout.
    this.learnerStart = this.rng.chance(0.5);
    const voters = this.learnerStart ? this.ids.slice(0, -1) : this.ids;
    const learners = this.learnerStart ? this.ids.slice(-1) : [];
    this.nodes = this.ids.map((id) => new SimNode(id, this.rng.fork(), voters, learners, 10));
    this.net.onLost = (m) => {
      const from = this.node(m.from);
      if (m.type === MessageType.MsgSnap && from.alive) from.raw!.reportSnapshot(m.to, true);
    };
    this.log(`cluster of ${n}: faults ${JSON.stringify(this.net.faults)} profile ${JSON.stringify(this.profile)}`);
  }

  log(s: string): void {
    if (this.tracing) this.trace.push(`[${this.now}] ${s}`);
  }

  node(id: NodeId): SimNode {
    return this.nodes[Number(id) - 1]!;
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
      if (!n.alive && this.rng.chance(0.04)) this.restart(n);
    }
    if (!this.net.partitioned() && this.rng.chance(p.partitionRate)) {
      const order = this.ids.slice().sort(() => this.rng.next() - 0.5);
      const k = this.rng.int(1, this.ids.length - 1);
      const groups = [order.slice(0, k), order.slice(k)];
      this.net.partition(groups);
      this.log(`partition ${groups.map((g) => `{${g.join(',')}}`).join(' ')}`);
    } else if (this.net.partitioned() && this.rng.chance(p.healRate)) {
      this.net.heal();
      this.log('partition healed');
    }
    const lead = this.leader();
    if (lead && this.rng.chance(p.confChangeRate)) this.changeMembership(lead);
    if (lead && this.rng.chance(p.transferRate)) {
      const to = this.rng.pick(this.ids.filter((id) => id !== lead.id));
      this.log(`n${lead.id} transferLeader(${to})`);
      lead.raw!.transferLeader(to);
    }
  }

  /** Promote a learner, or demote a voter to learner (never below two voters). */
  private changeMembership(lead: SimNode): void {
    const cs = lead.raw!.raft.prs.confState();
    const target = this.rng.pick(this.ids);
    const isLearner = cs.learners.includes(target);
    if (!isLearner && (cs.voters.length <= 2 || target === lead.id)) return;
    const type = isLearner ? ConfChangeType.ConfChangeAddNode : ConfChangeType.ConfChangeAddLearnerNode;
    this.log(`client -> n${lead.id} proposeConfChange ${ConfChangeType[type]}(${target})`);
    try {
      lead.raw!.proposeConfChange({ type, nodeId: target });
    } catch (e) {
      if (!(e instanceof ErrProposalDropped)) throw e;
    }
  }

  crash(n: SimNode, why: string): void {
    n.crash();
    this.stats.crashes++;
    for (const [v, p] of this.pending) if (p.id === n.id) this.pending.delete(v);
    this.leaderMark.delete(n.id);
    this.log(`n${n.id} ${why} (disk: last ${n.disk.lastIndex()}, hs ${JSON.stringify(n.disk.initialState().hardState, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}, applied ${n.app.appliedIndex})`);
  }

  restart(n: SimNode): void {
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
    if (m.type === MessageType.MsgSnap) {
      // The transport reports a finished snapshot stream to the sender.
      const from = this.node(m.from);
      if (from.alive) from.raw!.reportSnapshot(m.to, !n.alive);
    }
    if (!n.alive) return;
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
    for (const m of msgs) {
      if (m.type === MessageType.MsgSnap) this.stats.snapshotsSent++;
      const ok = this.net.send(this.now, m);
      if (this.tracing) this.log(`send ${describeMessage(m)}${ok ? '' : ' (dropped)'}`);
      if (!ok && m.type === MessageType.MsgSnap) n.raw!.reportSnapshot(m.to, true);
      // A transport sometimes notices a failed send: the leader then probes that follower again.
      else if (!ok && m.type === MessageType.MsgApp && this.rng.chance(0.2)) n.raw!.reportUnreachable(m.to);
    }
  }

  private persist(n: SimNode, rd: Ready): void {
    n.persist(rd);
    if (rd.snapshot) this.checker.hashState(n.id, rd.snapshot.metadata.index, n.app.hash);
    for (const e of rd.entries) this.checker.persisted(n.id, e, n.disk.term(e.index - 1));
  }

  private apply(n: SimNode, rd: Ready): void {
    if (rd.snapshot) n.raftApplied = rd.snapshot.metadata.index;
    for (const e of rd.committedEntries) {
      if (e.index !== n.raftApplied + 1) this.checker.fail(`apply order: n${n.id} got entry ${e.index} to apply after ${n.raftApplied}`);
      n.raftApplied = e.index;
      if (e.type === EntryType.EntryConfChange) n.raw!.applyConfChange(decodeConfChange(e.data));
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
}
