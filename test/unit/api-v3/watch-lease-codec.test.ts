// The hand-made Watch / LeaseKeepAlive codecs (src/api/v3/watch-lease-codec.ts) against protobufjs
// through proto-loader, as codec/kv.test.ts: byte-identical to protobufjs's encoding of the object
// without its zero scalars (etcd omits them), decoding to the same message; the request decoder gives
// proto-loader's object. Plus the event cache: a shared Event encodes the same in every response.
import { describe, expect, it } from 'vitest';
import {
  decodeLeaseKeepAliveRequest,
  encodeLeaseKeepAliveResponse,
  encodeWatchResponse,
  watchEventsField,
  watchEventsHead,
} from '../../../src/api/v3/watch-lease-codec.js';
import { packageDefinition } from '../../../src/api/v3/proto.js';
import { header, int64, keyValue, list, maybe, pick, rng, stripZeros, type Method, type Rand } from '../codec/codec-random.js';

const watch = (packageDefinition()['etcdserverpb.Watch'] as unknown as Record<'Watch', Method>).Watch;
const keepAlive = (packageDefinition()['etcdserverpb.Lease'] as unknown as Record<'LeaseKeepAlive', Method>).LeaseKeepAlive;

function event(r: Rand): object {
  return { type: pick(r, ['PUT', 'DELETE', 0, 1]), kv: maybe(r, () => keyValue(r)), prev_kv: maybe(r, () => keyValue(r)) };
}
function watchRes(r: Rand): object {
  return {
    header: maybe(r, () => header(r)),
    watch_id: int64(r),
    created: r() < 0.3,
    canceled: r() < 0.3,
    compact_revision: int64(r),
    cancel_reason: pick(r, ['', 'mvcc: required revision has been compacted', 'ключ']),
    fragment: r() < 0.3,
    events: list(r, 4, event),
  };
}

function check(m: Method, encode: (o: never) => Buffer, obj: object): void {
  const ours = encode(obj as never);
  const theirs = m.responseSerialize(stripZeros(obj) as object);
  expect(ours.toString('hex'), JSON.stringify(obj).slice(0, 300)).toBe(theirs.toString('hex'));
  expect(m.responseDeserialize(ours)).toEqual(m.responseDeserialize(m.responseSerialize(obj)));
}

describe('watch-lease-codec encoders', () => {
  const big = '10276657743932975437';
  const kv = { key: Buffer.from('foo'), value: Buffer.from('bar'), create_revision: 2, mod_revision: 7, version: 3, lease: '7587861231231231231' };
  const table: [string, Method, (o: never) => Buffer, object][] = [
    ['created', watch, encodeWatchResponse, { header: { cluster_id: big, member_id: '1', revision: 5, raft_term: 2 }, watch_id: 0, created: true }],
    ['refused create', watch, encodeWatchResponse, { header: { revision: 5 }, watch_id: -1, created: true, canceled: true, cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream' }],
    ['events', watch, encodeWatchResponse, { header: { revision: 7 }, watch_id: 3, events: [{ type: 'PUT', kv }, { type: 'DELETE', kv: { key: Buffer.from('x'), mod_revision: 7 }, prev_kv: kv }] }],
    ['compacted', watch, encodeWatchResponse, { header: { revision: 9 }, watch_id: 1, canceled: true, compact_revision: 4, events: [] }],
    ['fragment', watch, encodeWatchResponse, { header: { revision: 9 }, watch_id: 2, fragment: true, events: [{ kv }] }],
    ['progress', watch, encodeWatchResponse, { header: { revision: 9 }, watch_id: -1 }],
    ['keepalive', keepAlive, encodeLeaseKeepAliveResponse, { header: { cluster_id: big, member_id: big, revision: 3, raft_term: 1 }, ID: '7587861231231231231', TTL: 10 }],
    ['keepalive, lease not found', keepAlive, encodeLeaseKeepAliveResponse, { header: { revision: 3 }, ID: '-5', TTL: 0 }],
  ];
  it.each(table)('%s', (_name, m, encode, obj) => check(m, encode, obj));

  it('WatchResponse: random', () => {
    const r = rng(0x3a7c);
    for (let i = 0; i < 400; i++) check(watch, encodeWatchResponse, watchRes(r));
  });

  it('LeaseKeepAliveResponse: random', () => {
    const r = rng(0x1ea5e);
    for (let i = 0; i < 200; i++) check(keepAlive, encodeLeaseKeepAliveResponse, { header: maybe(r, () => header(r)), ID: int64(r), TTL: int64(r) });
  });

  it('encodes a shared event the same in every response it is in', () => {
    const ev = { type: 'DELETE' as const, kv, prev_kv: kv };
    const a = encodeWatchResponse({ watch_id: 1, events: [ev] });
    const b = encodeWatchResponse({ watch_id: 2, events: [ev, ev] });
    check(watch, encodeWatchResponse, { watch_id: 2, events: [ev, ev] });
    expect(b.subarray(2).toString('hex')).toBe(Buffer.concat([a.subarray(2), a.subarray(2)]).toString('hex'));
  });
});

describe('a live WatchResponse in two pieces (watchEventsHead + watchEventsField)', () => {
  const framed = (b: Buffer): string => {
    const p = Buffer.alloc(5);
    p.writeUInt32BE(b.length, 1);
    return Buffer.concat([p, b]).toString('hex');
  };

  it('is encodeWatchResponse framed, for random headers, small ids and event lists', () => {
    const r = rng(0x7e11);
    const ids = [0, 1, 127, 128, 16_383, 16_384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1];
    for (let i = 0; i < 400; i++) {
      const h = pick(r, [() => header(r), () => ({ cluster_id: '10276657743932975437', member_id: '1', revision: i % 3, raft_term: 2 })])();
      const watchId = pick(r, ids);
      const events = list(r, 3, event) as never[];
      const tail = watchEventsField(events);
      const head = watchEventsHead(h as never, watchId, tail.length)!;
      const want = framed(encodeWatchResponse({ header: h, watch_id: watchId, events }));
      expect(Buffer.concat([head, tail]).toString('hex'), JSON.stringify({ h, watchId })).toBe(want);
    }
  });

  it('leaves ids it cannot write to the general encoder', () => {
    for (const id of [-1, 2 ** 31, 2.5, Number.NaN]) expect(watchEventsHead({ revision: 1 }, id, 0)).toBeUndefined();
  });
});

describe('watch-lease-codec LeaseKeepAliveRequest decoder', () => {
  it.each([['0'], ['1'], ['7587861231231231231'], ['-1'], ['-9223372036854775808']])('ID %s', (id) => {
    const wire = keepAlive.requestSerialize({ ID: id });
    expect(decodeLeaseKeepAliveRequest(wire)).toStrictEqual(keepAlive.requestDeserialize(wire));
  });

  it('skips unknown fields and keeps the last ID', () => {
    const wire = Buffer.concat([keepAlive.requestSerialize({ ID: '5' }), Buffer.from([0x12, 0x02, 0x61, 0x62, 0x18, 0x07]), keepAlive.requestSerialize({ ID: '9' })]);
    expect(decodeLeaseKeepAliveRequest(wire)).toStrictEqual(keepAlive.requestDeserialize(wire));
    expect(decodeLeaseKeepAliveRequest(wire)).toStrictEqual({ ID: '9' });
  });

  it('refuses a truncated ID (protobufjs reads past a truncated varint; we refuse it)', () => {
    const wire = keepAlive.requestSerialize({ ID: '7587861231231231231' }).subarray(0, 4);
    expect(() => decodeLeaseKeepAliveRequest(wire)).toThrow(RangeError);
  });
});
