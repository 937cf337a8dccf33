// etcd 3.4 semantics of single operations, one table row per rule.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../../src/backend/index.js';
import { MvccError, type KvStore, type LeaseIndex, type TxnRequest } from '../../../src/mvcc/index.js';
import { ALL, B, openStore, plain, tempDir } from './helpers.js';

let kv: KvStore;
let backend: Backend;
let cleanup: () => Promise<void>;
let idx = 0;
const attached: string[] = [];
const leases: LeaseIndex = {
  exists: (l) => l === 7n || l === 8n,
  attach: (l, k) => attached.push(`+${l}:${k.toString()}`),
  detach: (l, k) => attached.push(`-${l}:${k.toString()}`),
};

beforeEach(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  ({ kv, backend } = await openStore(t.dir, { leases }));
  attached.length = 0;
});
afterEach(async () => {
  await backend.close();
  await cleanup();
});

const put = (k: string, v: string, lease = 0n) => kv.put(++idx, { key: B(k), value: B(v), lease });
const code = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof MvccError) return e.code;
    throw e;
  }
};

describe('revisions', () => {
  it('starts at revision 1; each put is a new main revision; delete resets the version', () => {
    expect(kv.rev()).toBe(1);
    expect(put('foo', 'a').revision).toBe(2);
    expect(put('foo', 'b').revision).toBe(3);
    expect(kv.deleteRange(++idx, { key: B('foo') })).toEqual({ deleted: 1, prevKvs: [], revision: 4 });
    put('foo', 'c');
    expect(plain(kv.range(B('foo'), undefined).kvs)).toEqual([{ key: 'foo', value: 'c', c: 5, m: 5, v: 1, l: 0n }]);
    expect(plain(kv.range(B('foo'), undefined, { revision: 3 }).kvs)).toEqual([{ key: 'foo', value: 'b', c: 2, m: 3, v: 2, l: 0n }]);
    expect(kv.range(B('foo'), undefined, { revision: 4 }).kvs).toEqual([]);
  });

  it('deleting nothing does not advance the revision; a txn takes one revision with sub revisions', () => {
    put('a', '1');
    expect(kv.deleteRange(++idx, { key: B('zz') }).revision).toBe(2);
    expect(kv.rev()).toBe(2);
    const r = kv.txn(++idx, { compare: [], success: [{ put: { key: B('x'), value: B('1') } }, { put: { key: B('y'), value: B('2') } }, { deleteRange: { key: B('a') } }], failure: [] });
    expect(r.revision).toBe(3);
    expect(kv.range(B('x'), B('z')).kvs.map((k) => k.modRevision)).toEqual([3, 3]);
    expect(backend.consistentIndex()).toBe(idx);
  });
});

