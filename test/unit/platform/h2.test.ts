// The JavaScript HTTP/2 server (src/platform/h2) against node:http2's client (nghttp2) and raw
// frames: HPACK vectors of RFC 7541, flow control with small windows both ways, CONTINUATION both
// ways, RST_STREAM mid-stream, GOAWAY draining, and the abuse limits.
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { H2Connection, STREAM_WINDOW, type H2ServerOptions } from '../../../src/platform/h2/connection.js';
import { HpackDecoder, HpackError, encodeHeaders } from '../../../src/platform/h2/hpack.js';
import type { H2Stream } from '../../../src/platform/h2/stream.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');
const OK = encodeHeaders([[':status', '200'], ['content-type', 'text/plain']]);

describe('hpack', () => {
  it('decodes RFC 7541 C.3 (literals) and C.4 (Huffman), the dynamic table across blocks', () => {
    for (const blocks of [
      ['8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', '8286 84be 5808 6e6f 2d63 6163 6865',
        '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65'],
      ['8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', '8286 84be 5886 a8eb 1064 9cbf',
        '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'],
    ]) {
      const h = new HpackDecoder();
      expect(h.decode(hex(blocks[0]!)).fields).toEqual([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com']);
      expect(h.decode(hex(blocks[1]!)).fields)
        .toEqual([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com', 'cache-control', 'no-cache']);
      expect(h.decode(hex(blocks[2]!)).fields).toEqual([':method', 'GET', ':scheme', 'https', ':path', '/index.html',
        ':authority', 'www.example.com', 'custom-key', 'custom-value']);
    }
  });

  it('decodes RFC 7541 C.5 (a 256-byte table set by a size update, entries evicted)', () => {
    const h = new HpackDecoder();
    const date1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
    const loc = 'https://www.example.com';
    expect(h.decode(hex('3fe101' + '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d')).fields)
      .toEqual([':status', '302', 'cache-control', 'private', 'date', date1, 'location', loc]);
    expect(h.decode(hex('4803 3330 37c1 c0bf')).fields).toEqual([':status', '307', 'cache-control', 'private', 'date', date1, 'location', loc]);
    expect(h.decode(hex('88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31')).fields)
      .toEqual([':status', '200', 'cache-control', 'private', 'date', 'Mon, 21 Oct 2013 20:13:22 GMT', 'location', loc,
        'content-encoding', 'gzip', 'set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1']);
    // 'location' (index 4 of the first answer) was evicted by the third block's entries
    expect(() => h.decode(hex('c5'))).toThrow(HpackError);
  });

  it('encodes what it decodes; refuses malformed blocks; counts a list over the limit', () => {
    const fields: [string, string][] = [[':status', '200'], ['content-type', 'application/grpc'], ['grpc-message', 'x'.repeat(300)]];
    expect(new HpackDecoder().decode(encodeHeaders(fields)).fields).toEqual(fields.flat());
    expect(encodeHeaders([[':status', '200']])).toEqual(Buffer.from([0x88]));
    expect(() => new HpackDecoder().decode(hex('be'))).toThrow(HpackError); // no dynamic entry 62
    expect(() => new HpackDecoder().decode(hex('3fe221'))).toThrow(HpackError); // size update above 4096
    expect(() => new HpackDecoder().decode(hex('82 20'))).toThrow(HpackError); // size update after a field
    const list = new HpackDecoder().decode(encodeHeaders(fields), 150);
    expect([list.truncated, list.fields]).toEqual([true, [':status', '200', 'content-type', 'application/grpc']]);
  });
});

// --- a server of H2Connections, a node:http2 client

const servers: net.Server[] = [];
const clients: http2.ClientHttp2Session[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) s.close();
});

async function serve(onStream: (s: H2Stream, c: H2Connection) => void, opts: H2ServerOptions = {}): Promise<{ port: number; conns: H2Connection[] }> {
  const conns: H2Connection[] = [];
  const server = net.createServer((socket) => {
    const c: H2Connection = new H2Connection(socket, (s) => onStream(s, c), opts);
    conns.push(c);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, conns };
}

function connect(port: number, settings: http2.Settings = {}): http2.ClientHttp2Session {
  const c = http2.connect(`http://127.0.0.1:${port}`, { settings });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

function collect(req: http2.ClientHttp2Stream): Promise<{ headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders; code: number }> {
  return new Promise((resolve) => {
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('error', () => {});
    req.on('close', () => resolve({ headers, body: Buffer.concat(chunks), trailers, code: req.rstCode ?? 0 }));
  });
}

const until = async (f: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('H2Connection', () => {
  it('keeps to a 100-byte client window and a 16 KiB frame size, sending 200 KB in order', async () => {
    const body = Buffer.alloc(200_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const { port } = await serve((s) => {
      s.onend = () => {
        s.respond(OK);
        for (let off = 0; off < body.length; off += 7000) s.write(body.subarray(off, off + 7000));
        s.end(encodeHeaders([['x-done', 'yes']]));
      };
    });
    const c = connect(port, { initialWindowSize: 100 });
    const r = await collect(c.request({ ':method': 'POST', ':path': '/' }, { endStream: true }));
    expect(r.headers[':status']).toBe(200);
    expect(r.body.equals(body)).toBe(true);
    expect(r.trailers['x-done']).toBe('yes');
  });

  it('answer(): headers, one DATA and trailers, whole, or within a 10-byte window, or with a block over the frame size', async () => {
    const body = Buffer.from('0123456789abcdefghij');
    const { port } = await serve((s) => {
      s.onend = () => s.answer(encodeHeaders([[':status', '200'], ['x-big', s.header('x-want') ?? '']]), body, encodeHeaders([['x-done', 'yes']]));
    });
    for (const [settings, want] of [[{}, ''], [{ initialWindowSize: 10 }, ''], [{}, 'w'.repeat(40_000)]] as const) {
      const c = connect(port, settings);
      const r = await collect(c.request({ ':method': 'POST', ':path': '/', 'x-want': want }, { endStream: true }));
      expect([r.headers[':status'], r.headers['x-big'], r.body.toString(), r.trailers['x-done'], r.code]).toEqual([200, want, body.toString(), 'yes', 0]);
    }
  });

  it('writeAll: pieces cut into frames of the client\'s size, a large turn written early; nothing sent when the windows are short', async () => {
    const pieces = Array.from({ length: 50 }, (_, i) => Buffer.alloc(3001, i)); // 150 KB, past EARLY_WRITE_BYTES
    const body = Buffer.concat(pieces);
    const taken: boolean[] = [];
    const writesInTurn: number[] = [];
    const { port } = await serve((s, c) => {
      s.onend = () => {
        let writes = 0;
        const write = c.socket.write.bind(c.socket) as (b: Buffer) => boolean;
        c.socket.write = ((b: Buffer) => (writes++, write(b))) as typeof c.socket.write;
        s.respond(OK);
        taken.push(s.writeAll(pieces, body.length));
        taken.push(s.writeAll([Buffer.from('tail')], 4));
        writesInTurn.push(writes); // before the turn's flush
        s.end();
      };
    });
    const c = connect(port, { initialWindowSize: 1 << 20 });
    await new Promise((r) => c.once('remoteSettings', r));
    c.setLocalWindowSize(1 << 20);
    const r = await collect(c.request({ ':method': 'POST', ':path': '/' }, { endStream: true }));
    expect(taken).toEqual([true, true]);
    expect(r.body.equals(Buffer.concat([body, Buffer.from('tail')]))).toBe(true);
    expect(writesInTurn[0]).toBeGreaterThan(0);

    // the client's 65,535-byte windows: writeAll takes nothing, write() queues it in order
    const { port: port2 } = await serve((s) => {
      s.onend = () => {
        s.respond(OK);
        taken.push(s.writeAll(pieces, body.length));
        s.write(body);
        s.end();
      };
    });
    const r2 = await collect(connect(port2).request({ ':method': 'POST', ':path': '/' }, { endStream: true }));
    expect(taken[2]).toBe(false);
    expect(r2.body.equals(body)).toBe(true);
  });

  it('flushSoon: the output is written once the microtasks queued before it ran, in one write, before the turn ends', async () => {
    const seen: string[] = [];
    const { port } = await serve((s, c) => {
      s.onend = () => {
        const write = c.socket.write.bind(c.socket) as (b: Buffer) => boolean;
        c.socket.write = ((b: Buffer) => (seen.push('write'), write(b))) as typeof c.socket.write;
        setImmediate(() => seen.push('immediate'));
        s.respond(OK);
        queueMicrotask(() => (s.writeAll([Buffer.from('two')], 3), s.end(), seen.push('microtask')));
        s.flushSoon();
        s.flushSoon();
        s.writeAll([Buffer.from('one')], 3);
        queueMicrotask(() => seen.push('next microtask'));
      };
    });
    const r = await collect(connect(port).request({ ':method': 'POST', ':path': '/' }, { endStream: true }));
    expect(r.body.toString()).toBe('onetwo');
    expect(seen).toEqual(['microtask', 'write', 'next microtask', 'immediate']);
  });

  it('stops the client at the stream window until the application consumes, then takes the rest', async () => {
    let received = 0;
    let stream: H2Stream | undefined;
    const { port } = await serve((s) => {
      stream = s;
      s.ondata = (c) => (received += c.length); // not consumed yet
      s.onend = () => {
        s.respond(OK);
        s.end();
      };
    });
    const c = connect(port);
    const req = c.request({ ':method': 'POST', ':path': '/' });
    const done = collect(req);
    req.end(Buffer.alloc(3 * STREAM_WINDOW));
    await until(() => received >= STREAM_WINDOW);
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toBe(STREAM_WINDOW); // the client may not send more
    stream!.ondata = (ch) => {
      received += ch.length;
      stream!.consume(ch.length);
    };
    stream!.consume(STREAM_WINDOW);
    const r = await done;
    expect([r.headers[':status'], received]).toEqual([200, 3 * STREAM_WINDOW]);
  });

  it('reads headers continued in CONTINUATION frames and sends a block larger than a frame in them', async () => {
    const big = 'v'.repeat(40_000);
    const { port } = await serve((s) => {
      s.respond(encodeHeaders([[':status', '200'], ['x-echo', s.header('x-big') ?? '']]));
      s.end();
    });
    const c = connect(port);
    const r = await collect(c.request({ ':method': 'GET', ':path': '/', 'x-big': big }, { endStream: true }));
    expect(r.headers['x-echo']).toBe(big);
  });

  it('tells the application of a client RST_STREAM mid-stream, and drops its queued output', async () => {
    let resetCode = -1;
    let serverStream: H2Stream | undefined;
    const { port } = await serve((s) => {
      serverStream = s;
      s.respond(OK);
      s.write(Buffer.from('first'));
      s.onreset = (code) => (resetCode = code);
    });
    const c = connect(port);
    const req = c.request({ ':method': 'POST', ':path': '/' });
    await new Promise((r) => req.once('data', r));
    req.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => resetCode >= 0);
    expect(resetCode).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(serverStream!.closed).toBe(true);
    expect(serverStream!.write(Buffer.from('late'))).toBe(true); // a no-op now
  });

  it('drains on shutdown: GOAWAY, the open stream finishes, a new one is refused, then the socket closes', async () => {
    const open: H2Stream[] = [];
    const { port, conns } = await serve((s) => {
      open.push(s);
    });
    const c = connect(port);
    const first = c.request({ ':method': 'POST', ':path': '/a' }, { endStream: true });
    const firstDone = collect(first);
    await until(() => open.length === 1);
    const goaway = new Promise<number>((r) => c.once('goaway', (code: number) => r(code)));
    conns[0]!.shutdown();
    expect(await goaway).toBe(0);
    open[0]!.respond(OK);
    open[0]!.end();
    expect((await firstDone).headers[':status']).toBe(200);
    await new Promise<void>((r) => (c.closed ? r() : c.once('close', r)));
    expect(open.length).toBe(1);
  });

  it('resets a stream whose header list is over the limit', async () => {
    const { port } = await serve((s) => {
      s.respond(OK, true);
    }, { maxHeaderListSize: 1000 });
    const c = connect(port);
    const r = await collect(c.request({ ':method': 'GET', ':path': '/', 'x-big': 'x'.repeat(2000) }, { endStream: true }));
    expect(r.code).toBe(http2.constants.NGHTTP2_FRAME_SIZE_ERROR);
    const ok = await collect(c.request({ ':method': 'GET', ':path': '/' }, { endStream: true }));
    expect(ok.headers[':status']).toBe(200);
  });
});

// --- raw frames, for what node:http2's client will not send

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
function rawFrame(type: number, flags: number, sid: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(sid, 5);
  payload.copy(b, 9);
  return b;
}

/** Send `bytes` after the preface and an empty SETTINGS; resolve with the GOAWAY's code and debug text. */
async function goawayAfter(port: number, bytes: Buffer[]): Promise<{ code: number; debug: string }> {
  const s = net.connect(port, '127.0.0.1');
  s.write(Buffer.concat([PREFACE, rawFrame(4, 0, 0), ...bytes]));
  let buf = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let p = 0; p + 9 <= buf.length;) {
        const len = buf.readUIntBE(p, 3);
        if (p + 9 + len > buf.length) break;
        if (buf[p + 3] === 7) {
          s.destroy();
          return resolve({ code: buf.readUInt32BE(p + 13), debug: buf.toString('latin1', p + 17, p + 9 + len) });
        }
        p += 9 + len;
      }
    });
    s.on('close', () => reject(new Error('closed without GOAWAY')));
  });
}

