// Bad input against ours and real etcd 3.4.23 side by side (issue 22): a deep v2 listing, gRPC frames
// with a compressed flag, an encoding, a short or missing message, undecodable protobuf, oversized
// messages; HTTP/1 request lines and headers past the limits; invalid gateway JSON. Each answer must
// be etcd's (and the text etcd was seen to give), and nothing a refused request carried is written.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, ETCD_BIN, startEtcd, startMember, type Member } from './harness.js';
import { frame, grpcCall, pb, rawExchange, statusAndBody, type GrpcRequest } from './raw-clients.js';

let ours: Member;
let etcd: Member;

beforeAll(async () => {
  if (!existsSync(ETCD_BIN)) throw new Error(`${ETCD_BIN} missing: apt-get install -y etcd-server`);
  [ours, etcd] = await Promise.all([startMember({ ready: 'status' }), startEtcd({ ready: 'status', args: ['--enable-v2'] })]);
}, 60_000);
afterAll(cleanup);

const both = <T>(f: (m: Member) => Promise<T>): Promise<[T, T]> => Promise.all([f(ours), f(etcd)]);
const url = (m: Member, path: string): string => `${m.clientUrl}${path}`;

describe('a deep v2 tree', () => {
  it.each([1500, 2000])('lists a key %i segments deep as etcd does, while other requests are served', async (depth) => {
    const dir = `/deep${depth}`;
    const key = `${dir}/${Array(depth).fill('a').join('/')}`;
    for (const m of [ours, etcd]) {
      const res = await fetch(url(m, `/v2/keys${key}`), { method: 'PUT', body: new URLSearchParams({ value: 'x' }) });
      expect(res.status).toBe(201);
    }
    // ours: /version is polled while the listing is written, and answers (its speed is
    // bench material, not a test's)
    let listing = true;
    let polls = 0;
    const poll = (async () => {
      while (listing) {
        expect((await fetch(url(ours, '/version'))).status).toBe(200);
        polls++;
      }
    })();
    const mine = await (await fetch(url(ours, `/v2/keys${dir}?recursive=true`))).text();
    listing = false;
    await poll;
    expect(polls).toBeGreaterThan(0);
    const theirs = await (await fetch(url(etcd, `/v2/keys${dir}?recursive=true`))).text();
    expect(mine.length).toBe(theirs.length);
    expect(mine === theirs).toBe(true);
  }, 60_000);
});

const PUT = '/etcdserverpb.KV/Put';
const STATUS = '/etcdserverpb.Maintenance/Status';
const WATCH = '/etcdserverpb.Watch/Watch';
const put = (key: string): Buffer => pb([1, key], [2, 'v']);
const watchCreate = pb([1, pb([1, 'wk'])]);
const GZIP = { 'grpc-encoding': 'gzip' };
const FLAG1 = 'grpc: compressed flag set with identity or empty encoding';
const noGzip = (enc: string): string => `grpc: Decompressor is not installed for grpc-encoding "${enc}"`;
/** A PutRequest for key "b" with an n-byte value. */
function big(n: number): Buffer {
  const varint: number[] = [];
  for (let x = n; ; x = Math.floor(x / 128)) {
    if (x < 128) {
      varint.push(x);
      break;
    }
    varint.push((x & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x0a, 1, 0x62, 0x12, ...varint]), Buffer.alloc(n, 0x61)]);
}

