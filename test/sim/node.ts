// One simulated member: a RawNode over a MemoryStorage that stands for its disk, and an application
// state machine (a hash chain over applied entries) that is durable at apply, as etcd's backend is.
// A crash throws away the RawNode (everything not yet persisted); a restart rebuilds it from the disk.
// A member added later (etcd's `member add`, then the new process started) begins with an empty disk and
// an empty ConfState, and learns the configuration from the leader's appends or snapshot. A removed member
// stops for good, as etcd's does.
import {
  type ConfState, type Entry, EntryType, MemoryStorage, type NodeId, RawNode, type Ready, StateType, type Snapshot,
} from '../../src/raft/index.js';
import type { Rng } from './rng.js';

export interface AppState {
  appliedIndex: number;
  hash: string;
}

/** When a member snapshots and compacts (small, so that lagging and new members need MsgSnap). */
export interface Compaction {
  /** Entries applied after which a member snapshots and compacts its log. */
  snapshotEveryEntries: number;
  /** Entries kept behind a snapshot for slow followers. */
  snapshotCatchUpEntries: number;
}

export const defaultCompaction: Compaction = { snapshotEveryEntries: 40, snapshotCatchUpEntries: 8 };

export function chainHash(prev: string, data: string): string {
  // cyrb53-style 53-bit hash of prev|data, as hex: collisions are negligible for a simulation.
  const s = `${prev}|${data}`;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16);
}

const dec = new TextDecoder();
const enc = new TextEncoder();

export function entryText(e: Entry): string {
  return e.type === EntryType.EntryNormal ? dec.decode(e.data) : `conf:${Array.from(e.data).join(',')}`;
}

export class SimNode {
  /** The disk: what survives a crash. */
  readonly disk = new MemoryStorage();
  app: AppState = { appliedIndex: 0, hash: '' };
  raw: RawNode | undefined;
  incarnation = 0;
  /** Last index raft handed out to apply in this incarnation (checks raft's apply order). */
  raftApplied = 0;
  /** Removed from the cluster and stopped: never ticked, delivered to or restarted again. */
  removed = false;
  /** Set when it applied its own removal: the tick at which it stops (etcd stops with a short delay). */
  stopAt: number | undefined;

  /** `initial` is the configuration of a member of the first cluster; a member added later has none. */
  constructor(
    readonly id: NodeId, private readonly rng: Rng, initial: { voters: NodeId[]; learners: NodeId[] } | undefined,
    readonly electionTick: number, private readonly compaction: Compaction = defaultCompaction,
  ) {
    if (initial) {
      const cs: ConfState = { voters: initial.voters, learners: initial.learners, votersOutgoing: [], learnersNext: [], autoLeave: false };
      // Bootstrap as etcd does for a new cluster: a snapshot-less start with the initial configuration.
      this.disk.applySnapshot({ data: enc.encode('1:'), metadata: { index: 1, term: 1, confState: cs } });
      this.disk.setHardState({ term: 1, vote: 0n, commit: 1 });
      this.app = { appliedIndex: 1, hash: '' };
    }
    this.start();
  }

  get alive(): boolean {
    return this.raw !== undefined;
  }

  start(): void {
    this.incarnation++;
    const rng = this.rng;
    // Either as etcd (raft restarts applied at its snapshot; the entries after it come out again, the state
    // machine skips what it has, conf changes are re-applied) or with the state machine's applied index
    // (raft then replays the conf changes up to it itself). Both must give the same configuration.
    const applied = rng.chance(0.5) ? this.disk.snapshot().metadata.index : this.app.appliedIndex;
    this.raftApplied = applied;
    this.raw = new RawNode({
      id: this.id, electionTick: this.electionTick, heartbeatTick: 1, storage: this.disk,
      applied, rng: () => rng.next(), maxSizePerMsg: 4096, maxInflightMsgs: 16,
    });
  }

  crash(): void {
    this.raw = undefined;
    this.stopAt = undefined;
  }

  /** Stop for good: the member was removed from the cluster. */
  stop(): void {
    this.crash();
    this.removed = true;
  }

  isLeader(): boolean {
    return this.raw?.raft.state === StateType.StateLeader;
  }

  term(): number {
    return this.raw?.raft.term ?? 0;
  }

  /** Persist what the Ready asks to persist (hard state, snapshot, entries), as the WAL + storage would. */
  persist(rd: Ready): void {
    if (rd.snapshot) {
      this.disk.applySnapshot(rd.snapshot);
      const [idx, hash] = dec.decode(rd.snapshot.data).split(':') as [string, string];
      this.app = { appliedIndex: Number(idx), hash };
    }
    this.disk.append(rd.entries);
    if (rd.hardState) this.disk.setHardState(rd.hardState);
  }

  /** Apply one committed entry to the state machine; returns the new hash. */
  apply(e: Entry): string {
    const text = e.type === EntryType.EntryNormal && e.data.length === 0 ? '' : entryText(e);
    this.app = { appliedIndex: e.index, hash: text === '' ? this.app.hash : chainHash(this.app.hash, text) };
    return this.app.hash;
  }

  /** Snapshot + compact once enough has been applied since the last snapshot. */
  maybeSnapshot(): void {
    const snap = this.disk.snapshot();
    // Only when raft's configuration matches the state machine (conf changes re-applied after a restart).
    if (this.raftApplied !== this.app.appliedIndex) return;
    if (this.app.appliedIndex - snap.metadata.index < this.compaction.snapshotEveryEntries) return;
    const cs = this.raw!.raft.prs.confState();
    this.disk.createSnapshot(this.app.appliedIndex, cs, enc.encode(`${this.app.appliedIndex}:${this.app.hash}`));
    const compactTo = this.app.appliedIndex - this.compaction.snapshotCatchUpEntries;
    if (compactTo > this.disk.firstIndex()) this.disk.compact(compactTo);
  }

  snapshotState(s: Snapshot): AppState {
    const [idx, hash] = dec.decode(s.data).split(':') as [string, string];
    return { appliedIndex: Number(idx), hash };
  }
}
