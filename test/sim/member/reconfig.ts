/*
 * Membership changes in the whole-member simulation, made as an operator makes them with etcdctl:
 *  - add: `member add` at some member (MembershipChanges.add, as the v3 API's MemberAdd); once the
 *    cluster answered (or, when the answer was lost, once the new member shows in a member's list)
 *    the new member starts with --initial-cluster-state existing and the --initial-cluster of the
 *    current list, fetching the running cluster over its peer network (join-existing.ts through
 *    MemberIo.peerGet) and learning the log from the leader. A join the cluster refuses (a member
 *    that has not applied the add yet answered, or none answered) ends the process as etcd's does;
 *    the operator starts it again with the list as it is then.
 *  - add learner, then promote (at any member: a follower forwards it to the leader's peer URL,
 *    POST /members/promote/<id>, over the simulated network).
 *  - remove: the removed member stops by itself (it applied its removal, or a peer refused it as
 *    removed); one the cluster removed while it was down is never started again.
 * Checks: at every step, no member's raft counts a member its applied membership removed (as a voter
 * or a learner) and raft's configuration is the applied membership; after healing, every member's
 * membership (members, learner flags, removed ids) and raft configuration agree, every acknowledged
 * change shows, and every member that stopped as removed is removed.
 */
import type { Clock } from '../../../src/pkg/clock.js';
import type { RaftCluster } from '../../../src/membership/index.js';
import { MembershipChanges } from '../../../src/server/membership-changes.js';
import type { EtcdServer } from '../../../src/server/server.js';
import type { Rng } from '../rng.js';
import { SimMember, type MemberEnv } from './member.js';

export interface ReconfigDeps {
  /** Every member ever made; added members are pushed here. */
  members: SimMember[];
  env: MemberEnv;
  rng: Rng;
  clock: Clock;
  log(line: string): void;
  stats: Record<string, number>;
  fail(e: string): void;
  diskSeed(): number;
}

interface Acked {
  kind: 'add' | 'remove' | 'promote';
  id: bigint;
}

const hex = (id: bigint): string => id.toString(16);

/** The raft configuration a member's raft node tracks. */
function raftConfig(s: EtcdServer): { voters: Set<bigint>; outgoing: Set<bigint>; learners: Set<bigint> } {
  const c = (s as unknown as { raftNode: { node: { raft: { prs: { config: { voters: [Set<bigint>, Set<bigint>]; learners: Set<bigint> } } } } } }).raftNode.node.raft.prs.config;
  return { voters: c.voters[0], outgoing: c.voters[1], learners: c.learners };
}