// [name, request, etcd 3.4.23's status and message]
const GRPC_CASES: [string, GrpcRequest, string, string][] = [
  ['Put, compressed flag 1', { path: PUT, frames: [frame(put('bad/f1'), 1)] }, '13', FLAG1],
  ['Put, flag byte 7', { path: PUT, frames: [frame(put('bad/f7'), 7)] }, '13', 'grpc: received unexpected payload format 7'],
  ['Put, flag 1 with grpc-encoding identity', { path: PUT, frames: [frame(put('bad/fi'), 1)], headers: { 'grpc-encoding': 'identity' } }, '13', FLAG1],
  ['Put, grpc-encoding gzip', { path: PUT, frames: [frame(put('bad/gz'), 1)], headers: GZIP }, '12', noGzip('gzip')],
  ['Put, grpc-encoding gzip, flag 0', { path: PUT, frames: [frame(put('bad/g0'))], headers: GZIP }, '12', noGzip('gzip')],
  ['Put, grpc-encoding snappy', { path: PUT, frames: [frame(put('bad/sn'))], headers: { 'grpc-encoding': 'snappy' } }, '12', noGzip('snappy')],
  ['Put, length prefix past the data', { path: PUT, frames: [frame(put('bad/tr'), 0, 100)] }, '2', 'unexpected EOF'],
  ['Put, 3 bytes of a prefix', { path: PUT, frames: [Buffer.from([0, 0, 0])] }, '2', 'unexpected EOF'],
  ['Put, no message', { path: PUT, frames: [] }, '2', 'EOF'],
  ['Put, undecodable (truncated field)', { path: PUT, frames: [frame(Buffer.from([0x0a, 0x05, 0x61]))] }, '13', 'grpc: error unmarshalling request: unexpected EOF'],
  ['Put, wrong wire type', { path: PUT, frames: [frame(Buffer.from([0x08, 0x00]))] }, '13', 'grpc: error unmarshalling request: proto: wrong wireType = 0 for field Key'],
  ['Put, field number 0', { path: PUT, frames: [frame(Buffer.from([0x00, 0x01]))] }, '13', 'grpc: error unmarshalling request: proto: PutRequest: illegal tag 0 (wire type 0)'],
  ['Put of 3 MiB', { path: PUT, frames: [frame(big(3 << 20))] }, '8', 'grpc: received message larger than max (3145736 vs. 2097152)'],
  ['Put of 5 MiB', { path: PUT, frames: [frame(big(5 << 20))] }, '8', 'grpc: received message larger than max (5242888 vs. 2097152)'],
  ['Put, two messages (the second ignored)', { path: PUT, frames: [frame(put('bad/two1')), frame(put('bad/two2'), 7)] }, '0', ''],
  ['Status, compressed flag 1', { path: STATUS, frames: [frame('', 1)] }, '13', FLAG1],
  ['Status, grpc-encoding gzip', { path: STATUS, frames: [frame('')], headers: GZIP }, '12', noGzip('gzip')],
  ['Status, length prefix past the data', { path: STATUS, frames: [frame(Buffer.alloc(3), 0, 10)] }, '2', 'unexpected EOF'],
  ['Status, no message', { path: STATUS, frames: [] }, '2', 'EOF'],
  ['Status, undecodable', { path: STATUS, frames: [frame(Buffer.from([0xff]))] }, '13', 'grpc: error unmarshalling request: unexpected EOF'],
  ['Watch, compressed flag 1', { path: WATCH, frames: [frame(watchCreate, 1)] }, '13', FLAG1],
  ['Watch, grpc-encoding gzip', { path: WATCH, frames: [frame(watchCreate, 1)], headers: GZIP }, '12', noGzip('gzip')],
  ['Watch, length prefix past the data', { path: WATCH, frames: [frame(watchCreate, 0, 100)] }, '13', 'unexpected EOF'],
  ['Watch, undecodable', { path: WATCH, frames: [frame(Buffer.from([0xff, 0xff]))] }, '13', 'grpc: failed to unmarshal the received message unexpected EOF'],
  ['Watch of 3 MiB', { path: WATCH, frames: [frame(Buffer.alloc(3 << 20))] }, '8', 'grpc: received message larger than max (3145728 vs. 2097152)'],
  ['Watch, flag 7 after a watch was created', { path: WATCH, frames: [frame(watchCreate)], afterFirst: frame(watchCreate, 7), end: false }, '13', 'grpc: received unexpected payload format 7'],
  ['Range with 2,000 headers (Node\'s http2 alone resets past 128)', { path: '/etcdserverpb.KV/Range', frames: [frame(pb([1, 'x']))], headers: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, 'v'])) }, '0', ''],
  ['an unknown method', { path: '/etcdserverpb.KV/Nope', frames: [frame('')] }, '12', 'unknown method Nope for service etcdserverpb.KV'],
  ['an unknown service', { path: '/foo.Bar/Baz', frames: [frame('')] }, '12', 'unknown service foo.Bar'],
  ['LeaseKeepAlive, flag 1 after an answer', { path: '/etcdserverpb.Lease/LeaseKeepAlive', frames: [frame(Buffer.from([0x08, 0x01]))], afterFirst: frame(Buffer.from([0x08, 0x01]), 1), end: false }, '13', FLAG1],
];

