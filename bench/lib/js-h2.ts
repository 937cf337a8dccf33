// A minimal HTTP/2 server (RFC 9113) over a plain net.Socket, specialised for unary gRPC calls: the
// probe of issue 21 (bench/h2-probe.ts) measures what node:http2 costs per call against it.
//
// Per connection: the client preface; our SETTINGS (stream window STREAM_WINDOW) and one large
// connection WINDOW_UPDATE, topped up at half; SETTINGS, PING, WINDOW_UPDATE, RST_STREAM and GOAWAY
// from the client; HEADERS + CONTINUATION decoded with HPACK (h2-hpack.ts), DATA gathered to
// END_STREAM. A call is one gRPC message (5-byte frame, uncompressed) handed to the handler with its
// :path; the reply is HEADERS (:status 200, content-type, encoded once), DATA within the client's
// connection and stream windows (the rest waits for its WINDOW_UPDATE), trailers (grpc-status) with
// END_STREAM. All a connection sends in one event-loop turn goes out in one socket.write.
// Not here: TLS/ALPN, HTTP/1, server streams, compression, deadlines (grpc-timeout), header list limits.
import * as net from 'node:net';
import { HpackError } from '../../src/platform/hpack.js';
import { HpackReader, literalBlock } from './h2-hpack.js';

/** Answers one call: status 0 with one framed message, or another grpc-status and its message. */
export type Reply = (status: number, framed?: Buffer, message?: string) => void;
export type UnaryHandler = (path: string, message: Buffer, reply: Reply) => void;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const DATA = 0x0, HEADERS = 0x1, RST_STREAM = 0x3, SETTINGS = 0x4, PING = 0x6, GOAWAY = 0x7, WINDOW_UPDATE = 0x8, CONTINUATION = 0x9;
const END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY = 0x20;
const NO_ERROR = 0x0, PROTOCOL_ERROR = 0x1, FLOW_CONTROL_ERROR = 0x3, FRAME_SIZE_ERROR = 0x6, COMPRESSION_ERROR = 0x9;

const FRAME_MAX = 16_384; // our SETTINGS_MAX_FRAME_SIZE: the default
const STREAM_WINDOW = 1 << 24; // our SETTINGS_INITIAL_WINDOW_SIZE
const CONN_WINDOW = 1 << 30; // our connection window, topped up when half is used
const MESSAGE_MAX = 4 << 20; // a call's request bytes (grpc's default); below STREAM_WINDOW
const HEADER_BLOCK_MAX = 64 << 10;
const WINDOW_LIMIT = 2 ** 31 - 1;

const OK_HEADERS = literalBlock([['content-type', 'application/grpc']], true);
const OK_TRAILERS = literalBlock([['grpc-status', '0'], ['grpc-message', '']]);

interface Stream { id: number; path: string; chunks: Buffer[]; size: number; window: number; remoteDone: boolean; pending: Buffer | null }

function header(b: Buffer, p: number, len: number, type: number, flags: number, sid: number): number {
  b.writeUIntBE(len, p, 3);
  b[p + 3] = type;
  b[p + 4] = flags;
  b.writeUInt32BE(sid, p + 5);
  return p + 9;
}

function frame(type: number, flags: number, sid: number, payload?: Buffer): Buffer {
  const b = Buffer.allocUnsafe(9 + (payload?.length ?? 0));
  const p = header(b, 0, payload?.length ?? 0, type, flags, sid);
  payload?.copy(b, p);
  return b;
}

