// The building blocks: MemoryStorage, the raft log over it, in-flight tracking, progress, quorums.
import { describe, expect, it } from 'vitest';
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable, MemoryStorage, type NodeId } from '../../../src/raft/index.js';
import { Inflights } from '../../../src/raft/inflights.js';
import { RaftLog } from '../../../src/raft/log.js';
import { Progress, ProgressStateType } from '../../../src/raft/progress.js';
import { jointCommittedIndex, majorityCommittedIndex, majorityVoteResult, VoteResult } from '../../../src/raft/quorum.js';
import { ByteArena } from '../../../src/pkg/byte-arena.js';
import { confState } from './harness.js';

const ent = (index: number, term: number) => ({ index, term, type: 0, data: new Uint8Array(0) });
const idx = (es: { index: number; term: number }[]) => es.map((e) => `${e.index}/${e.term}`);

describe('MemoryStorage', () => {
  function filled(): MemoryStorage {
    const ms = new MemoryStorage();
    ms.append([ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 3), ent(5, 3)]);
    return ms;
  }

  it('answers term/entries within its bounds and throws etcd\'s errors outside them', () => {
    const ms = filled();
    ms.compact(2);
    expect([ms.firstIndex(), ms.lastIndex(), ms.term(2), ms.term(5)]).toEqual([3, 5, 1, 3]);
    expect(() => ms.term(1)).toThrow(ErrCompacted);
    expect(() => ms.term(6)).toThrow(ErrUnavailable);
    expect(() => ms.entries(2, 4, Infinity)).toThrow(ErrCompacted);
    expect(idx(ms.entries(3, 6, Infinity))).toEqual(['3/2', '4/3', '5/3']);
    expect(idx(ms.entries(3, 6, 0))).toEqual(['3/2']); // a size limit still yields one entry
    expect(() => ms.compact(2)).toThrow(ErrCompacted);
  });

  it('truncates a conflicting suffix on append', () => {
    const ms = filled();
    ms.append([ent(4, 4), ent(5, 4), ent(6, 4)]);
    expect(idx(ms.entries(1, 7, Infinity))).toEqual(['1/1', '2/1', '3/2', '4/4', '5/4', '6/4']);
    ms.append([ent(2, 5)]);
    expect(ms.lastIndex()).toBe(2);
  });

  it('creates and applies snapshots, refusing older ones', () => {
    const ms = filled();
    const snap = ms.createSnapshot(4, confState([1, 2]), new Uint8Array([9]));
    expect([snap.metadata.index, snap.metadata.term]).toEqual([4, 3]);
    expect(() => ms.createSnapshot(3, undefined, new Uint8Array())).toThrow(ErrSnapOutOfDate);
    const other = new MemoryStorage();
    other.applySnapshot(snap);
    expect([other.firstIndex(), other.lastIndex(), other.term(4)]).toEqual([5, 4, 3]);
    expect(() => other.applySnapshot(snap)).toThrow(ErrSnapOutOfDate);
    expect(other.initialState().confState.voters).toEqual([1n, 2n]);
  });

  it('keeps copies of entry data made by keepData (the server packs them into a ByteArena)', () => {
    const arena = new ByteArena(64);
    const ms = new MemoryStorage((d) => arena.copy(d));
    const shared = Buffer.from('aaaabbbbccccccccccccccccccccccccc'); // one buffer the entries are slices of
    const datas = [shared.subarray(0, 4), shared.subarray(4, 8), shared.subarray(8)];
    ms.append(datas.map((data, i) => ({ index: i + 1, term: 1, type: 0, data })));
    shared.fill(0);
    const kept = ms.entries(1, 4, Infinity).map((e) => e.data);
    expect(kept.map((d) => Buffer.from(d).toString())).toEqual(['aaaa', 'bbbb', 'c'.repeat(25)]);
    expect(kept.every((d) => Buffer.isBuffer(d) && d.buffer !== shared.buffer)).toBe(true);
    expect(kept[0]!.buffer).toBe(kept[1]!.buffer); // small entries share a chunk
    expect(kept[2]!.buffer).not.toBe(kept[0]!.buffer); // over a quarter of a chunk: a buffer of its own
  });
});