describe('range', () => {
  beforeEach(() => {
    put('a', '3');
    put('b', '1');
    put('b', '2');
    put('c', '0');
  });
  const rows: [string, Buffer, Buffer | undefined, Parameters<KvStore['range']>[2], string[], number, boolean][] = [
    ['single key', B('b'), undefined, {}, ['b'], 1, false],
    ['[a, c)', B('a'), B('c'), {}, ['a', 'b'], 2, false],
    ['\\0 end = all keys >= key', B('b'), ALL, {}, ['b', 'c'], 2, false],
    ['\\0 key and end = everything', ALL, ALL, {}, ['a', 'b', 'c'], 3, false],
    ['limit keeps count, sets more', ALL, ALL, { limit: 2 }, ['a', 'b'], 3, true],
    ['limit equal to count: no more', ALL, ALL, { limit: 3 }, ['a', 'b', 'c'], 3, false],
    ['descend by key', ALL, ALL, { sortOrder: 'DESCEND' }, ['c', 'b', 'a'], 3, false],
    ['target without order sorts ascending', ALL, ALL, { sortTarget: 'VALUE' }, ['c', 'b', 'a'], 3, false],
    ['by version descending', ALL, ALL, { sortTarget: 'VERSION', sortOrder: 'DESCEND' }, ['b', 'a', 'c'], 3, false],
    ['by mod descending with limit', ALL, ALL, { sortTarget: 'MOD', sortOrder: 'DESCEND', limit: 1 }, ['c'], 3, true],
    // etcd 3.4: with no sort_order only limit+1 keys (in key order) are fetched, then sorted
    ['target without order and a limit sorts the limit+1 keys', ALL, ALL, { sortTarget: 'VALUE', limit: 1 }, ['b'], 3, true],
    ['an unknown sort order leaves key order', ALL, ALL, { sortOrder: 3 as unknown as 'NONE', limit: 1 }, ['a'], 3, true],
    ['min mod filter does not change count', ALL, ALL, { minModRevision: 4 }, ['b', 'c'], 3, false],
    ['max create filter', ALL, ALL, { maxCreateRevision: 2 }, ['a'], 3, false],
    ['filters then limit decide more', ALL, ALL, { minModRevision: 4, limit: 1 }, ['b'], 3, true],
    ['count only', ALL, ALL, { countOnly: true }, [], 3, false],
    ['old revision', ALL, ALL, { revision: 3 }, ['a', 'b'], 2, false],
    ['end before key is empty', B('c'), B('a'), {}, [], 0, false],
  ];
  it.each(rows)('%s', (_n, key, end, opts, keys, count, more) => {
    const r = kv.range(key, end, opts);
    expect(r.kvs.map((k) => k.key.toString())).toEqual(keys);
    expect([r.count, r.more, r.revision]).toEqual([count, more, 5]);
  });

  it('keys only drops values; future and compacted revisions are errors', async () => {
    expect(kv.range(B('a'), undefined, { keysOnly: true }).kvs[0]!.value.length).toBe(0);
    expect(code(() => kv.range(B('a'), undefined, { revision: 6 }))).toBe('future-rev');
    kv.compact(++idx, 3);
    expect(code(() => kv.range(B('a'), undefined, { revision: 2 }))).toBe('compacted');
    expect(kv.range(B('b'), undefined, { revision: 3 }).kvs[0]!.value.toString()).toBe('1');
    expect(code(() => kv.compact(++idx, 3))).toBe('compacted');
    expect(code(() => kv.compact(++idx, 9))).toBe('future-rev');
    expect(backend.consistentIndex()).toBe(idx);
  });
});

describe('put options and leases', () => {
  it('prevKv, ignoreValue, ignoreLease, lease attach/detach', () => {
    expect(code(() => kv.put(++idx, { key: B('k'), value: B(''), ignoreValue: true }))).toBe('key-not-found');
    expect(code(() => put('k', 'v', 9n))).toBe('lease-not-found');
    // etcd's plain put looks the lease up first: a missing key with ignoreValue and an unknown lease
    expect(code(() => kv.put(++idx, { key: B('k'), value: B(''), lease: 9n, ignoreValue: true }))).toBe('lease-not-found');
    expect(kv.rev()).toBe(1);
    put('k', 'v', 7n);
    const r = kv.put(++idx, { key: B('k'), value: B(''), lease: 8n, ignoreValue: true, prevKv: true });
    expect(r.prevKv?.value.toString()).toBe('v');
    expect(plain(kv.range(B('k'), undefined).kvs)).toEqual([{ key: 'k', value: 'v', c: 2, m: 3, v: 2, l: 8n }]);
    kv.put(++idx, { key: B('k'), value: B('w'), ignoreLease: true });
    expect(kv.range(B('k'), undefined).kvs[0]!.lease).toBe(8n);
    kv.deleteRange(++idx, { key: B('k') });
    expect(attached).toEqual(['+7:k', '-7:k', '+8:k', '-8:k', '+8:k', '-8:k']);
  });
});

