// trimAlone: a member without peers keeps only the last snapshotCatchUpEntries..2x of its applied log in
// memory; once it has a peer, a snapshot is taken at once if the log was trimmed past the last one.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../../src/backend/index.js';
import { MemoryStorage } from '../../../src/raft/index.js';
import type { ConfState, Snapshot } from '../../../src/raft/types.js';
import type { RaftBootstrap } from '../../../src/server/bootstrap.js';
import type { ServerConfig } from '../../../src/server/config.js';
import { Snapshots, trimAlone } from '../../../src/server/snapshots.js';

const conf = (over: Partial<ConfState> = {}): ConfState => ({ voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false, ...over });

function storageTo(last: number): MemoryStorage {
  const ms = new MemoryStorage();
  ms.append(Array.from({ length: last }, (_, i) => ({ index: i + 1, term: 1, type: 0, data: new Uint8Array([i]) })));
  return ms;
}

describe('trimAlone', () => {
  it('drops all but the last `keep` applied entries once 2 x keep are held, and keeps the rest readable', () => {
    const ms = storageTo(100);
    trimAlone(100, conf(), ms, 10);
    expect([ms.firstIndex(), ms.lastIndex()]).toEqual([91, 100]);
    expect(ms.term(90)).toBe(1); // the compacted boundary still answers its term
    expect(ms.entries(91, 101, Infinity).map((e) => e.data[0])).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    ms.append([101, 102, 103, 104, 105].map((index) => ({ index, term: 2, type: 0, data: new Uint8Array(0) })));
    trimAlone(105, conf(), ms, 10);
    expect(ms.firstIndex()).toBe(91); // fewer than 2 x keep held: left alone
  });

  it('never drops an entry that is not applied, even when the log is long', () => {
    const ms = storageTo(100);
    trimAlone(40, conf(), ms, 10);
    expect(ms.firstIndex()).toBe(31);
    const short = storageTo(50);
    trimAlone(500, conf(), short, 10); // applied past the stored log (an unstable tail): bounded by the log
    expect([short.firstIndex(), short.lastIndex()]).toEqual([41, 50]);
  });

  it('leaves the log of a member with peers (or a joint or learner configuration) whole', () => {
    for (const cs of [conf({ voters: [1n, 2n] }), conf({ learners: [2n] }), conf({ votersOutgoing: [1n, 2n] }), conf({ learnersNext: [2n] }), conf({ voters: [] })]) {
      const ms = storageTo(100);
      trimAlone(100, cs, ms, 10);
      expect(ms.firstIndex()).toBe(1);
    }
  });
});

describe('Snapshots.maybeSnapshot', () => {
  function snapshots(snapshotCount: number): { snaps: Snapshots; saved: number[] } {
    const saved: number[] = [];
    const boot = {
      snapshotter: { save: async (snap: Snapshot) => void saved.push(snap.metadata.index), releaseOlderThan: async () => undefined },
      wal: { saveSnapshot: async () => undefined, releaseTo: async () => undefined },
    } as unknown as RaftBootstrap;
    const backend = { commit: async () => undefined } as unknown as Backend;
    const cfg = { snapshotCount, snapshotCatchUpEntries: 10 } as ServerConfig;
    return { snaps: new Snapshots(boot, backend, cfg, pino({ level: 'silent' }), 0), saved };
  }

  it('takes a snapshot as soon as a member whose log trimAlone trimmed has a peer, so raft never falls back on an older one', async () => {
    const { snaps, saved } = snapshots(1000);
    const ms = storageTo(100);
    await snaps.maybeSnapshot(100, conf(), ms); // alone: trimmed, no snapshot
    expect([ms.firstIndex(), ms.snapshot().metadata.index, saved]).toEqual([91, 0, []]);
    const two = conf({ voters: [1n, 2n] });
    await snaps.maybeSnapshot(100, two, ms); // a peer now: the snapshot covers the trimmed entries
    expect([saved, ms.snapshot().metadata.index]).toEqual([[100], 100]);
    expect(ms.snapshot().metadata.index).toBeGreaterThanOrEqual(ms.firstIndex() - 1);
    await snaps.maybeSnapshot(100, two, ms);
    expect(saved).toEqual([100]); // once
  });

  it('with peers and a whole log, waits for --snapshot-count applied entries', async () => {
    const { snaps, saved } = snapshots(50);
    const ms = storageTo(100);
    const two = conf({ voters: [1n, 2n] });
    await snaps.maybeSnapshot(40, two, ms);
    expect([saved, ms.firstIndex()]).toEqual([[], 1]);
    await snaps.maybeSnapshot(51, two, ms);
    expect([saved, ms.firstIndex()]).toEqual([[51], 42]); // compacted to applied - catch-up entries
  });
});
