// The short unary path (src/api/v3/unary-path.ts) against grpc-js itself: the same service is served
// by one grpc-js Server with the path installed and one without, and every call below (well-formed or
// not) must get the same body, status and message from both, in etcd's response headers and
// trailers (grpc-go's) where grpc-js has its own; except where grpc-go (etcd 3.4.23) receives a
// request otherwise (framing, decoding: grpc-receive.ts), where the answer must be grpc-go's, on the
// short path and in front of grpc-js alike. The JavaScript HTTP/2's gRPC (h2-grpc.ts, ETCD_TS_HTTP2=js)
// must answer every call as the short path does, streaming methods included.
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { H2GrpcRouter } from '../../../src/api/v3/h2-grpc.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGrpcMessage } from '../../../src/api/v3/unary-path.js';
import { frame, inEtcdHeaders, raw, startServer, type Server } from './raw-h2.js';

const MAX_RECEIVE = 64;
const id = (b: Buffer): Buffer => b;
const method = (name: string, responseStream = false): grpc.MethodDefinition<Buffer, Buffer> => ({
  path: `/test.T/${name}`, requestStream: false, responseStream,
  requestSerialize: id, responseSerialize: id, responseDeserialize: id,
  // a request starting with 0xff cannot be decoded
  requestDeserialize: (b: Buffer) => {
    if (b[0] === 0xff) throw new Error('bad message');
    return b;
  },
});
const def: grpc.ServiceDefinition = {
  Echo: method('Echo'), Fail: method('Fail'), Throw: method('Throw'), Plain: method('Plain'),
  Hang: method('Hang'), Token: method('Token'), Stream: method('Stream', true),
  BadOut: { ...method('BadOut'), responseSerialize: () => { throw new Error('cannot encode'); } },
};

type Call = grpc.ServerUnaryCall<Buffer, Buffer>;
type Cb = grpc.sendUnaryData<Buffer>;
const hung: { call: Call; cb: Cb }[] = [];
let echoes = 0; // requests that reached a handler
const impl: grpc.UntypedServiceImplementation = {
  Echo: (call: Call, cb: Cb) => {
    echoes++;
    setImmediate(() => cb(null, Buffer.concat([Buffer.from('echo:'), call.request])));
  },
  Fail: (_call: Call, cb: Cb) => cb({ code: grpc.status.FAILED_PRECONDITION, details: 'etcdserver: 100% «wrong» key', name: 'x', message: 'x' } as grpc.ServiceError),
  Throw: () => {
    throw new Error('handler threw');
  },
  Plain: (_call: Call, cb: Cb) => cb(new Error('plain error') as grpc.ServiceError),
  Hang: (call: Call, cb: Cb) => hung.push({ call, cb }),
  BadOut: (_call: Call, cb: Cb) => cb(null, Buffer.from('x')),
  Token: (call: Call, cb: Cb) => cb(null, Buffer.from(String(call.metadata.get('token')[0] ?? '(none)'))),
  Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    echoes++;
    call.write(Buffer.from('one'));
    call.end();
  },
};

const start = (short: boolean): Promise<Server> => startServer(def, impl, MAX_RECEIVE, short);

