import { describe, expect, it } from 'vitest';
import type { History, Op, WatchEvent, WatchLog, WatchResponse } from './history.js';
import { checkWatches } from './watch-checker.js';

// a small true history: a@2=v1, b@3=w1, a@4=v2, txn-like pair at 5 (c and d), delete a@6
const ops: Op[] = [
  { id: 0, client: 0, call: 0, ret: 1, status: 'ok', req: { type: 'put', key: 'a', value: 'v1' }, resp: { revision: 2 } },
  { id: 1, client: 0, call: 2, ret: 3, status: 'ok', req: { type: 'put', key: 'b', value: 'w1' }, resp: { revision: 3 } },
  { id: 2, client: 1, call: 4, ret: 5, status: 'ok', req: { type: 'put', key: 'a', value: 'v2' }, resp: { revision: 4 } },
  { id: 3, client: 1, call: 8, ret: 9, status: 'ok', req: { type: 'delete', key: 'a' }, resp: { revision: 6, deleted: 1 } },
];
const P = (key: string, value: string, modRev: number, version: number, createRev: number, prev?: [string, number, number]): WatchEvent => ({
  type: 'PUT', key, value, modRev, version, createRev,
  ...(prev ? { prevKv: { value: prev[0], modRev: prev[1], version: prev[2], createRev } } : {}),
});
const D = (key: string, modRev: number, prev?: [string, number, number]): WatchEvent => ({
  type: 'DELETE', key, value: '', modRev, version: 0, createRev: 0,
  ...(prev ? { prevKv: { value: prev[0], modRev: prev[1], version: prev[2], createRev: 2 } } : {}),
});
const R = (revision: number, ...events: WatchEvent[]): WatchResponse => ({ revision, events, at: 0 });

function goodResponses(): WatchResponse[] {
  return [
    R(2, P('a', 'v1', 2, 1, 2)),
    R(3, P('b', 'w1', 3, 1, 3)),
    R(4, P('a', 'v2', 4, 2, 2, ['v1', 2, 1])),
    R(5, P('c', 'x', 5, 1, 5), P('d', 'y', 5, 1, 5)),
    R(6, D('a', 6, ['v2', 4, 2])),
  ];
}
function watch(responses: WatchResponse[], over: Partial<WatchLog> = {}): WatchLog {
  return { id: 'w0', member: 'm0', prefix: '', startRevision: 1, prevKv: true, responses, complete: true, ...over };
}
const check = (...ws: WatchLog[]) => checkWatches({ ops, watches: ws } as History);

describe('watch checker: good', () => {
  it('accepts a faithful watch and two that agree', () => {
    expect(check(watch(goodResponses()), watch(goodResponses(), { id: 'w1', member: 'm1' }))).toEqual([]);
  });
  it('accepts a watch that starts later, and one cancelled by compaction with nothing after', () => {
    const late = watch(goodResponses().slice(2), { id: 'late', startRevision: 4 });
    const comp = watch([...goodResponses().slice(0, 2), { revision: 6, events: [], compactRevision: 5, canceled: true, at: 0 }], { id: 'c', complete: false });
    expect(check(watch(goodResponses()), late, comp)).toEqual([]);
  });
  it('accepts a watch on a prefix', () => {
    const w = watch(goodResponses().map((r) => ({ ...r, events: r.events.filter((e) => e.key === 'a') })).filter((r) => r.events.length), { prefix: 'a' });
    expect(check(watch(goodResponses()), w)).toEqual([]);
  });
});

