// Test harness: raft state machines wired by an in-memory network that delivers breadth-first and can
// cut links, with a readable transcript of every message delivered (etcd's raft test "network").
import { ErrProposalDropped, MemoryStorage, type Message, MessageType, type NodeId, type ConfState } from '../../../src/raft/index.js';
import { Raft, type RaftConfig } from '../../../src/raft/raft.js';
import { newRaftStepper } from '../../../src/raft/step.js';
import { Rng } from '../../sim/rng.js';
import { describeMessage } from '../../sim/trace.js';

export const ids = (...ns: number[]): NodeId[] => ns.map((n) => BigInt(n));

export function confState(voters: number[], learners: number[] = []): ConfState {
  return { voters: ids(...voters), learners: ids(...learners), votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export interface TestRaftOptions extends Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>> {
  learners?: number[];
  storage?: MemoryStorage;
  seed?: number;
}

export function newTestRaft(id: number, voters: number[], o: TestRaftOptions = {}): Raft {
  const storage = o.storage ?? MemoryStorage.withConfState(confState(voters, o.learners));
  const rng = new Rng(o.seed ?? id);
  const r = new Raft({ electionTick: 10, heartbeatTick: 1, ...o, id: BigInt(id), storage, rng: () => rng.next() });
  newRaftStepper(r);
  return r;
}

/** Step a message into r, swallowing a dropped proposal as a transport would. */
export function stepIn(r: Raft, m: Message): void {
  try {
    r.handle(m);
  } catch (e) {
    if (!(e instanceof ErrProposalDropped)) throw e;
  }
}

export function drain(r: Raft): Message[] {
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}

export class Network {
  readonly peers = new Map<NodeId, Raft>();
  readonly storage = new Map<NodeId, MemoryStorage>();
  private readonly cuts = new Set<string>();
  readonly ignored = new Set<MessageType>();
  transcript: string[] = [];
  /** Record messages lost to a cut link in the transcript, marked "(cut)". */
  recordCuts = false;
  /** Persist every node's unstable log/hard state into its storage after each delivery. */
  persist = true;

  constructor(n: number, o: TestRaftOptions & { voters?: number[] } = {}) {
    const all = Array.from({ length: n }, (_, i) => i + 1);
    const voters = o.voters ?? all.filter((x) => !(o.learners ?? []).includes(x));
    for (const id of all) {
      const storage = MemoryStorage.withConfState(confState(voters, o.learners));
      this.storage.set(BigInt(id), storage);
      this.peers.set(BigInt(id), newTestRaft(id, voters, { ...o, storage }));
    }
  }

  get(id: number): Raft {
    return this.peers.get(BigInt(id))!;
  }

  cut(a: number, b: number): void {
    this.cuts.add(`${a}-${b}`);
    this.cuts.add(`${b}-${a}`);
  }

  isolate(id: number): void {
    for (const other of this.peers.keys()) if (Number(other) !== id) this.cut(id, Number(other));
  }

  recover(): void {
    this.cuts.clear();
    this.ignored.clear();
  }

  /** Run a local message on node id, then deliver everything that follows. */
  local(id: number, type: MessageType, extra: Partial<Message> = {}): void {
    const r = this.get(id);
    stepIn(r, { type, to: r.id, from: r.id, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...extra });
    this.flush();
  }

  campaign(id: number): void {
    this.local(id, MessageType.MsgHup);
  }

  propose(id: number, data: string): void {
    this.local(id, MessageType.MsgProp, { entries: [{ term: 0, index: 0, type: 0, data: new TextEncoder().encode(data) }] });
  }

  /** Deliver breadth-first until no node has anything more to say. */
  flush(): void {
    const queue: Message[] = [];
    for (const r of this.peers.values()) {
      this.save(r);
      queue.push(...drain(r));
    }
    while (queue.length > 0) {
      const m = queue.shift()!;
      if (this.cuts.has(`${m.from}-${m.to}`) || this.ignored.has(m.type)) {
        if (this.recordCuts) this.transcript.push(`${describeMessage(m)} (cut)`);
        continue;
      }
      const to = this.peers.get(m.to);
      if (!to) continue;
      this.transcript.push(describeMessage(m));
      stepIn(to, { ...m });
      this.save(to);
      queue.push(...drain(to));
    }
  }

  tick(id: number, times = 1): void {
    for (let i = 0; i < times; i++) this.get(id).tick();
    this.flush();
  }

  /** Take the transcript so far and start a new one. */
  take(): string[] {
    const t = this.transcript;
    this.transcript = [];
    return t;
  }

  private save(r: Raft): void {
    if (!this.persist) return;
    const st = this.storage.get(r.id)!;
    const snap = r.raftLog.unstable.snapshot;
    if (snap) {
      st.applySnapshot(snap);
      r.raftLog.stableSnapTo(snap.metadata.index);
    }
    const ents = r.raftLog.unstableEntries();
    if (ents.length > 0) {
      st.append(ents);
      const last = ents[ents.length - 1]!;
      r.raftLog.stableTo(last.index, last.term);
    }
    st.setHardState(r.hardState());
  }
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