const u32 = (v: number): Buffer => Buffer.from([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
const SERVER_PREFACE = Buffer.concat([
  frame(SETTINGS, 0, 0, Buffer.concat([Buffer.from([0, 4]), u32(STREAM_WINDOW)])),
  frame(WINDOW_UPDATE, 0, 0, u32(CONN_WINDOW - 65_535)),
]);
const SETTINGS_ACK = frame(SETTINGS, ACK, 0);

/** HEADERS, DATA and trailers of a successful call in one buffer. */
function okReply(sid: number, framed: Buffer): Buffer {
  const b = Buffer.allocUnsafe(27 + OK_HEADERS.length + framed.length + OK_TRAILERS.length);
  let p = header(b, 0, OK_HEADERS.length, HEADERS, END_HEADERS, sid);
  p += OK_HEADERS.copy(b, p);
  p = header(b, p, framed.length, DATA, 0, sid);
  p += framed.copy(b, p);
  p = header(b, p, OK_TRAILERS.length, HEADERS, END_HEADERS | END_STREAM, sid);
  OK_TRAILERS.copy(b, p);
  return b;
}

// connections with output this turn, written together on the next setImmediate
const dirty: Connection[] = [];
let flushScheduled = false;
function flushAll(): void {
  flushScheduled = false;
  for (const c of dirty.splice(0)) c.flush();
}

class Connection {
  private buf: Buffer | null = null;
  private preface = false;
  private readonly hpack = new HpackReader();
  private readonly streams = new Map<number, Stream>();
  private readonly blocked = new Set<Stream>();
  private lastId = 0;
  private sendWindow = 65_535; // the client's connection window for our DATA
  private peerWindow = 65_535; // the client's SETTINGS_INITIAL_WINDOW_SIZE
  private peerFrameMax = 16_384;
  private recvWindow = CONN_WINDOW;
  private unacked = 0; // DATA bytes since our last connection WINDOW_UPDATE
  private contId = 0; // the stream whose header block continues in CONTINUATION frames
  private contBlocks: Buffer[] = [];
  private contSize = 0;
  private contEnd = false;
  private out: Buffer[] = [];
  private queued = false;
  private closed = false;
  private peerGoaway = false;

  constructor(private readonly socket: net.Socket, private readonly handler: UnaryHandler) {
    socket.on('data', (c: Buffer) => this.onBytes(c));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
      this.streams.clear();
      this.blocked.clear();
    });
    this.send(SERVER_PREFACE);
  }

  private onBytes(chunk: Buffer): void {
    if (this.closed) return;
    const b = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    let p = 0;
    if (!this.preface) {
      if (b.length < PREFACE.length) return void (this.buf = b);
      if (!b.subarray(0, PREFACE.length).equals(PREFACE)) return this.fail(PROTOCOL_ERROR);
      this.preface = true;
      p = PREFACE.length;
    }
    try {
      while (b.length - p >= 9) {
        const len = b.readUIntBE(p, 3);
        if (len > FRAME_MAX) return this.fail(FRAME_SIZE_ERROR);
        if (b.length - p - 9 < len) break;
        const payload = b.subarray(p + 9, p + 9 + len);
        this.onFrame(b[p + 3]!, b[p + 4]!, b.readUInt32BE(p + 5) & 0x7fffffff, payload);
        p += 9 + len;
        if (this.closed) return;
      }
    } catch (e) {
      if (e instanceof HpackError) return this.fail(COMPRESSION_ERROR);
      throw e;
    }
    this.buf = p < b.length ? b.subarray(p) : null;
  }

  private onFrame(type: number, flags: number, sid: number, p: Buffer): void {
    if (this.contId !== 0 && type !== CONTINUATION) return this.fail(PROTOCOL_ERROR);
    switch (type) {
      case DATA: return this.onData(flags, sid, p);
      case HEADERS: return this.onHeaders(flags, sid, p);
      case CONTINUATION: return this.onContinuation(flags, sid, p);
      case RST_STREAM: return this.onReset(sid, p);
      case SETTINGS: return this.onSettings(flags, sid, p);
      case PING: return this.onPing(flags, sid, p);
      case GOAWAY: return this.onGoaway();
      case WINDOW_UPDATE: return this.onWindowUpdate(sid, p);
      default: return; // PRIORITY and unknown types are ignored (RFC 9113 5.5)
    }
  }

  private onHeaders(flags: number, sid: number, p: Buffer): void {
    if (sid === 0 || (sid & 1) === 0) return this.fail(PROTOCOL_ERROR);
    let off = 0;
    let end = p.length;
    if (flags & PADDED) [off, end] = [1, end - (p[0] ?? end)];
    if (flags & PRIORITY) off += 5;
    if (off > end) return this.fail(PROTOCOL_ERROR);
    const block = p.subarray(off, end);
    const endStream = (flags & END_STREAM) !== 0;
    if (flags & END_HEADERS) return this.onHeaderBlock(sid, block, endStream);
    [this.contId, this.contBlocks, this.contSize, this.contEnd] = [sid, [block], block.length, endStream];
  }

  private onContinuation(flags: number, sid: number, p: Buffer): void {
    if (sid === 0 || sid !== this.contId) return this.fail(PROTOCOL_ERROR);
    this.contBlocks.push(p);
    this.contSize += p.length;
    if (this.contSize > HEADER_BLOCK_MAX) return this.fail(PROTOCOL_ERROR);
    if ((flags & END_HEADERS) === 0) return;
    const block = Buffer.concat(this.contBlocks);
    [this.contId, this.contBlocks] = [0, []];
    this.onHeaderBlock(sid, block, this.contEnd);
  }

  private onHeaderBlock(sid: number, block: Buffer, endStream: boolean): void {
    const fields = this.hpack.decode(block); // always: our table must follow the client's encoder
    const known = this.streams.get(sid);
    if (known !== undefined) { // the request's trailers
      if (!endStream || known.remoteDone) return this.fail(PROTOCOL_ERROR);
      return this.onRequestEnd(known);
    }
    if (sid <= this.lastId) return; // a stream we answered or reset: its late trailers
    this.lastId = sid;
    let path = '';
    for (let i = 0; i < fields.length; i += 2) if (fields[i] === ':path') path = fields[i + 1]!;
    const s: Stream = { id: sid, path, chunks: [], size: 0, window: this.peerWindow, remoteDone: false, pending: null };
    this.streams.set(sid, s);
    if (endStream) this.onRequestEnd(s);
  }

  private onData(flags: number, sid: number, p: Buffer): void {
    if (sid === 0) return this.fail(PROTOCOL_ERROR);
    this.recvWindow -= p.length;
    if (this.recvWindow < 0) return this.fail(FLOW_CONTROL_ERROR);
    this.unacked += p.length;
    if (this.unacked >= CONN_WINDOW / 2) {
      this.send(frame(WINDOW_UPDATE, 0, 0, u32(this.unacked)));
      this.recvWindow += this.unacked;
      this.unacked = 0;
    }
    const s = this.streams.get(sid);
    if (s === undefined || s.remoteDone) return; // answered early, or reset: the rest is dropped
    const [off, end] = flags & PADDED ? [1, p.length - (p[0] ?? p.length)] : [0, p.length];
    if (off > end) return this.fail(PROTOCOL_ERROR);
    if (end > off) s.chunks.push(p.subarray(off, end));
    s.size += end - off;
    if (s.size > MESSAGE_MAX) return this.reply(s, 8, undefined, `request larger than ${MESSAGE_MAX} bytes`);
    if (flags & END_STREAM) this.onRequestEnd(s);
  }

  private onRequestEnd(s: Stream): void {
    s.remoteDone = true;
    const body = s.chunks.length === 1 ? s.chunks[0]! : Buffer.concat(s.chunks);
    s.chunks = [];
    if (body.length < 5 || body.readUInt32BE(1) !== body.length - 5) return this.reply(s, 13, undefined, 'not one message');
    if (body[0] !== 0) return this.reply(s, 12, undefined, 'compressed messages are not served');
    this.handler(s.path, body.subarray(5), (status, framed, message) => this.reply(s, status, framed, message));
  }

  private reply(s: Stream, status: number, framed?: Buffer, message = ''): void {
    if (this.closed || this.streams.get(s.id) !== s) return; // reset by the client, or gone
    if (status !== 0 || framed === undefined) {
      this.streams.delete(s.id);
      const trailers = literalBlock([['grpc-status', String(status)], ['grpc-message', encodeURIComponent(message)]]);
      this.send(frame(HEADERS, END_HEADERS | END_STREAM, s.id, Buffer.concat([OK_HEADERS, trailers])));
      if (!s.remoteDone) this.send(frame(RST_STREAM, 0, s.id, u32(NO_ERROR)));
      return;
    }
    const n = framed.length;
    if (n <= this.sendWindow && n <= s.window && n <= this.peerFrameMax) {
      this.sendWindow -= n;
      this.streams.delete(s.id);
      return this.send(okReply(s.id, framed));
    }
    this.send(frame(HEADERS, END_HEADERS, s.id, OK_HEADERS));
    s.pending = framed;
    this.pump(s);
  }

  /** Send what the windows let through of `s`'s answer; its trailers once all is out. */
  private pump(s: Stream): void {
    while (s.pending !== null) {
      const n = Math.min(s.pending.length, this.sendWindow, s.window, this.peerFrameMax);
      if (n <= 0) return void this.blocked.add(s);
      this.send(frame(DATA, 0, s.id, s.pending.subarray(0, n)));
      this.sendWindow -= n;
      s.window -= n;
      s.pending = n === s.pending.length ? null : s.pending.subarray(n);
    }
    this.blocked.delete(s);
    this.streams.delete(s.id);
    this.send(frame(HEADERS, END_HEADERS | END_STREAM, s.id, OK_TRAILERS));
  }

  private unblock(): void {
    for (const s of [...this.blocked]) this.pump(s);
  }

  private onReset(sid: number, p: Buffer): void {
    if (p.length !== 4) return this.fail(FRAME_SIZE_ERROR);
    const s = this.streams.get(sid);
    if (s === undefined) return;
    this.streams.delete(sid);
    this.blocked.delete(s);
  }

  private onSettings(flags: number, sid: number, p: Buffer): void {
    if (sid !== 0) return this.fail(PROTOCOL_ERROR);
    if (flags & ACK) return;
    if (p.length % 6 !== 0) return this.fail(FRAME_SIZE_ERROR);
    for (let i = 0; i < p.length; i += 6) {
      const [id, v] = [p.readUInt16BE(i), p.readUInt32BE(i + 2)];
      if (id === 4) { // INITIAL_WINDOW_SIZE: moves every open stream's window by the difference
        if (v > WINDOW_LIMIT) return this.fail(FLOW_CONTROL_ERROR);
        for (const s of this.streams.values()) s.window += v - this.peerWindow;
        this.peerWindow = v;
      } else if (id === 5) { // MAX_FRAME_SIZE
        if (v < 16_384 || v > 16_777_215) return this.fail(PROTOCOL_ERROR);
        this.peerFrameMax = v;
      } // HEADER_TABLE_SIZE (our blocks never index), ENABLE_PUSH, MAX_CONCURRENT_STREAMS, MAX_HEADER_LIST_SIZE: nothing to do
    }
    this.send(SETTINGS_ACK);
    this.unblock();
  }

  private onPing(flags: number, sid: number, p: Buffer): void {
    if (sid !== 0) return this.fail(PROTOCOL_ERROR);
    if (p.length !== 8) return this.fail(FRAME_SIZE_ERROR);
    if ((flags & ACK) === 0) this.send(frame(PING, ACK, 0, p));
  }

  private onGoaway(): void {
    this.peerGoaway = true; // the client opens no more streams: close once the open ones are answered
    if (this.streams.size === 0) this.send(Buffer.alloc(0));
  }

  private onWindowUpdate(sid: number, p: Buffer): void {
    if (p.length !== 4) return this.fail(FRAME_SIZE_ERROR);
    const inc = p.readUInt32BE(0) & 0x7fffffff;
    if (inc === 0 && sid === 0) return this.fail(PROTOCOL_ERROR);
    if (sid === 0) {
      this.sendWindow += inc;
      if (this.sendWindow > WINDOW_LIMIT) return this.fail(FLOW_CONTROL_ERROR);
      return this.unblock();
    }
    const s = this.streams.get(sid);
    if (s === undefined) return;
    s.window += inc;
    if (s.pending !== null) this.pump(s);
  }

  /** A connection error: GOAWAY with `code`, then the socket ends. */
  private fail(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.out.push(frame(GOAWAY, 0, 0, Buffer.concat([u32(this.lastId), u32(code)])));
    this.flush();
    this.socket.end();
  }

  private send(b: Buffer): void {
    this.out.push(b);
    if (this.queued) return;
    this.queued = true;
    dirty.push(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushAll);
    }
  }

  flush(): void {
    this.queued = false;
    const out = this.out;
    this.out = [];
    if (this.socket.destroyed || out.length === 0) return;
    this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    if (this.peerGoaway && this.streams.size === 0) this.socket.end();
  }
}

/** A TCP server answering unary gRPC calls over cleartext HTTP/2 (prior knowledge) with `handler`. */
export function createJsH2Server(handler: UnaryHandler): net.Server {
  return net.createServer({ noDelay: true }, (socket) => new Connection(socket, handler));
}
