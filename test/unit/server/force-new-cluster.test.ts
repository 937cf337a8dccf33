import { describe, expect, it } from 'vitest';
import { decodeConfChangeContext, encodeConfChangeMember } from '../../../src/membership/index.js';
import { ConfChangeType, decodeConfChange, encodeConfChange, emptySnapshot, type Snapshot } from '../../../src/raft/index.js';
import { EntryType, type Entry } from '../../../src/raft/types.js';
import { forceStandalone, idsInLog, standaloneEntries } from '../../../src/server/force-new-cluster.js';

const cc = (index: number, type: ConfChangeType, nodeId: bigint): Entry => ({
  term: 2, index, type: EntryType.EntryConfChange, data: encodeConfChange({ type, nodeId, id: 0n }),
});
const normal = (index: number): Entry => ({ term: 2, index, type: EntryType.EntryNormal, data: new Uint8Array([1]) });

describe('--force-new-cluster entries (etcd restartAsStandaloneNode)', () => {
  it('takes the ids from the snapshot voters and the conf changes after it, sorted', () => {
    const snap: Snapshot = { ...emptySnapshot(), metadata: { ...emptySnapshot().metadata, index: 10, term: 2, confState: { ...emptySnapshot().metadata.confState, voters: [9n, 3n] } } };
    const log = [cc(11, ConfChangeType.ConfChangeAddLearnerNode, 7n), cc(12, ConfChangeType.ConfChangeRemoveNode, 9n), normal(13), cc(14, ConfChangeType.ConfChangeAddNode, 5n), cc(15, ConfChangeType.ConfChangeUpdateNode, 3n)];
    expect(idsInLog(snap, log)).toEqual([3n, 5n, 7n]);
    expect(idsInLog(undefined, [])).toEqual([]);
  });

  it('removes every other member in id order after the commit index, at the same term', () => {
    const ents = standaloneEntries([2n, 5n, 9n], 5n, 4, 20);
    expect(ents.map((e) => [e.index, e.term, e.type])).toEqual([[21, 4, EntryType.EntryConfChange], [22, 4, EntryType.EntryConfChange]]);
    expect(ents.map((e) => decodeConfChange(e.data))).toEqual([
      expect.objectContaining({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n }),
      expect.objectContaining({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 9n }),
    ]);
    expect(Buffer.from(ents[0]!.data)).toEqual(Buffer.from(encodeConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n, id: 0n })));
  });

  it('adds itself first, with etcd placeholder peer URL, when it is not a member', () => {
    const ents = standaloneEntries([2n], 5n, 1, 3);
    expect(ents.map((e) => e.index)).toEqual([4, 5]);
    const add = decodeConfChange(ents[0]!.data);
    expect(add.type).toBe(ConfChangeType.ConfChangeAddNode);
    expect(add.nodeId).toBe(5n);
    expect(new TextDecoder().decode(add.context)).toBe('{"id":5,"peerURLs":["http://localhost:2380"]}');
    expect(decodeConfChangeContext(add.context!).member.id).toBe(5n);
    expect(decodeConfChange(ents[1]!.data)).toEqual(expect.objectContaining({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n }));
    expect(standaloneEntries([5n], 5n, 1, 3)).toEqual([]);
  });

  it('drops the uncommitted entries and commits the forced ones', () => {
    const boot = [2n, 5n, 9n].map((id, i) => ({
      term: 1, index: i + 1, type: EntryType.EntryConfChange,
      data: encodeConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: id, id: 0n, context: encodeConfChangeMember({ id, name: '', peerURLs: ['http://x'], clientURLs: [], isLearner: false }) }),
    }));
    // index 6 (uncommitted) removes 9: ignored, so 9 is removed by the forced entries instead
    const log = [...boot, normal(4), normal(5), cc(6, ConfChangeType.ConfChangeRemoveNode, 9n), normal(7)];
    const f = forceStandalone(5n, undefined, { term: 3, vote: 5n, commit: 5 }, log);
    expect(f.discarded).toBe(2);
    expect(f.forced.map((e) => [e.index, e.term, decodeConfChange(e.data).nodeId])).toEqual([[6, 3, 2n], [7, 3, 9n]]);
    expect(f.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(f.hardState).toEqual({ term: 3, vote: 5n, commit: 7 });
  });
});