describe('txn', () => {
  beforeEach(() => {
    put('a', 'x');
    put('a', 'y');
  });
  const t = (compare: TxnRequest['compare']): boolean => kv.txn(++idx, { compare, success: [], failure: [] }).succeeded;
  const rows: [string, TxnRequest['compare'], boolean][] = [
    ['version equal', [{ key: B('a'), target: 'VERSION', result: 'EQUAL', version: 2 }], true],
    ['mod greater', [{ key: B('a'), target: 'MOD', result: 'GREATER', modRevision: 2 }], true],
    ['create less', [{ key: B('a'), target: 'CREATE', result: 'LESS', createRevision: 2 }], false],
    ['value not equal', [{ key: B('a'), target: 'VALUE', result: 'NOT_EQUAL', value: B('x') }], true],
    ['missing key compares as zero', [{ key: B('m'), target: 'MOD', result: 'EQUAL', modRevision: 0 }], true],
    ['missing key VALUE always fails', [{ key: B('m'), target: 'VALUE', result: 'NOT_EQUAL', value: B('x') }], false],
    ['lease equal 0', [{ key: B('a'), target: 'LEASE', result: 'EQUAL', lease: 0n }], true],
    ['range compare: every key', [{ key: B('a'), rangeEnd: ALL, target: 'VERSION', result: 'GREATER', version: 1 }], true],
    ['unknown result holds (etcd compareKV)', [{ key: B('a'), target: 'VERSION', result: 9 as unknown as 'EQUAL', version: 99 }], true],
    ['unknown target compares as 0', [{ key: B('a'), target: 7 as unknown as 'VERSION', result: 'EQUAL', version: 99 }], true],
    ['unknown target is not greater', [{ key: B('a'), target: 7 as unknown as 'VERSION', result: 'GREATER', version: 0 }], false],
    ['conjunction', [{ key: B('a'), target: 'VERSION', result: 'EQUAL', version: 2 }, { key: B('a'), target: 'VERSION', result: 'EQUAL', version: 3 }], false],
  ];
  it.each(rows)('%s', (_n, compare, want) => expect(t(compare)).toBe(want));

  it('nested txn compares see the state before the outer txn; reads see earlier writes', () => {
    const r = kv.txn(++idx, {
      compare: [],
      success: [
        { put: { key: B('a'), value: B('z') } },
        { range: { key: B('a') } },
        { txn: { compare: [{ key: B('a'), target: 'VALUE', result: 'EQUAL', value: B('y') }], success: [{ put: { key: B('n'), value: B('1') } }], failure: [] } },
      ],
      failure: [],
    });
    expect(r.revision).toBe(4);
    const rr = r.responses[1] as { range: { kvs: { value: Buffer }[]; revision: number } };
    expect([rr.range.kvs[0]!.value.toString(), rr.range.revision]).toEqual(['z', 4]);
    expect((r.responses[2] as { txn: { succeeded: boolean } }).txn.succeeded).toBe(true);
    expect(kv.range(B('n'), undefined).kvs[0]!.modRevision).toBe(4);
  });

  it('a failing check leaves no partial txn and still records the raft index', () => {
    const before = kv.rev();
    expect(code(() => kv.txn(++idx, { compare: [], success: [{ put: { key: B('b'), value: B('1') } }, { put: { key: B('q'), value: B(''), ignoreValue: true } }], failure: [] }))).toBe('key-not-found');
    expect([kv.rev(), kv.range(B('b'), undefined).count, backend.consistentIndex()]).toEqual([before, 0, idx]);
    expect(code(() => kv.txn(null, { compare: [], success: [{ range: { key: B('a'), revision: 99 } }], failure: [] }))).toBe('future-rev');
    // etcd's checkRequestRange: below the first revision (-1 before any compaction) is compacted
    expect(code(() => kv.txn(null, { compare: [], success: [{ range: { key: B('a'), revision: -2 } }], failure: [] }))).toBe('compacted');
    expect(kv.txn(null, { compare: [], success: [{ range: { key: B('a'), revision: -1 } }], failure: [] }).succeeded).toBe(true);
    kv.compact(++idx, 2);
    expect(code(() => kv.txn(null, { compare: [], success: [{ range: { key: B('a'), revision: -1 } }], failure: [] }))).toBe('compacted');
    // etcd checks every put of the chosen ops before any range: the later put's error wins
    const rangeThenPut: TxnRequest = { compare: [], success: [{ range: { key: B('a'), revision: 1 } }, { txn: { compare: [], success: [{ put: { key: B('q'), value: B(''), ignoreLease: true } }], failure: [] } }], failure: [] };
    expect(code(() => kv.txn(++idx, rangeThenPut))).toBe('key-not-found');
  });

  it('a put with ignore_lease/ignore_value after a delete of its key in the same txn refuses the whole txn', () => {
    // the from-key delete ("\0") passes etcd's duplicate-key check; etcd 3.4 then panics mid-txn
    const before = kv.rev();
    const fromKey = { key: B('a'), rangeEnd: Buffer.from([0]) };
    for (const put of [{ key: B('a'), value: B(''), ignoreLease: true }, { key: B('a'), value: B(''), ignoreValue: true }]) {
      const nested: TxnRequest = { compare: [], success: [{ deleteRange: fromKey }, { txn: { compare: [], success: [{ put }], failure: [] } }], failure: [] };
      expect(code(() => kv.txn(++idx, nested))).toBe('key-not-found');
      expect([kv.rev(), kv.range(B('a'), undefined).count]).toEqual([before, 1]);
    }
    // a delete that does not cover the key leaves it live: the txn runs
    const other: TxnRequest = { compare: [], success: [{ deleteRange: { key: B('b'), rangeEnd: Buffer.from([0]) } }, { put: { key: B('a'), value: B('w'), ignoreLease: true } }], failure: [] };
    expect(kv.txn(++idx, other).revision).toBe(before + 1);
    expect(kv.range(B('a'), undefined).kvs[0]!.value.toString()).toBe('w');
  });

  it('read-only txn without a raft index; writes need one', () => {
    expect(kv.txn(null, { compare: [], success: [{ range: { key: B('a') } }], failure: [] }).revision).toBe(3);
    expect(() => kv.txn(null, { compare: [], success: [{ put: { key: B('a'), value: B('') } }], failure: [] })).toThrow(/raft index/);
  });
});