describe('H2Connection limits', () => {
  it('ends a connection that pings more often than the minimum time (grpc-go: too_many_pings)', async () => {
    const { port } = await serve(() => {}, { pingMinTimeMs: 60_000 });
    const pings = [1, 2, 3, 4].map((i) => rawFrame(6, 0, 0, Buffer.alloc(8, i)));
    expect(await goawayAfter(port, pings)).toEqual({ code: 0xb, debug: 'too_many_pings' });
    // one at a time, each after our ack of the one before: the acks forgive nothing
    const sock = net.connect(port, '127.0.0.1');
    sock.write(Buffer.concat([PREFACE, rawFrame(4, 0, 0), pings[0]!]));
    let acks = 0;
    let goaway = false;
    sock.on('data', (d: Buffer) => {
      for (let p = 0; p + 9 <= d.length; p += 9 + d.readUIntBE(p, 3)) {
        if (d[p + 3] === 6 && d[p + 4] === 1 && ++acks < 4) sock.write(pings[acks]!);
        if (d[p + 3] === 7) goaway = true;
      }
    });
    await new Promise<void>((r) => sock.once('close', () => r()));
    expect([acks, goaway]).toEqual([4, true]);
  });

  it('ends a connection that opens and resets streams faster than nghttp2 allows (rapid reset)', async () => {
    const { port } = await serve(() => {});
    const frames: Buffer[] = [];
    const headers = encodeHeaders([[':method', 'POST'], [':path', '/'], [':scheme', 'http'], [':authority', 'x']]);
    for (let id = 1; id < 2 * 1100; id += 2) frames.push(rawFrame(1, 4, id, headers), rawFrame(3, 0, id, Buffer.from([0, 0, 0, 8])));
    expect(await goawayAfter(port, frames)).toEqual({ code: 0xb, debug: 'too_many_resets' });
  });

  it('refuses a stream over --max-concurrent-streams (REFUSED_STREAM), the open one unharmed', async () => {
    const open: H2Stream[] = [];
    const { port } = await serve((s) => open.push(s), { maxConcurrentStreams: 1 });
    const sock = net.connect(port, '127.0.0.1');
    const headers = encodeHeaders([[':method', 'POST'], [':path', '/'], [':scheme', 'http'], [':authority', 'x']]);
    sock.write(Buffer.concat([PREFACE, rawFrame(4, 0, 0), rawFrame(1, 4, 1, headers), rawFrame(1, 4, 3, headers)]));
    let buf = Buffer.alloc(0);
    const rst = await new Promise<[number, number]>((resolve) => sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let p = 0; p + 9 <= buf.length; p += 9 + buf.readUIntBE(p, 3)) {
        if (buf[p + 3] === 3 && p + 13 <= buf.length) resolve([buf.readUInt32BE(p + 5), buf.readUInt32BE(p + 9)]);
      }
    }));
    sock.destroy();
    expect(rst).toEqual([3, http2.constants.NGHTTP2_REFUSED_STREAM]);
    expect(open.map((s) => s.id)).toEqual([1]);
  });

  it('pings an idle connection (--grpc-keepalive-interval) and closes it when the ping goes unanswered', async () => {
    const { port } = await serve(() => {}, { keepaliveIntervalMs: 50, keepaliveTimeoutMs: 50 });
    const answering = connect(port); // node:http2 answers pings
    const silent = net.connect(port, '127.0.0.1');
    silent.write(Buffer.concat([PREFACE, rawFrame(4, 0, 0)]));
    let pinged = false;
    silent.on('data', (d: Buffer) => (pinged ||= d.includes(Buffer.from([0, 0, 8, 6, 0, 0, 0, 0, 0]))));
    await new Promise<void>((r) => silent.once('close', () => r()));
    expect(pinged).toBe(true);
    expect(answering.closed || answering.destroyed).toBe(false);
  });

  it('ends a connection that floods SETTINGS (nghttp2\'s 1000 acks owed, 32 entries a frame)', async () => {
    const { port } = await serve(() => {});
    expect(await goawayAfter(port, Array.from({ length: 1100 }, () => rawFrame(4, 0, 0)))).toEqual({ code: 0xb, debug: 'too_many_acks' });
    expect(await goawayAfter(port, [rawFrame(4, 0, 0, Buffer.alloc(6 * 33))])).toEqual({ code: 0xb, debug: 'too_many_settings' });
  });

  it('answers a malformed frame with a connection error', async () => {
    const { port } = await serve(() => {});
    expect((await goawayAfter(port, [rawFrame(6, 0, 0, Buffer.alloc(7))])).code).toBe(0x6); // PING of 7 bytes
    expect((await goawayAfter(port, [rawFrame(1, 4, 1, Buffer.from([0xff]))])).code).toBe(0x9); // bad HPACK
    expect((await goawayAfter(port, [rawFrame(1, 0, 1, Buffer.from([0x82])), rawFrame(6, 0, 0, Buffer.alloc(8))])).code).toBe(0x1); // no CONTINUATION
  });
});
