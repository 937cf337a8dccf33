// The key index's generations, get at a revision, compaction and keep, as etcd's keyIndex behaves.
import { describe, expect, it } from 'vitest';
import { KeyIndex, TreeIndex, toSpan } from '../../../src/mvcc/key-index.js';
import { B } from './helpers.js';

// put a@2, put a@4, delete a@6, put a@8, put a@10 (sub 0 each)
function sample(): KeyIndex {
  const ki = new TreeIndex().newKey('a');
  ki.put(2, 0);
  ki.put(4, 0);
  ki.tombstone(6, 0);
  ki.put(8, 0);
  ki.put(10, 0);
  return ki;
}

describe('KeyIndex.get', () => {
  const rows: [number, [number, number, number] | null][] = [
    [1, null], [2, [2, 2, 1]], [3, [2, 2, 1]], [4, [4, 2, 2]], [5, [4, 2, 2]],
    [6, null], [7, null], [8, [8, 8, 1]], [9, [8, 8, 1]], [10, [10, 8, 2]], [99, [10, 8, 2]],
  ];
  it.each(rows)('at %i', (rev, want) => {
    const r = sample().get(rev);
    expect(r && [r.main, r.created, r.ver]).toEqual(want);
  });
});

describe('KeyIndex.compact / keep', () => {
  const rows: [number, string[], number[]][] = [
    // atRev, revisions kept on disk (<= atRev), remaining revision mains in the index
    [1, [], [2, 4, 6, 8, 10]],
    [2, ['2_0'], [2, 4, 6, 8, 10]],
    [5, ['4_0'], [4, 6, 8, 10]],
    [6, [], [8, 10]],
    [7, [], [8, 10]],
    [9, ['8_0'], [8, 10]],
    [10, ['10_0'], [10]],
  ];
  it.each(rows)('at %i', (atRev, keep, left) => {
    const ki = sample();
    const kept = new Set<string>();
    ki.keep(atRev, kept);
    const compacted = new Set<string>();
    ki.compact(atRev, compacted);
    expect([...kept]).toEqual(keep);
    expect([...compacted]).toEqual(keep);
    expect(ki.gens.flatMap((g) => g.revs.filter((_, i) => i % 2 === 0))).toEqual(left);
  });

  it('a key compacted down to one revision answers as before and takes new changes', () => {
    const ki = new TreeIndex().newKey('k');
    ki.put(2, 0);
    ki.put(3, 1);
    ki.compact(3, new Set());
    expect(ki.gens).toEqual([{ created: 2, ver: 2, revs: [3, 1] }]);
    expect([ki.get(2), ki.get(3)]).toEqual([null, { main: 3, sub: 1, created: 2, ver: 2 }]);
    expect(ki.tombstone(4, 0)).toBe(true);
    ki.put(5, 0);
    expect([ki.get(4), ki.get(5)]).toEqual([null, { main: 5, sub: 0, created: 5, ver: 1 }]);
    expect(ki.gens.map((g) => g.revs)).toEqual([[3, 1, 4, 0], [5, 0]]);
  });

  it('a key deleted before the compaction revision leaves the index', () => {
    const t = new TreeIndex();
    const ki = t.getOrCreate('x');
    ki.put(2, 0);
    ki.tombstone(3, 0);
    expect([...t.compact(3)]).toEqual([]);
    expect(t.size).toBe(0);
  });
});

describe('TreeIndex.range spans', () => {
  const t = new TreeIndex();
  for (const k of ['a', 'ab', 'b', 'b\xff', 'c']) t.getOrCreate(k);
  const rows: [string, Buffer, Buffer | undefined, string[]][] = [
    ['single', B('ab'), undefined, ['ab']],
    ['empty end is single', B('b'), Buffer.alloc(0), ['b']],
    ['prefix a', B('a'), B('b'), ['a', 'ab']],
    ['prefix b\\xff → c', B('b\xff'), B('c'), ['b\xff']],
    ['from b to the end', B('b'), Buffer.from([0]), ['b', 'b\xff', 'c']],
    ['missing single', B('zz'), undefined, []],
  ];
  it.each(rows)('%s', (_n, key, end, want) => expect([...t.range(toSpan(key, end))].map((k) => k.key)).toEqual(want));
});
