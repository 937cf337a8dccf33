import { describe, expect, it } from 'vitest';
import type { Op, Req, Resp } from './history.js';
import { checkKey, checkLinearizable, checkRevisions, groupByKeys, observedRevisions, shrink } from './linearizability.js';

let nextId = 0;
function op(client: number, call: number, ret: number, req: Req, resp?: Resp, status: Op['status'] = 'ok'): Op {
  return { id: nextId++, client, call, ret: status === 'unknown' ? Infinity : ret, req, resp: status === 'ok' ? resp : undefined, status };
}
const put = (c: number, t0: number, t1: number, key: string, value: string, revision: number) => op(c, t0, t1, { type: 'put', key, value }, { revision });
const get = (c: number, t0: number, t1: number, key: string, revision: number, kv: { value: string; modRev: number } | null) =>
  op(c, t0, t1, { type: 'get', key }, { revision, kv });
const del = (c: number, t0: number, t1: number, key: string, revision: number, deleted: number) => op(c, t0, t1, { type: 'delete', key }, { revision, deleted });
const cas = (c: number, t0: number, t1: number, key: string, expectModRev: number, value: string, resp?: Resp, status: Op['status'] = 'ok') =>
  op(c, t0, t1, { type: 'txn', key, expectModRev, value }, resp, status);

function both(ops: Op[]) {
  return { lin: checkLinearizable({ ops }), rev: checkRevisions({ ops }) };
}