describe('watch checker: bad histories are rejected', () => {
  it('out of order', () => {
    const r = goodResponses();
    [r[1], r[2]] = [r[2]!, r[1]!];
    expect(check(watch(r)).join('\n')).toMatch(/not ordered/);
  });
  it('duplicate event', () => {
    const r = goodResponses();
    r.splice(2, 0, R(3, P('b', 'w1', 3, 1, 3)));
    expect(check(watch(r)).join('\n')).toMatch(/not (unique|atomic)/);
  });
  it('a txn split over two responses', () => {
    const r = goodResponses();
    r.splice(3, 1, R(5, P('c', 'x', 5, 1, 5)), R(5, P('d', 'y', 5, 1, 5)));
    expect(check(watch(r)).join('\n')).toMatch(/not atomic/);
  });
  it('a gap (missing revision) without compaction', () => {
    const r = goodResponses();
    r.splice(1, 1);
    const out = check(watch(r), watch(goodResponses(), { id: 'w1' })).join('\n');
    expect(out).toMatch(/not reliable — missing PUT b="w1" at revision 3/);
  });
  it('half a txn lost (seen whole by another watch)', () => {
    const r = goodResponses();
    r[3] = R(5, P('c', 'x', 5, 1, 5));
    expect(check(watch(r, { complete: false }), watch(goodResponses(), { id: 'w1' })).join('\n')).toMatch(/missing PUT d/);
  });
  it('wrong prev_kv, and a missing one', () => {
    const r = goodResponses();
    r[2] = R(4, P('a', 'v2', 4, 2, 2, ['v0', 2, 1]));
    expect(check(watch(r)).join('\n')).toMatch(/wrong prev_kv/);
    const r2 = goodResponses();
    r2[4] = R(6, D('a', 6));
    expect(check(watch(r2)).join('\n')).toMatch(/prev_kv missing/);
    // ... unless a compaction at or above the event's revision removed the previous version
    expect(checkWatches({ ops, watches: [watch(r2)], compactions: [6] })).toEqual([]);
    expect(checkWatches({ ops, watches: [watch(r2)], compactions: [5] }).join('\n')).toMatch(/prev_kv missing/);
  });
  it('a wrong version / create flag', () => {
    const r = goodResponses();
    r[2] = R(4, P('a', 'v2', 4, 1, 4, ['v1', 2, 1]));
    expect(check(watch(r)).join('\n')).toMatch(/claims to create/);
  });
  it('an acknowledged write missing from a watch that stayed up (at the end)', () => {
    const r = goodResponses().slice(0, 4);
    expect(check(watch(r)).join('\n')).toMatch(/acknowledged write missing .* op #3 delete a at revision 6/);
  });
  it('an event at another revision than its write was acknowledged with, and watches that disagree', () => {
    const r = goodResponses();
    r[1] = R(3, P('b', 'other', 3, 1, 3));
    const out = check(watch(r)).join('\n');
    expect(out).toMatch(/disagreement at revision 3 key b/);
  });
  it('an event outside the watched prefix or before the start', () => {
    expect(check(watch(goodResponses(), { prefix: 'a' })).join('\n')).toMatch(/outside prefix/);
    expect(check(watch(goodResponses(), { startRevision: 3 })).join('\n')).toMatch(/before start revision 3/);
  });
});

describe('watch checker: a tombstone at the compacted revision', () => {
  // resumed at revision 6, where a was deleted; a compaction at 6 drops that tombstone (as in etcd)
  const resumed = (compactions: number[]) => checkWatches({ ops, watches: [watch([], { startRevision: 6 })], compactions } as History);
  it('may be missing from a watch that starts there, once a compaction at or above it was asked for', () => {
    expect(resumed([6])).toEqual([]);
  });
  it('must be there without that compaction', () => {
    expect(resumed([5]).join('\n')).toMatch(/acknowledged write missing .* delete a at revision 6/);
  });
});

describe('watch checker: multi-key txns', () => {
  // the txn at 5 is an acknowledged multi-key txn (put c=x, d=y)
  const mops: Op[] = [...ops, { id: 9, client: 2, call: 6, ret: 7, status: 'ok', req: { type: 'mtxn', keys: ['c', 'd'], expectModRevs: [0, 0], values: ['x', 'y'] }, resp: { revision: 5, succeeded: true } }];
  const mcheck = (...ws: WatchLog[]) => checkWatches({ ops: mops, watches: ws } as History);
  it('accepts every key of the txn in one response', () => {
    expect(mcheck(watch(goodResponses()))).toEqual([]);
  });
  it('flags one of its keys missing from a watch that stayed up, and a value the txn did not write', () => {
    const r = goodResponses();
    r[3] = R(5, P('c', 'x', 5, 1, 5));
    expect(mcheck(watch(r)).join('\n')).toMatch(/acknowledged write missing .* op #9 mtxn d at revision 5/);
    const r2 = goodResponses();
    r2[3] = R(5, P('c', 'x', 5, 1, 5), P('d', 'z', 5, 1, 5));
    expect(mcheck(watch(r2)).join('\n')).toMatch(/disagreement at revision 5 key d/);
  });
});

describe('watch checker: filters', () => {
  const only = (type: 'PUT' | 'DELETE') => goodResponses().map((r) => ({ ...r, events: r.events.filter((e) => e.type === type) })).filter((r) => r.events.length);
  it('a NODELETE watch without the deletes and a NOPUT watch with only them are complete', () => {
    expect(check(watch(goodResponses()), watch(only('PUT'), { id: 'nd', filters: ['NODELETE'] }), watch(only('DELETE'), { id: 'np', filters: ['NOPUT'] }))).toEqual([]);
  });
  it('an event of a filtered type is flagged', () => {
    expect(check(watch(goodResponses(), { filters: ['NODELETE'] })).join('\n')).toMatch(/filter — DELETE a="" mod=6 .* NODELETE/);
    expect(check(watch(goodResponses(), { filters: ['NOPUT'] })).join('\n')).toMatch(/filter — PUT .* NOPUT/);
  });
  it('a NODELETE watch still owes the puts', () => {
    const r = only('PUT').filter((x) => x.revision !== 3);
    expect(check(watch(goodResponses()), watch(r, { id: 'nd', filters: ['NODELETE'] })).join('\n')).toMatch(/watch nd .*missing PUT b="w1" at revision 3/);
  });
});

describe('watch checker: progress notifications (bookmarkable)', () => {
  const PN = (revision: number): WatchResponse => ({ revision, events: [], at: 0, progress: true });
  it('accepts notifications between events, at or above what was delivered', () => {
    const r = goodResponses();
    r.splice(2, 0, PN(3), PN(3));
    r.push(PN(6), PN(9));
    expect(check(watch(r))).toEqual([]);
  });
  it('a notification that goes back, or is below an event already delivered', () => {
    const r = goodResponses();
    r.splice(3, 0, PN(4), PN(3));
    expect(check(watch(r)).join('\n')).toMatch(/progress notification went back: revision 3/);
    const r2 = goodResponses();
    r2.splice(3, 0, PN(2));
    expect(check(watch(r2)).join('\n')).toMatch(/progress notification at revision 2 .* after an event at 4/);
  });
  it('an event delivered after a notification at or above its revision', () => {
    const r = goodResponses();
    r.splice(2, 0, PN(4)); // a@4 comes after it
    expect(check(watch(r)).join('\n')).toMatch(/not bookmarkable — PUT a="v2" mod=4 .* after a progress notification at revision 4/);
  });
  it('a notification past an event that never came (a watch that is not complete)', () => {
    const r = goodResponses().slice(0, 3);
    r.push(PN(5));
    expect(check(watch(goodResponses()), watch(r, { id: 'p', complete: false })).join('\n')).toMatch(/watch p .*not reliable — missing PUT c="x" at revision 5 .* progress up to 5/);
  });
});
