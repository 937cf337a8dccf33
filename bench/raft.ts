// Raft core throughput: proposals committed per second through a 3-member in-memory cluster (no disk,
// no network: messages are handed straight to their recipient; every Ready is "persisted" into the
// member's MemoryStorage and applied). Batch = proposals made before each Ready cycle (group commit).
// Run: npx tsx bench/raft.ts   (or from bench/index.ts via runRaftBench()).
import { pathToFileURL } from 'node:url';
import { EntryType, MemoryStorage, type Message, RawNode, StateType } from '../src/raft/index.js';

export interface RaftBenchResult {
  batch: number;
  /** 'proposeBatch': one MsgProp carrying the batch; 'propose': one propose() call per entry. */
  mode: 'propose' | 'proposeBatch';
  entries: number;
  seconds: number;
  entriesPerSec: number;
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
}

function newCluster(): { nodes: RawNode[]; storages: MemoryStorage[] } {
  const voters = [1n, 2n, 3n];
  const storages = voters.map(() => MemoryStorage.withConfState({ voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }));
  const nodes = voters.map((id, i) => new RawNode({
    id, electionTick: 10, heartbeatTick: 1, storage: storages[i]!, rng: seeded(i + 1), maxInflightMsgs: 256,
  }));
  return { nodes, storages };
}

/** Process Readies and deliver messages until the cluster is quiet; returns entries applied by node 0. */
function settle(nodes: RawNode[], storages: MemoryStorage[]): number {
  let applied = 0;
  let busy = true;
  while (busy) {
    busy = false;
    const outbox: Message[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      if (!n.hasReady()) continue;
      busy = true;
      const rd = n.ready();
      const st = storages[i]!;
      st.append(rd.entries);
      if (rd.hardState) st.setHardState(rd.hardState);
      for (const m of rd.messages) outbox.push(m);
      if (i === 0) for (const e of rd.committedEntries) if (e.type === EntryType.EntryNormal && e.data.length > 0) applied++;
      n.advance(rd);
    }
    for (const m of outbox) nodes[Number(m.to) - 1]!.step(m);
  }
  return applied;
}

export function benchRaft(batch: number, totalEntries: number, mode: RaftBenchResult['mode']): RaftBenchResult {
  const { nodes, storages } = newCluster();
  nodes[0]!.campaign();
  settle(nodes, storages);
  if (nodes[0]!.status().softState.raftState !== StateType.StateLeader) throw new Error('node 1 did not become leader');
  const payload = new Uint8Array(128).fill(7); // a typical small put request
  let committed = 0;
  const start = performance.now();
  while (committed < totalEntries) {
    if (mode === 'proposeBatch') nodes[0]!.proposeBatch(Array.from({ length: batch }, () => payload));
    else for (let i = 0; i < batch; i++) nodes[0]!.propose(payload);
    committed += settle(nodes, storages);
    // Keep memory flat, as the server's snapshots do.
    if (storages[0]!.lastIndex() - storages[0]!.firstIndex() > 20_000) {
      for (let i = 0; i < nodes.length; i++) {
        const st = storages[i]!;
        const upTo = nodes[i]!.raft.raftLog.applied - 1000;
        if (upTo > st.firstIndex()) st.compact(upTo);
      }
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return { batch, mode, entries: committed, seconds, entriesPerSec: committed / seconds };
}

export function runRaftBench(): RaftBenchResult[] {
  benchRaft(100, 50_000, 'proposeBatch'); // warm up the JIT
  benchRaft(100, 50_000, 'propose');
  return [benchRaft(1, 100_000, 'propose'), benchRaft(100, 1_000_000, 'propose'), benchRaft(100, 2_000_000, 'proposeBatch')];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of runRaftBench()) {
    console.log(`raft 3-node in-memory, batch ${r.batch} (${r.mode}): ${r.entries} entries in ${r.seconds.toFixed(2)} s = ${Math.round(r.entriesPerSec).toLocaleString('en-US')} entries/s`);
  }
}