function removedIds(c: RaftCluster): bigint[] {
  return [...(c as unknown as { removed: Set<bigint> }).removed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A member's applied membership, as text to compare: ids, learner flags, peer URLs, removed ids. */
function viewText(c: RaftCluster): string {
  const ms = c.members().map((m) => `${hex(m.id)}${m.isLearner ? 'L' : ''}=${m.peerURLs.join(',')}`);
  return `${ms.join(' ')} removed ${removedIds(c).map(hex).join(',')}`;
}

const sameSet = (a: Set<bigint>, b: bigint[]): boolean => a.size === b.length && b.every((x) => a.has(x));

export class Reconfig {
  private seq = 0;
  private readonly acked: Acked[] = [];
  /** Ids a removal was asked for (acknowledged or not). */
  private readonly removeAsked = new Set<bigint>();
  /** Ids whose removal the cluster acknowledged: never started again. */
  private readonly removedAcked = new Set<bigint>();
  /** Members that stopped because they were removed (MemberRemovedError). */
  private readonly stoppedRemoved = new Set<bigint>();

  constructor(private readonly d: ReconfigDeps) {}

  private byId(id: bigint): SimMember | undefined {
    return this.d.members.find((m) => m.id === id);
  }

  private live(): SimMember[] {
    return this.d.members.filter((m) => m.up && !m.gone);
  }

  /** One change, asked of a random live member (`kind`: a promotion of that learner). */
  change(promote?: bigint): void {
    const { rng, stats, log } = this.d;
    const live = this.live();
    if (live.length === 0) return;
    const via = rng.pick(live);
    const s = via.server!;
    const view = s.cluster.members();
    const changes = new MembershipChanges(s);
    const inc = via.incarnation;
    // an answer the asking member gave after it crashed reaches nobody
    const answered = (): boolean => inc === via.incarnation;
    const why = (err: unknown): string => String((err as Error)?.message ?? err).slice(0, 80);
    const r = promote !== undefined ? 0.5 : rng.next();
    if (r < 0.45) {
      if (view.length >= 5 || this.d.members.filter((m) => !m.gone).length >= 7) return;
      const learner = rng.chance(0.4);
      const k = ++this.seq;
      const m = new SimMember(`j${k}`, this.d.env, this.d.diskSeed(), `http://10.0.1.${k}:2380`, new Map(), true);
      this.d.members.push(m);
      stats.adds!++;
      log(`add ${learner ? 'learner ' : ''}${m.name} via ${via.name}`);
      changes.add([m.url], learner).then(
        ({ member }) => {
          if (!answered()) return;
          stats.addsAcked!++;
          this.acked.push({ kind: 'add', id: member.id });
          log(`added ${m.name} as ${hex(member.id)}`);
          this.known(m, member.id);
          // its operator promotes the learner once it has (probably) caught up
          if (learner) this.d.clock.setTimeout(() => this.change(member.id), rng.int(300, 1500));
        },
        (err) => answered() && log(`add ${m.name} failed: ${why(err)}`),
      );
    } else if (r < 0.7) {
      const learners = view.filter((v) => v.isLearner && (promote === undefined || v.id === promote));
      if (learners.length === 0) return;
      const l = rng.pick(learners);
      stats.promotes!++;
      log(`promote ${hex(l.id)} via ${via.name}`);
      changes.promote(l.id).then(
        () => {
          if (!answered()) return;
          stats.promotesAcked!++;
          this.acked.push({ kind: 'promote', id: l.id });
          log(`promoted ${hex(l.id)}`);
        },
        (err) => answered() && log(`promote ${hex(l.id)} failed: ${why(err)}`),
      );
    } else {
      if (view.length === 0) return; // a joining member that has not learned the membership yet
      const target = rng.pick(view);
      // raft refuses to remove the last voter
      if (!target.isLearner && view.filter((v) => !v.isLearner).length <= 1) return;
      stats.removes!++;
      this.removeAsked.add(target.id);
      log(`remove ${hex(target.id)} via ${via.name}`);
      changes.remove(target.id).then(
        () => {
          if (!answered()) return;
          stats.removesAcked!++;
          this.acked.push({ kind: 'remove', id: target.id });
          this.removedAcked.add(target.id);
          log(`removed ${hex(target.id)}`);
        },
        (err) => answered() && log(`remove ${hex(target.id)} failed: ${why(err)}`),
      );
    }
  }

  /** An added member's id is known: its operator starts it a little later. */
  private known(m: SimMember, id: bigint): void {
    if (m.id !== undefined) return;
    m.id = id;
    this.d.clock.setTimeout(() => this.start(m), this.d.rng.int(0, 400));
  }

  /** Added members whose add the cluster applied but whose answer was lost: found in a member's list. */
  discover(): void {
    const pending = this.d.members.filter((m) => m.joins && m.id === undefined && !m.gone);
    if (pending.length === 0) return;
    for (const l of this.live()) {
      for (const v of l.server!.cluster.members()) {
        const m = pending.find((p) => p.id === undefined && v.peerURLs.includes(p.url));
        if (m) {
          this.d.log(`found ${m.name} as ${hex(v.id)} in ${l.name}'s member list`);
          this.known(m, v.id);
        }
      }
    }
  }

  /** Whether the operator would start this member now (not removed for good, not a pending add). */
  mayStart(m: SimMember): boolean {
    if (m.gone || m.up || m.starting) return false;
    if (m.id !== undefined && this.removedAcked.has(m.id)) {
      this.d.log(`${m.name} was removed: not started again`);
      m.gone = true;
      return false;
    }
    return !m.joins || m.id !== undefined;
  }

  /**
   * Starts (or restarts) a member. One joining a running cluster gets the --initial-cluster of the
   * current member list (`etcdctl member list` at a live member; its data dir, once it has a WAL,
   * makes the flag moot).
   */
  start(m: SimMember): void {
    if (!this.mayStart(m)) return;
    if (m.joins && !m.started) {
      const live = this.live();
      const at = live.find((x) => x.server!.isLeader()) ?? live[0];
      // (with nobody up to ask, the last list: nobody will answer the join anyway)
      const ic = at ? new Map<string, string[]>() : m.initialCluster;
      for (const v of at?.server!.cluster.members() ?? []) {
        const sm = this.d.members.find((x) => v.peerURLs.includes(x.url));
        ic.set(sm?.name ?? hex(v.id), v.peerURLs);
      }
      ic.set(m.name, [m.url]);
      m.initialCluster = ic;
      this.d.stats.joins!++;
    }
    void m.start();
  }

  /** A member stopped because the cluster removed it (MemberRemovedError): it stays down. */
  stoppedAsRemoved(m: SimMember): void {
    this.d.stats.removedStops!++;
    if (m.id !== undefined) this.stoppedRemoved.add(m.id);
    m.crash();
    m.gone = true;
  }

  /**
   * At every step, each live member: its raft counts no member its applied membership removed (a
   * removed member never counts toward a quorum), and tracks the same voters and learners as the
   * membership. Not while a snapshot from the leader is being installed (raft takes the snapshot's
   * configuration first), nor while a restarted member replays entries its backend already holds (the
   * membership, kept in the backend, is ahead of raft's until the replay reaches it: etcd's too).
   */
  observe(m: SimMember): void {
    const s = m.server!;
    if (s.restoring || s.appliedIndex < s.backend.consistentIndex()) return;
    const rc = raftConfig(s);
    for (const id of [...rc.voters, ...rc.outgoing, ...rc.learners]) {
      if (s.cluster.isRemoved(id)) this.d.fail(`quorum: ${m.name}'s raft still tracks ${hex(id)}, which its membership removed (applied ${s.appliedIndex})`);
    }
    const ms = s.cluster.members();
    const voters = ms.filter((x) => !x.isLearner).map((x) => x.id);
    const learners = ms.filter((x) => x.isLearner).map((x) => x.id);
    if (ms.length > 0 && (!sameSet(rc.voters, voters) || !sameSet(rc.learners, learners))) {
      this.d.fail(`${m.name}'s raft tracks voters ${[...rc.voters].map(hex)} learners ${[...rc.learners].map(hex)}, its membership ${viewText(s.cluster)} (applied ${s.appliedIndex})`);
    }
  }

  /** Heal: members the leader's membership removed are stopped for good (those still up by their operator). */
  tidy(leader: SimMember, graceOver: boolean): void {
    const c = leader.server!.cluster;
    for (const m of this.d.members) {
      if (m.gone || m.id === undefined || !c.isRemoved(m.id)) continue;
      if (m.up || m.starting) {
        if (!graceOver) continue;
        this.d.stats.removedStoppedByOperator!++;
        this.d.log(`${m.name} removed but still up: stopped by its operator`);
        m.crash();
      }
      m.gone = true;
    }
  }

  /**
   * The members the converged cluster is made of (its leader's membership), each up and live, or
   * undefined while that is not so (a member still to start or to stop, one unknown).
   */
  cluster(): SimMember[] | undefined {
    this.discover();
    const live = this.live();
    const leader = live.find((m) => m.server!.isLeader());
    if (!leader) return undefined;
    const out: SimMember[] = [];
    for (const v of leader.server!.cluster.members()) {
      const m = this.byId(v.id);
      if (!m || !m.up || m.gone) return undefined;
      out.push(m);
    }
    // anything else still up is a removed member not yet stopped
    if (live.some((m) => !out.includes(m))) return undefined;
    return out;
  }

  /** After healing: every member's membership and raft configuration agree, and show every acknowledged change. */
  check(members: SimMember[]): void {
    const { fail } = this.d;
    const views = new Map(members.map((m) => [m.name, viewText(m.server!.cluster)]));
    if (new Set(views.values()).size > 1) return fail(`membership views differ: ${[...views].map(([k, v]) => `${k}: ${v}`).join('; ')}`);
    for (const m of members) {
      const s = m.server!;
      const ms = s.cluster.members();
      const rc = raftConfig(s);
      const voters = ms.filter((x) => !x.isLearner).map((x) => x.id);
      const learners = ms.filter((x) => x.isLearner).map((x) => x.id);
      if (!sameSet(rc.voters, voters) || rc.outgoing.size > 0 || !sameSet(rc.learners, learners)) {
        fail(`${m.name}'s raft configuration (voters ${[...rc.voters].map(hex)}, learners ${[...rc.learners].map(hex)}) is not its membership (${views.get(m.name)})`);
      }
    }
    const c = members[0]!.server!.cluster;
    for (const a of this.acked) {
      const now = c.member(a.id);
      const removed = c.isRemoved(a.id);
      if (a.kind === 'remove' && (now || !removed)) fail(`acknowledged removal of ${hex(a.id)} not in the membership (${views.get(members[0]!.name)})`);
      if (a.kind === 'add' && !now && !(removed && this.removeAsked.has(a.id))) fail(`acknowledged add of ${hex(a.id)} not in the membership`);
      if (a.kind === 'promote' && (now ? now.isLearner : !(removed && this.removeAsked.has(a.id)))) fail(`acknowledged promotion of ${hex(a.id)} not in the membership`);
    }
    for (const id of this.stoppedRemoved) if (!c.isRemoved(id)) fail(`member ${hex(id)} stopped as removed but the cluster did not remove it`);
  }
}
