// Bidi streams on the short path (src/api/v3/stream-call.ts) against grpc-js itself: the same
// handlers served by a grpc-js Server with the path installed for them and by one without; a client
// must see the same messages and statuses from both, in etcd's (grpc-go's) headers and trailers, and
// grpc-go's answers to badly framed requests. And what the path is for: the responses of one turn
// leave in one write.
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGrpcMessage } from '../../../src/api/v3/unary-path.js';
import { frame, inEtcdHeaders, raw, startServer, type Server } from './raw-h2.js';

const MAX_RECEIVE = 64;
const id = (b: Buffer): Buffer => b;
const bidi = (name: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path: `/test.S/${name}`, requestStream: true, responseStream: true,
  requestSerialize: id, responseSerialize: id, responseDeserialize: id,
  requestDeserialize: (b: Buffer) => {
    if (b[0] === 0xff) throw new Error('bad message');
    return b;
  },
});
const NAMES = ['Echo', 'Slow', 'FailAtOnce', 'FailLater', 'Throw', 'Token', 'Burst', 'Big', 'BadOut', 'Hold'] as const;
const badOut = (b: Buffer): Buffer => {
  if (b.toString() === 'bad') throw new Error('cannot encode');
  return b;
};
const def: grpc.ServiceDefinition = Object.fromEntries(
  NAMES.map((n) => [n, n === 'BadOut' ? { ...bidi(n), responseSerialize: badOut } : bidi(n)]),
);

type Duplex = grpc.ServerDuplexStream<Buffer, Buffer>;
const held: { call: Duplex; events: string[] }[] = [];
const failure = { code: grpc.status.FAILED_PRECONDITION, details: 'etcdserver: 100% «wrong» key' };
const impl: grpc.UntypedServiceImplementation = {
  // echoes each request; ends with OK at the client's half-close
  Echo: (call: Duplex) => {
    call.on('data', (m: Buffer) => call.write(Buffer.concat([Buffer.from('echo:'), m])));
    call.on('end', () => call.end());
  },
  // one request at a time, as LeaseKeepAlive reads them: paused until its answer is written
  Slow: (call: Duplex) => {
    let busy = false;
    call.on('data', (m: Buffer) => {
      if (busy) call.write(Buffer.from('overtaken'));
      busy = true;
      call.pause();
      setTimeout(() => {
        call.write(Buffer.concat([Buffer.from('slow:'), m]));
        busy = false;
        call.resume();
      }, 5);
    });
    call.on('end', () => call.end());
  },
  FailAtOnce: (call: Duplex) => void call.emit('error', failure),
  FailLater: (call: Duplex) => {
    call.on('data', (m: Buffer) => {
      call.write(m);
      call.write(m);
      call.emit('error', failure);
    });
  },
  Throw: () => {
    throw new Error('handler threw');
  },
  Token: (call: Duplex) => {
    call.write(Buffer.from(String(call.metadata.get('token')[0] ?? '(none)')));
    call.on('data', () => {}); // grpc-js's call says 'end' only to a reader
    call.on('end', () => call.end());
  },
  // ten responses in one turn
  Burst: (call: Duplex) => {
    call.on('data', () => {
      for (let i = 0; i < 10; i++) call.write(Buffer.from(`m${i}`));
    });
    call.on('end', () => call.end());
  },
  // three responses of 700 kB in one turn: the first two leave at once, past 1 MiB queued
  Big: (call: Duplex) => {
    call.on('data', () => {
      for (const c of 'xyz') call.write(Buffer.alloc(700_000, c));
    });
    call.on('end', () => call.end());
  },
  BadOut: (call: Duplex) => {
    call.on('data', () => {
      call.write(Buffer.from('good'));
      call.write(Buffer.from('bad'));
    });
  },
  Hold: (call: Duplex) => {
    const events: string[] = [];
    held.push({ call, events });
    for (const e of ['data', 'end', 'cancelled', 'error', 'close']) call.on(e, () => events.push(e));
  },
};

