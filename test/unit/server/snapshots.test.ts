// trimAlone: a member without peers keeps only the last snapshotCatchUpEntries..2x of its applied log in memory.
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../../src/raft/index.js';
import type { ConfState } from '../../../src/raft/types.js';
import { trimAlone } from '../../../src/server/snapshots.js';

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