describe('linearizability checker: good histories', () => {
  it('sequential put/get/delete', () => {
    const r = both([put(0, 0, 1, 'a', 'v1', 2), get(0, 2, 3, 'a', 2, { value: 'v1', modRev: 2 }), del(0, 4, 5, 'a', 3, 1), get(0, 6, 7, 'a', 3, null), del(0, 8, 9, 'a', 3, 0)]);
    expect(r.lin.anomalies).toEqual([]);
    expect(r.rev).toEqual([]);
  });

  it('concurrent reads may see either side of an overlapping write', () => {
    const r = both([
      put(0, 0, 1, 'a', 'v1', 2),
      put(1, 2, 10, 'a', 'v2', 3),
      get(2, 3, 4, 'a', 2, { value: 'v1', modRev: 2 }), // before v2 took effect
      get(3, 5, 6, 'a', 3, { value: 'v2', modRev: 3 }),
      get(2, 7, 8, 'a', 3, { value: 'v2', modRev: 3 }),
    ]);
    expect(r.lin.anomalies).toEqual([]);
    expect(r.rev).toEqual([]);
  });

  it('compare-and-swap on mod_revision: success and failure', () => {
    const r = both([
      cas(0, 0, 1, 'k', 0, 'c1', { revision: 2, succeeded: true }), // create if absent
      cas(1, 2, 3, 'k', 0, 'c2', { revision: 2, succeeded: false, kv: { value: 'c1', modRev: 2 } }),
      cas(1, 4, 5, 'k', 2, 'c3', { revision: 3, succeeded: true }),
    ]);
    expect(r.lin.anomalies).toEqual([]);
    expect(r.rev).toEqual([]);
  });

  it('an unknown put that was seen later is taken as applied, with the revision it was read at', () => {
    const r = both([put(0, 0, 0, 'a', 'lost?', 0), get(1, 5, 6, 'a', 2, { value: 'lost?', modRev: 2 })].map((o, i) => (i === 0 ? { ...o, status: 'unknown' as const, ret: Infinity, resp: undefined } : o)));
    expect(r.lin.anomalies).toEqual([]);
    expect(r.rev).toEqual([]);
  });

  it('an unknown put that nobody saw may never have happened', () => {
    const ops = [put(0, 0, 1, 'a', 'v1', 2), { ...put(1, 2, 0, 'a', 'maybe', 0), status: 'unknown' as const, ret: Infinity, resp: undefined }, get(2, 10, 11, 'a', 2, { value: 'v1', modRev: 2 })];
    const r = both(ops);
    expect(r.lin.anomalies).toEqual([]);
    expect(r.rev).toEqual([]);
  });

  it('an unknown put may take effect long after its invocation', () => {
    const ops = [
      { ...put(1, 0, 0, 'a', 'late', 0), status: 'unknown' as const, ret: Infinity, resp: undefined },
      put(0, 5, 6, 'a', 'v1', 2),
      get(2, 10, 11, 'a', 3, { value: 'late', modRev: 3 }),
    ];
    const r = both(ops);
    expect(r.lin.anomalies).toEqual([]);
    expect(r.rev).toEqual([]);
  });

  it('failed ops and unanswered reads are ignored', () => {
    const ops = [put(0, 0, 1, 'a', 'v1', 2), { ...put(1, 2, 3, 'a', 'no', 0), status: 'failed' as const, resp: undefined }, { ...get(2, 2, 3, 'a', 0, null), status: 'unknown' as const, ret: Infinity, resp: undefined }, get(2, 4, 5, 'a', 2, { value: 'v1', modRev: 2 })];
    const r = both(ops);
    expect(r.lin.anomalies).toEqual([]);
    expect(r.rev).toEqual([]);
  });

  it('many concurrent clients on a few keys stay fast (memoization)', () => {
    // a sequential register history executed by 8 overlapping clients; every op overlaps its neighbours
    const ops: Op[] = [];
    let rev = 1;
    const state = new Map<string, { value: string; modRev: number } | null>();
    for (let i = 0; i < 600; i++) {
      const key = `k${i % 3}`;
      const t = i * 10;
      const c = i % 8;
      if (i % 3 === 0) {
        rev++;
        ops.push(put(c, t, t + 45, key, `v${i}`, rev));
        state.set(key, { value: `v${i}`, modRev: rev });
      } else ops.push(get(c, t, t + 45, key, rev, state.get(key) ?? null));
    }
    const t0 = Date.now();
    const r = both(ops);
    expect(r.lin.anomalies).toEqual([]);
    expect(r.lin.undecided).toBeUndefined();
    expect(r.rev).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe('linearizability checker: bad histories are rejected', () => {
  it('a stale read after a write returned', () => {
    const r = both([put(0, 0, 1, 'a', 'v1', 2), put(0, 2, 3, 'a', 'v2', 3), get(1, 4, 5, 'a', 2, { value: 'v1', modRev: 2 })]);
    expect(r.lin.ok).toBe(false);
    expect(r.lin.anomalies[0]).toMatch(/key a: not linearizable/);
    expect(r.rev.join('\n')).toMatch(/went back in real time/);
  });

  it('a lost acknowledged write (read does not see it)', () => {
    const r = both([put(0, 0, 1, 'a', 'v1', 2), get(1, 4, 5, 'a', 2, null)]);
    expect(r.lin.ok).toBe(false);
    expect(r.rev.join('\n')).toMatch(/found a absent, but it was written at 2/);
  });

  it('a read of a value never written', () => {
    const r = both([put(0, 0, 1, 'a', 'v1', 2), get(1, 4, 5, 'a', 2, { value: 'ghost', modRev: 2 })]);
    expect(r.lin.ok).toBe(false);
    expect(r.rev.length).toBeGreaterThan(0);
  });

  it('reads that flip back (v2 then v1) between concurrent writes', () => {
    const r = both([
      put(0, 0, 1, 'a', 'v1', 2),
      put(1, 2, 20, 'a', 'v2', 3),
      get(2, 3, 4, 'a', 3, { value: 'v2', modRev: 3 }),
      get(2, 5, 6, 'a', 2, { value: 'v1', modRev: 2 }),
    ]);
    expect(r.lin.ok).toBe(false);
    expect(r.rev.length).toBeGreaterThan(0);
  });

  it('two compare-and-swaps both succeeding on the same mod_revision', () => {
    const r = both([
      put(0, 0, 1, 'a', 'v1', 2),
      cas(1, 2, 5, 'a', 2, 'x', { revision: 3, succeeded: true }),
      cas(2, 2, 5, 'a', 2, 'y', { revision: 4, succeeded: true }),
    ]);
    expect(r.lin.ok).toBe(false);
  });

  it('a failed compare-and-swap that reports the state it compared equal to', () => {
    const r = both([put(0, 0, 1, 'a', 'v1', 2), cas(1, 2, 3, 'a', 2, 'x', { revision: 2, succeeded: false, kv: { value: 'v1', modRev: 2 } })]);
    expect(r.lin.ok).toBe(false);
  });

  it('a delete that deleted a key that was absent', () => {
    const r = both([del(0, 0, 1, 'a', 2, 1)]);
    expect(r.lin.ok).toBe(false);
  });

  it('two acknowledged writes at one revision', () => {
    const r = both([put(0, 0, 1, 'a', 'v1', 2), put(1, 0, 1, 'b', 'w1', 2)]);
    expect(r.lin.ok).toBe(true); // per key, each alone is fine ...
    expect(r.rev.join('\n')).toMatch(/two acknowledged writes at revision 2/); // ... the revisions tell
  });

  it('an unknown delete cannot explain a read that brings the value back', () => {
    const ops = [
      put(0, 0, 1, 'a', 'v1', 2),
      { ...del(1, 2, 0, 'a', 0, 0), status: 'unknown' as const, ret: Infinity, resp: undefined },
      get(2, 5, 6, 'a', 3, null),
      get(2, 7, 8, 'a', 3, { value: 'v1', modRev: 2 }),
    ];
    const r = both(ops);
    expect(r.lin.ok).toBe(false);
  });

  it('shrinks a failing history to the reads that show it', () => {
    const ops = [
      put(0, 0, 1, 'a', 'v1', 2),
      get(1, 1.5, 1.8, 'a', 2, { value: 'v1', modRev: 2 }),
      put(0, 2, 3, 'a', 'v2', 3),
      get(1, 3.5, 3.8, 'a', 3, { value: 'v2', modRev: 3 }),
      get(1, 4, 5, 'a', 2, { value: 'v1', modRev: 2 }), // stale
      get(2, 6, 7, 'a', 3, { value: 'v2', modRev: 3 }),
    ];
    const small = shrink(ops, observedRevisions(ops));
    expect(small.map((o) => o.req.type)).toEqual(['put', 'put', 'get']);
    expect(small[2]!.resp!.kv!.value).toBe('v1');
    expect(checkLinearizable({ ops }).anomalies[0]).toMatch(/smaller failing sub-history \(3 ops/);
  });
});

describe('Kubernetes-like ops: guarded deletes and ranges with a limit', () => {
  const casDel = (c: number, t0: number, t1: number, key: string, expectModRev: number, resp: Resp) => op(c, t0, t1, { type: 'txn', key, expectModRev, value: `del${nextId}`, then: 'delete' }, resp);
  const range = (c: number, t0: number, t1: number, limit: number, atRevision: number, revision: number, kvs: Array<{ key: string; value: string; modRev: number }>, more: boolean) =>
    op(c, t0, t1, { type: 'range', key: 'p/', end: 'p0', limit, atRevision }, { revision, kvs, more });

  it('a guarded delete on the mod_revision last seen removes the key; a range at an older revision sees it', () => {
    const r = both([
      put(0, 0, 1, 'p/a', 'v1', 2),
      put(0, 2, 3, 'p/b', 'v2', 3),
      casDel(1, 4, 5, 'p/a', 2, { revision: 4, succeeded: true }),
      get(1, 6, 7, 'p/a', 4, null),
      range(2, 8, 9, 10, 0, 4, [{ key: 'p/b', value: 'v2', modRev: 3 }], false),
      range(2, 10, 11, 1, 3, 4, [{ key: 'p/a', value: 'v1', modRev: 2 }], true), // page at revision 3, limit 1
    ]);
    expect(r.lin.anomalies).toEqual([]);
    expect(r.rev).toEqual([]);
  });

  it('a guarded delete that succeeded on a stale mod_revision is caught', () => {
    const r = both([put(0, 0, 1, 'p/a', 'v1', 2), put(0, 2, 3, 'p/a', 'v2', 3), casDel(1, 4, 5, 'p/a', 2, { revision: 4, succeeded: true })]);
    expect(r.lin.ok).toBe(false);
  });

  it('a range that misses a key written before it (below the limit cut) is caught', () => {
    const r = both([put(0, 0, 1, 'p/a', 'v1', 2), put(0, 2, 3, 'p/b', 'v2', 3), range(1, 4, 5, 10, 0, 3, [{ key: 'p/b', value: 'v2', modRev: 3 }], false)]);
    expect(r.rev.join('\n')).toMatch(/found p\/a absent/);
  });

  it('a range that returns a stale value of a key is caught; keys past the limit cut are not required', () => {
    const stale = both([put(0, 0, 1, 'p/a', 'v1', 2), put(0, 2, 3, 'p/a', 'v2', 3), range(1, 4, 5, 10, 0, 3, [{ key: 'p/a', value: 'v1', modRev: 2 }], false)]);
    expect(stale.rev.join('\n')).toMatch(/saw p\/a=/);
    const cut = both([put(0, 0, 1, 'p/a', 'v1', 2), put(0, 2, 3, 'p/b', 'v2', 3), range(1, 4, 5, 1, 0, 3, [{ key: 'p/a', value: 'v1', modRev: 2 }], true)]);
    expect(cut.rev).toEqual([]);
  });
});

// multi-key txns: if every key's mod_revision is as expected, put every key, else get every key
const mtxn = (c: number, t0: number, t1: number, keys: string[], expect: number[], values: string[], resp?: Resp, status: Op['status'] = 'ok') =>
  op(c, t0, t1, { type: 'mtxn', keys, expectModRevs: expect, values }, resp, status);

describe('multi-key txns: the keys they join are checked together', () => {
  it('groups keys joined by a multi-key txn (transitively); the others stay alone', () => {
    const ops = [mtxn(0, 0, 1, ['a', 'b'], [0, 0], ['x', 'y'], { revision: 2, succeeded: true }), mtxn(0, 2, 3, ['b', 'c'], [2, 0], ['y2', 'z'], { revision: 3, succeeded: true }), put(1, 0, 1, 'd', 'w', 4)];
    expect(groupByKeys(ops).map((g) => [g.keys, g.ops.length])).toEqual([[['a', 'b', 'c'], 2], [['d'], 1]]);
  });

  it('good: a swap of two keys, a failed one that shows both, reads of both after', () => {
    const r = both([
      put(0, 0, 1, 'a', 'a1', 2),
      mtxn(1, 2, 3, ['a', 'b'], [2, 0], ['a2', 'b2'], { revision: 3, succeeded: true }),
      mtxn(0, 4, 5, ['a', 'b'], [2, 0], ['a3', 'b3'], { revision: 3, succeeded: false, mkvs: [{ value: 'a2', modRev: 3 }, { value: 'b2', modRev: 3 }] }),
      get(0, 6, 7, 'a', 3, { value: 'a2', modRev: 3 }),
      get(1, 6, 7, 'b', 3, { value: 'b2', modRev: 3 }),
    ]);
    expect(r.lin.anomalies).toEqual([]);
    expect(r.rev).toEqual([]);
  });

  it('good: an unknown multi-key txn, seen on one key, and another never seen', () => {
    const r = both([
      mtxn(0, 0, 0, ['a', 'b'], [0, 0], ['a1', 'b1'], undefined, 'unknown'),
      mtxn(1, 1, 0, ['a', 'c'], [7, 0], ['a9', 'c9'], undefined, 'unknown'),
      get(2, 5, 6, 'a', 2, { value: 'a1', modRev: 2 }),
      get(2, 7, 8, 'b', 2, { value: 'b1', modRev: 2 }),
      get(2, 9, 10, 'c', 2, null),
    ]);
    expect(r.lin.anomalies).toEqual([]);
    expect(r.rev).toEqual([]);
  });

  it('bad: a txn seen applied on one key and then not yet applied on the other (not atomic)', () => {
    // each key alone is linearizable (b's half of the txn could come after the read of b); together not
    const ops = [
      mtxn(0, 0, 20, ['a', 'b'], [0, 0], ['a1', 'b1'], { revision: 2, succeeded: true }),
      get(1, 1, 2, 'a', 2, { value: 'a1', modRev: 2 }),
      get(1, 3, 4, 'b', 2, null),
    ];
    const perKey = ['a', 'b'].map((k) => checkKey(ops.filter((o) => o.req.type !== 'mtxn' ? o.req.key === k : true).map((o) => (o.req.type === 'mtxn' ? { ...o, req: { type: 'put' as const, key: k, value: `${k}1` } } : o)), new Map()).ok);
    expect(perKey).toEqual([true, true]);
    const r = both(ops);
    expect(r.lin.ok).toBe(false);
    expect(r.lin.anomalies[0]).toMatch(/keys a\+b: not linearizable/);
    expect(r.rev.join('\n')).toMatch(/found b absent/);
  });

  it('bad: a txn that succeeded though one compare could not hold', () => {
    const r = both([
      put(0, 0, 1, 'a', 'a1', 2),
      put(0, 2, 3, 'b', 'b1', 3),
      mtxn(1, 4, 5, ['a', 'b'], [2, 0], ['a2', 'b2'], { revision: 4, succeeded: true }),
    ]);
    expect(r.lin.ok).toBe(false);
  });

  it('bad: a failed txn whose reads show a stale value of one key', () => {
    const r = both([
      put(0, 0, 1, 'a', 'a1', 2),
      put(0, 2, 3, 'b', 'b1', 3),
      put(0, 4, 5, 'b', 'b2', 4),
      mtxn(1, 6, 7, ['a', 'b'], [0, 0], ['a3', 'b3'], { revision: 4, succeeded: false, mkvs: [{ value: 'a1', modRev: 2 }, { value: 'b1', modRev: 3 }] }),
    ]);
    expect(r.lin.ok).toBe(false);
    expect(r.rev.join('\n')).toMatch(/saw b=/);
  });
});

describe('the search is iterative', () => {
  it('decides a long sequential history (20000 ops) without overflowing the stack', () => {
    const ops: Op[] = [];
    for (let i = 0; i < 10_000; i++) {
      ops.push(put(0, 4 * i, 4 * i + 1, 'a', `v${i}`, i + 2));
      ops.push(get(1, 4 * i + 2, 4 * i + 3, 'a', i + 2, { value: `v${i}`, modRev: i + 2 }));
    }
    expect(checkLinearizable({ ops }).ok).toBe(true);
    ops[ops.length - 1]!.resp!.kv = { value: 'v0', modRev: 2 };
    const r = checkKey(ops, new Map());
    expect(r.ok).toBe(false);
    expect(r.prefix!.length).toBe(ops.length - 1);
  });
});