/** The same service over the JavaScript HTTP/2 (api/v3/h2-grpc.ts). */
async function startJs(): Promise<{ port: number; server: net.Server }> {
  const router = new H2GrpcRouter(MAX_RECEIVE);
  router.addService(def, impl);
  const server = net.createServer((socket) => router.serve(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, server };
}

describe('grpc-message as grpc-go encodes it', () => {
  it.each([
    ['etcdserver: key is not provided', 'etcdserver: key is not provided'],
    ['', ''],
    ['100% sure', '100%25 sure'],
    ['«wrong» key', '%C2%ABwrong%C2%BB key'],
    ['tab\there, new\nline', 'tab%09here, new%0Aline'],
    ['~ and \u007f', '~ and %7F'],
    ['🔑', '%F0%9F%94%91'],
  ])('%j -> %j', (text, wire) => {
    expect(encodeGrpcMessage(text)).toBe(wire);
    expect(decodeURIComponent(wire)).toBe(text);
  });
});

describe('api/v3 unary short path', () => {
  let short: Server;
  let plain: Server;
  let js: { port: number; server: net.Server };
  beforeAll(async () => {
    short = await start(true);
    plain = await start(false);
    js = await startJs();
  });
  afterAll(() => {
    for (const h of hung) h.cb(null, Buffer.from('late'));
    short.server.forceShutdown();
    plain.server.forceShutdown();
    js.server.close();
  });

  const cases: [string, string, Buffer[], http2.OutgoingHttpHeaders?, boolean?][] = [
    // name, path, request body, extra headers, taken by the short path
    ['a message echoed', '/test.T/Echo', [frame('hello')], {}, true],
    ['a message split over frames', '/test.T/Echo', [frame('hello').subarray(0, 3), frame('hello').subarray(3)], {}, true],
    ['an empty message', '/test.T/Echo', [frame('')], {}, true],
    ['a status error with text to escape', '/test.T/Fail', [frame('x')], {}, true],
    ['a handler that throws', '/test.T/Throw', [frame('x')], {}, true],
    ['an Error without a code', '/test.T/Plain', [frame('x')], {}, true],
    ['a response that cannot be encoded', '/test.T/BadOut', [frame('x')], {}, true],
    ['an invalid grpc-timeout', '/test.T/Echo', [frame('x')], { 'grpc-timeout': 'soon' }, true],
    ['an expired deadline', '/test.T/Hang', [frame('x')], { 'grpc-timeout': '30m' }, true],
    ['the token metadata', '/test.T/Token', [frame('x')], { token: 'abc.def' }, true],
    ['a wrong content type', '/test.T/Echo', [frame('x')], { 'content-type': 'text/plain' }, false],
    ['a streaming method', '/test.T/Stream', [frame('x')], {}, false],
  ];

  for (const [name, path, body, extra, taken] of cases) {
    it(`answers ${name} as grpc-js does${taken ? ', in etcd\'s headers' : ''}`, async () => {
      const before = short.path!.served;
      const ours = await raw(short.port, path, body, extra);
      const theirs = await raw(plain.port, path, body, extra);
      expect(ours).toEqual(taken ? inEtcdHeaders(theirs) : theirs);
      expect(short.path!.served - before).toBe(taken ? 1 : 0);
      // the JavaScript HTTP/2 answers every call in etcd's headers (grpc-js's 415 without a date)
      const viaJs = await raw(js.port, path, body, extra);
      expect(viaJs).toEqual(theirs.headers[':status'] === 415 ? { ...theirs, date: false } : inEtcdHeaders(theirs));
    });
  }

  const big = frame(Buffer.alloc(MAX_RECEIVE + 1, 1));
  const gzipped = frame(Buffer.from('1f8b0800000000000003cb48cdc9c90700863ba61305000000', 'hex'), 1);
  const GZIP = { 'grpc-encoding': 'gzip' };
  const grpcGo: [string, string, Buffer[], http2.OutgoingHttpHeaders, number, string][] = [
    // name, path, request body, extra headers, grpc-go's status and message (etcd 3.4.23's answers)
    ['an undecodable request', '/test.T/Echo', [frame(Buffer.from([0xff, 1]))], {}, 13, 'grpc: error unmarshalling request: bad message'],
    ['no request message', '/test.T/Echo', [], {}, 2, 'EOF'],
    ['a truncated request message', '/test.T/Echo', [frame('hello').subarray(0, 7)], {}, 2, 'unexpected EOF'],
    ['a truncated message prefix', '/test.T/Echo', [frame('hello').subarray(0, 3)], {}, 2, 'unexpected EOF'],
    ['a message over the receive limit', '/test.T/Echo', [big], {}, 8, `grpc: received message larger than max (${MAX_RECEIVE + 1} vs. ${MAX_RECEIVE})`],
    ['a message over the limit, its prefix split', '/test.T/Echo', [big.subarray(0, 3), big.subarray(3)], {}, 8, `grpc: received message larger than max (${MAX_RECEIVE + 1} vs. ${MAX_RECEIVE})`],
    ['a message over the limit, flagged', '/test.T/Echo', [frame(Buffer.alloc(MAX_RECEIVE + 1, 1), 1)], {}, 8, `grpc: received message larger than max (${MAX_RECEIVE + 1} vs. ${MAX_RECEIVE})`],
    ['a compressed flag without grpc-encoding', '/test.T/Echo', [frame('x', 1)], {}, 13, 'grpc: compressed flag set with identity or empty encoding'],
    ['a compressed flag on an empty message', '/test.T/Echo', [frame('', 1)], {}, 13, 'grpc: compressed flag set with identity or empty encoding'],
    ['a compressed flag with grpc-encoding identity', '/test.T/Echo', [frame('x', 1)], { 'grpc-encoding': 'identity' }, 13, 'grpc: compressed flag set with identity or empty encoding'],
    ['a flag byte 7', '/test.T/Echo', [frame('x', 7)], {}, 13, 'grpc: received unexpected payload format 7'],
    ['a flagged message cut short', '/test.T/Echo', [frame('hello', 1).subarray(0, 7)], {}, 2, 'unexpected EOF'],
    ['a gzip request', '/test.T/Echo', [gzipped], GZIP, 12, 'grpc: Decompressor is not installed for grpc-encoding "gzip"'],
    ['grpc-encoding gzip on a plain message', '/test.T/Echo', [frame('x')], GZIP, 12, 'grpc: Decompressor is not installed for grpc-encoding "gzip"'],
    ['grpc-encoding deflate', '/test.T/Echo', [frame('x', 1)], { 'grpc-encoding': 'deflate' }, 12, 'grpc: Decompressor is not installed for grpc-encoding "deflate"'],
    ['a streaming call with a compressed flag', '/test.T/Stream', [frame('x', 1)], {}, 13, 'grpc: compressed flag set with identity or empty encoding'],
    ['a streaming call with a flag byte 7', '/test.T/Stream', [frame('x', 7)], {}, 13, 'grpc: received unexpected payload format 7'],
    ['a streaming call cut short', '/test.T/Stream', [frame('hello').subarray(0, 7)], {}, 13, 'unexpected EOF'],
    ['a streaming call over the limit', '/test.T/Stream', [big], {}, 8, `grpc: received message larger than max (${MAX_RECEIVE + 1} vs. ${MAX_RECEIVE})`],
    ['a streaming call with gzip', '/test.T/Stream', [gzipped], GZIP, 12, 'grpc: Decompressor is not installed for grpc-encoding "gzip"'],
    ['an unknown method', '/test.T/Nope', [frame('x')], {}, 12, 'unknown method Nope for service test.T'],
    ['an unknown service', '/test.U/Echo', [frame('x')], {}, 12, 'unknown service test.U'],
  ];

  for (const [name, path, body, extra, code, message] of grpcGo) {
    it(`answers ${name} as grpc-go does (${code}), and the handler never sees it`, async () => {
      const before = short.path!.served;
      const echoed = echoes;
      const ours = await raw(short.port, path, body, extra);
      const expected = {
        headers: { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) },
        trailers: {}, body: '', date: false,
      };
      expect(ours).toEqual(expected);
      expect(await raw(js.port, path, body, extra)).toEqual(expected);
      expect(echoes).toBe(echoed);
      const encoded = extra['grpc-encoding'] !== undefined && extra['grpc-encoding'] !== 'identity'; // refused before any path
      expect(short.path!.served - before).toBe(path === '/test.T/Echo' && !encoded ? 1 : 0);
    });
  }

  it('takes a call with 2,000 headers, as grpc-go (Node\'s http2 alone resets past 128)', async () => {
    const many = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, 'v']));
    for (const [port, path] of [[short.port, '/test.T/Echo'], [short.port, '/test.T/Stream'], [js.port, '/test.T/Echo'], [js.port, '/test.T/Stream']] as const) {
      const a = await raw(port, path, [frame('x')], many);
      expect(a.headers[':status']).toBe(200);
      expect(a.trailers['grpc-status']).toBe('0');
    }
  });

  it('reads one message of a unary call, as grpc-go: what follows it is ignored', async () => {
    for (const [port, rest] of [short.port, js.port].flatMap((p) => [[frame('b')], [frame('b', 1)], [frame('b', 7)], [Buffer.from([0, 0])], [big]].map((r) => [p, r] as const))) {
      const ours = await raw(port, '/test.T/Echo', [frame('a'), ...rest]);
      expect(ours.trailers).toEqual({ 'grpc-status': '0', 'grpc-message': '' });
      expect(ours.body).toBe(frame('echo:a').toString('latin1'));
    }
  });

  it('answers in the headers etcd 3.4.23 was seen to send (a Put, and a Put without a key)', async () => {
    const ok = await raw(short.port, '/test.T/Echo', [frame('x')]);
    expect([ok.headers, ok.trailers, ok.date]).toEqual([{ ':status': 200, 'content-type': 'application/grpc' }, { 'grpc-status': '0', 'grpc-message': '' }, false]);
    const failed = await raw(short.port, '/test.T/Fail', [frame('x')]);
    expect(failed.headers).toEqual({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '9', 'grpc-message': 'etcdserver: 100%25 %C2%ABwrong%C2%BB key' });
  });

  it.each(['short path', 'JavaScript HTTP/2'])('serves a grpc-js client, and a cancelled call is dropped quietly (%s)', async (which) => {
    const Client = grpc.makeGenericClientConstructor(def, 'T');
    const client = new Client(`127.0.0.1:${which === 'short path' ? short.port : js.port}`, grpc.credentials.createInsecure()) as unknown as Record<string, Function>;
    const echo = await new Promise<Buffer>((res, rej) => client.Echo!(Buffer.from('hi'), (e: Error | null, r: Buffer) => (e ? rej(e) : res(r))));
    expect(echo.toString()).toBe('echo:hi');
    const n = hung.length;
    const err = await new Promise<grpc.ServiceError>((res) => {
      const call = client.Hang!(Buffer.from('x'), (e: grpc.ServiceError) => res(e));
      const wait = setInterval(() => {
        if (hung.length > n) {
          clearInterval(wait);
          call.cancel();
        }
      }, 5);
    });
    expect(err.code).toBe(grpc.status.CANCELLED);
    const h = hung[hung.length - 1]!;
    await new Promise((r) => setTimeout(r, 50));
    expect(h.call.cancelled).toBe(true);
    h.cb(null, Buffer.from('too late')); // must not throw or write
    (client as unknown as grpc.Client).close();
  });
});