describe('RaftLog', () => {
  it('appends after a match, finds conflicts, and keeps committed entries', () => {
    const ms = new MemoryStorage();
    ms.append([ent(1, 1), ent(2, 2), ent(3, 2)]);
    const log = new RaftLog(ms, Infinity);
    expect(log.maybeAppend(3, 3, 3, [ent(4, 3)])).toBeUndefined(); // (3, term 3) does not match
    expect(log.maybeAppend(2, 2, 3, [ent(3, 3), ent(4, 3)])).toBe(4);
    expect(idx(log.allEntries())).toEqual(['1/1', '2/2', '3/3', '4/3']);
    expect(log.committed).toBe(3);
    expect(() => log.maybeAppend(1, 1, 3, [ent(2, 9)])).toThrow(/conflict with committed/);
    expect(log.findConflictByTerm(4, 2)).toBe(2); // the last index whose term is <= 2
    expect(idx(log.nextEnts())).toEqual(['1/1', '2/2', '3/3']);
  });

  it('commits only an entry of the given term, and never goes back', () => {
    const ms = new MemoryStorage();
    ms.append([ent(1, 1), ent(2, 2)]);
    const log = new RaftLog(ms, Infinity);
    expect(log.maybeCommit(2, 1)).toBe(false);
    expect(log.maybeCommit(2, 2)).toBe(true);
    expect(log.maybeCommit(1, 1)).toBe(false);
    expect(log.committed).toBe(2);
  });
});

describe('flow control and quorums', () => {
  it('Inflights is a bounded ring freed up to an index', () => {
    const inf = new Inflights(3);
    inf.add(5); inf.add(7); inf.add(9);
    expect(inf.full()).toBe(true);
    expect(() => inf.add(11)).toThrow();
    inf.freeLE(7);
    expect(inf.count).toBe(1);
    inf.add(11); inf.add(12);
    inf.freeFirstOne();
    expect(inf.count).toBe(2);
  });

  it('Progress probes one append at a time and backs off on rejection', () => {
    const pr = new Progress(10, 4, false);
    expect(pr.isPaused()).toBe(false);
    pr.probeSent = true;
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeDecrTo(9, 4)).toBe(true); // rejected at 9, follower's hint 4
    expect([pr.next, pr.probeSent]).toEqual([5, false]);
    expect(pr.maybeDecrTo(9, 4)).toBe(false); // stale rejection
    pr.maybeUpdate(6);
    pr.becomeReplicate();
    expect([pr.state, pr.match, pr.next]).toEqual([ProgressStateType.StateReplicate, 6, 7]);
    pr.becomeSnapshot(20);
    expect(pr.isPaused()).toBe(true);
    pr.becomeProbe();
    expect(pr.next).toBe(21);
  });

  it('majorities and joint majorities', () => {
    const v = (...ns: number[]) => new Set<NodeId>(ns.map(BigInt));
    const acked = new Map<NodeId, number>([[1n, 10], [2n, 7], [3n, 5], [4n, 2]]);
    expect(majorityCommittedIndex(v(1, 2, 3), (id) => acked.get(id))).toBe(7);
    expect(majorityCommittedIndex(v(1, 2, 3, 4, 5), (id) => acked.get(id))).toBe(5);
    expect(jointCommittedIndex([v(1, 2, 3), v(3, 4, 5)], (id) => acked.get(id))).toBe(2);
    const votes = new Map<NodeId, boolean>([[1n, true], [2n, false]]);
    expect(majorityVoteResult(v(1, 2, 3), votes)).toBe(VoteResult.VotePending);
    votes.set(3n, false);
    expect(majorityVoteResult(v(1, 2, 3), votes)).toBe(VoteResult.VoteLost);
    expect(majorityVoteResult(v(1), new Map([[1n, true]]))).toBe(VoteResult.VoteWon);
  });
});