describe('gRPC frames etcd refuses', () => {
  it.each(GRPC_CASES)('%s: as etcd, %s %j', async (_name, req, status, message) => {
    const [o, e] = await both((m) => grpcCall(m.endpoint, req));
    expect({ status: e.status, message: e.message }).toEqual({ status, message });
    expect({ status: o.status, message: o.message }).toEqual({ status, message });
  }, 30_000);

  it('wrote nothing a refused call carried (the first of two messages only), on either', async () => {
    for (const m of [ours, etcd]) {
      expect(await ctlOk(m, ['get', 'bad/', '--prefix', '--keys-only'])).toBe('bad/two1\n\n');
      expect(await ctlOk(m, ['put', 'after', 'ok'])).toBe('OK\n');
    }
  });
});

describe('HTTP/1 limits on the client port', () => {
  const get = (path: string, headers = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`;
  const cases: [string, string, (r: { reply: string; end: string }) => unknown][] = [
    ['a 3,000-byte URL: served', get(`/v2/keys/${'a'.repeat(3000)}`), (r) => statusAndBody(r.reply).slice(0, 60)],
    ['a 5,000-byte URL: reset unanswered', get(`/v2/keys/${'a'.repeat(5000)}`), (r) => r],
    ['a 20,000-byte URL: reset unanswered', get(`/v2/keys/${'a'.repeat(20_000)}`), (r) => r],
    ['no request line: closed unanswered', 'hello world\r\n\r\n', (r) => r],
    ['HTTP/2.0 in an HTTP/1 line: reset unanswered', 'GET /version HTTP/2.0\r\nHost: x\r\n\r\n', (r) => r],
    ['a 20 KB header: served', get('/version', `X-A: ${'a'.repeat(20_000)}\r\n`), (r) => statusAndBody(r.reply)],
    ['a 1,000,000-byte header: served', get('/version', `X-A: ${'a'.repeat(1_000_000)}\r\n`), (r) => statusAndBody(r.reply)],
    ['3,000 headers: served', get('/version', Array.from({ length: 3000 }, (_, i) => `X-${i}: v\r\n`).join('')), (r) => statusAndBody(r.reply)],
    ['a 1,100,000-byte header: 431', get('/version', `X-A: ${'a'.repeat(1_100_000)}\r\n`), (r) => r.reply],
    ['no Host: Go\'s 400', 'GET /version HTTP/1.1\r\nConnection: close\r\n\r\n', (r) => r.reply],
    ['a header line without a colon: Go\'s 400', get('/version', 'Bad Header\r\n'), (r) => r.reply],
  ];
  it.each(cases)('%s, as etcd', async (_name, bytes, seen) => {
    const [o, e] = await both((m) => rawExchange(m.endpoint, bytes));
    expect(seen(o)).toEqual(seen(e));
    if (e.reply === '') expect(e.end).not.toBe('open');
  }, 30_000);
});

describe('invalid JSON to the /v3 gateway', () => {
  it.each(['x', '{', '{"key":"Zm9v",}', '{"a":1 "b":2}', '\u0001', '{"key":1}', '{"key":"!!"}', '"str"'])('%j: etcd\'s answer', async (body) => {
    const [o, e] = await both(async (m) => {
      const res = await fetch(url(m, '/v3/kv/range'), { method: 'POST', body });
      return `${res.status} ${await res.text()}`;
    });
    expect(o).toBe(e);
    expect(e).toMatch(/^400 \{"error":/);
  });
});