describe('live values (the value arena)', () => {
  it('stay right through overwrites that make the arena compact, and the arena does not grow with them', async () => {
    const { TreeIndex } = await import('../../../src/mvcc/key-index.js');
    const index = (kv as unknown as { core: { index: InstanceType<typeof TreeIndex> } }).core.index;
    const value = (k: number, i: number): string => `${k}:${i}:`.padEnd(1000, String.fromCharCode(97 + ((k + i) % 26)));
    let held: Buffer | undefined;
    for (let i = 0; i < 30; i++) {
      // a round fills about a slab; its pin is never overwritten, so no slab ever empties on its own
      for (let k = 0; k < 1000; k++) put(`k${String(k).padStart(3, '0')}`, value(k, i));
      put(`pin${String(i).padStart(2, '0')}`, value(-1, i));
      if (i === 0) held = kv.range(B('k000'), undefined).kvs[0]!.value;
      await kv.settle();
    }
    const kvs = kv.range(B('k'), B('l')).kvs;
    expect(kvs.length).toBe(1000);
    kvs.forEach((x, k) => expect(x.value.toString('latin1')).toBe(value(k, 29)));
    const pins = kv.range(B('pin'), B('pio')).kvs;
    expect(pins.map((x) => x.value.toString('latin1'))).toEqual(Array.from({ length: 30 }, (_, i) => value(-1, i)));
    expect(held!.toString('latin1')).toBe(value(0, 0)); // a value read earlier is unchanged by the moves
    const u = index.values.usage();
    expect(u.liveBytes).toBe(1030 * 1000);
    expect(u.slabBytes).toBeLessThan(20 * 2 ** 20); // 30 slabs written, each kept alive by its pin until compacted
  });
});