const start = (short: boolean): Promise<Server> => startServer(def, impl, MAX_RECEIVE, short, NAMES);

/** A stream kept open: what arrived so far, how many DATA chunks it came in, and the request to write on. */
function open(port: number, path: string, extra: http2.OutgoingHttpHeaders = {}) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra });
  const got = { body: Buffer.alloc(0), chunks: 0, closed: false };
  req.on('data', (d: Buffer) => {
    got.body = Buffer.concat([got.body, d]);
    got.chunks++;
  });
  req.on('error', () => {});
  req.on('close', () => {
    got.closed = true;
    session.close();
  });
  return { req, got };
}

const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(ok()).toBe(true);
};

describe('api/v3 bidi streams on the short path', () => {
  let short: Server;
  let plain: Server;
  beforeAll(async () => {
    short = await start(true);
    plain = await start(false);
  });
  afterAll(() => {
    short.server.forceShutdown();
    plain.server.forceShutdown();
  });

  const cases: [string, string, Buffer[], http2.OutgoingHttpHeaders?][] = [
    ['messages echoed, then OK at the half-close', '/test.S/Echo', [frame('a'), frame('bc'), frame('')]],
    ['messages split over frames', '/test.S/Echo', [frame('hello').subarray(0, 3), Buffer.concat([frame('hello').subarray(3), frame('x')])]],
    ['no message, OK', '/test.S/Echo', []],
    ['an error before any response', '/test.S/FailAtOnce', [frame('x')]],
    ['an error after two responses', '/test.S/FailLater', [frame('x')]],
    ['a handler that throws', '/test.S/Throw', [frame('x')]],
    ['the token metadata', '/test.S/Token', [], { token: 'abc.def' }],
    ['ten responses of one turn', '/test.S/Burst', [frame('go')]],
    ['2.1 MB of responses in one turn', '/test.S/Big', [frame('go')]],
    ['a response that cannot be encoded', '/test.S/BadOut', [frame('go')]],
    ['an invalid grpc-timeout', '/test.S/Hold', [], { 'grpc-timeout': 'soon' }],
  ];
  for (const [name, path, body, extra] of cases) {
    it(`answers ${name} as grpc-js does, in etcd's headers`, async () => {
      const before = short.path!.served;
      const ours = await raw(short.port, path, body, extra);
      const theirs = await raw(plain.port, path, body, extra);
      expect(ours).toEqual(inEtcdHeaders(theirs));
      expect(short.path!.served - before).toBe(1);
    });
  }

  const big = frame(Buffer.alloc(MAX_RECEIVE + 1, 1));
  const grpcGo: [string, Buffer[], number, string][] = [
    // request body, grpc-go's status and message to a streaming call (as in unary-path.test.ts)
    ['a compressed flag', [frame('x', 1)], 13, 'grpc: compressed flag set with identity or empty encoding'],
    ['a flag byte 7', [frame('x', 7)], 13, 'grpc: received unexpected payload format 7'],
    ['a message cut short', [frame('hello').subarray(0, 7)], 13, 'unexpected EOF'],
    ['a message over the limit', [big], 8, `grpc: received message larger than max (${MAX_RECEIVE + 1} vs. ${MAX_RECEIVE})`],
  ];
  for (const [name, body, code, message] of grpcGo) {
    it(`answers ${name} as grpc-go does (${code}), and the handler hears 'cancelled'`, async () => {
      const n = held.length;
      const ours = await raw(short.port, '/test.S/Hold', body);
      expect(ours).toEqual({
        headers: { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) },
        trailers: {}, body: '', date: false,
      });
      expect(held[n]!.events.slice(0, 1)).toEqual(['cancelled']);
    });
  }

  it('hands a paused handler its requests one at a time, and the half-close only after the last', async () => {
    // as etcd's LeaseKeepAlive loop (Recv, renew, Send, Recv...) sees io.EOF only after answering every
    // request; grpc-js's call says 'end' while the last one is still being answered, which is then lost
    const ours = await raw(short.port, '/test.S/Slow', [frame('a'), Buffer.concat([frame('b'), frame('c')])]);
    expect(ours).toEqual({
      headers: { ':status': 200, 'content-type': 'application/grpc' }, trailers: { 'grpc-status': '0', 'grpc-message': '' },
      body: ['slow:a', 'slow:b', 'slow:c'].map((m) => frame(m).toString('latin1')).join(''), date: false,
    });
  });

  it('answers a request it cannot decode with grpc-go\'s stream text', async () => {
    const ours = await raw(short.port, '/test.S/Hold', [frame(Buffer.from([0xff]))]);
    expect(ours.headers['grpc-status']).toBe('13');
    expect(decodeURIComponent(String(ours.headers['grpc-message']))).toBe('grpc: failed to unmarshal the received message bad message');
  });

  it('writes the responses of one turn as one DATA frame (grpc-js: one each)', async () => {
    const ours = open(short.port, '/test.S/Burst');
    ours.req.write(frame('go'));
    const want = Buffer.concat(Array.from({ length: 10 }, (_, i) => frame(`m${i}`)));
    await until(() => ours.got.body.length === want.length);
    expect(ours.got.body).toEqual(want);
    expect(ours.got.chunks).toBe(1);
    ours.req.close();
  });

  it('counts responses as queued until the HTTP/2 stream took them (the watch server\'s back-pressure)', async () => {
    const n = held.length;
    const c = open(short.port, '/test.S/Hold');
    c.req.write(frame('x'));
    await until(() => held.length > n);
    const call = held[n]!.call;
    for (let i = 0; i < 5; i++) expect(call.write(Buffer.from('r'))).toBe(true);
    expect(call.writableLength).toBe(5);
    await until(() => c.got.body.length === 5 * 6);
    await until(() => call.writableLength === 0);
    c.req.close(http2.constants.NGHTTP2_CANCEL);
  });

  it('keeps a stream open after the client half-closes, and tells the handler of a cancel', async () => {
    const n = held.length;
    const c = open(short.port, '/test.S/Hold');
    c.req.end(frame('x'));
    await until(() => held[n]?.events.includes('end') === true);
    const { call, events } = held[n]!;
    call.write(Buffer.from('late'));
    await until(() => c.got.body.length === 9);
    expect(events).toEqual(['data', 'end']);
    c.req.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => events.includes('close'));
    expect(events).toEqual(['data', 'end', 'cancelled', 'close']);
    expect(call.cancelled).toBe(true);
    expect(call.write(Buffer.from('after'))).toBe(false); // dropped, no throw
  });

  it('ends a call at its deadline with DEADLINE_EXCEEDED, as grpc-js', async () => {
    const ours = await raw(short.port, '/test.S/Hold', [frame('x')], { 'grpc-timeout': '30m' });
    const theirs = await raw(plain.port, '/test.S/Hold', [frame('x')], { 'grpc-timeout': '30m' });
    expect(ours).toEqual(inEtcdHeaders(theirs));
    expect(ours.headers['grpc-status']).toBe(String(grpc.status.DEADLINE_EXCEEDED));
  });

  it('serves a grpc-js client', async () => {
    const Client = grpc.makeGenericClientConstructor(def, 'S');
    const client = new Client(`127.0.0.1:${short.port}`, grpc.credentials.createInsecure()) as unknown as Record<string, () => grpc.ClientDuplexStream<Buffer, Buffer>>;
    const call = client.Echo!();
    const got: string[] = [];
    call.on('data', (m: Buffer) => got.push(m.toString()));
    const ended = new Promise<grpc.StatusObject>((r) => call.on('status', r));
    call.write(Buffer.from('one'));
    call.write(Buffer.from('two'));
    call.end();
    expect((await ended).code).toBe(grpc.status.OK);
    expect(got).toEqual(['echo:one', 'echo:two']);
    (client as unknown as grpc.Client).close();
  });
});
