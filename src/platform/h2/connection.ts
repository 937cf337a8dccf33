// One server-side HTTP/2 connection (RFC 9113) over a socket (net.Socket or tls.TLSSocket) whose
// client preface is still unread: frames in, H2Streams out to the application (`onStream`), and all
// that the connection sends in one event-loop turn written to the socket at once.
//
// What it keeps to:
//  - SETTINGS: ours (initial window STREAM_WINDOW, max concurrent streams, header list size) first,
//    the client's acknowledged; its MAX_FRAME_SIZE, INITIAL_WINDOW_SIZE (moving every open stream's
//    window) and HEADER_TABLE_SIZE (a size update at the start of our next header block) obeyed.
//  - Flow control both ways: our receive windows (CONN_WINDOW, STREAM_WINDOW) replenished as the
//    application consumes the request data (H2Stream.consume); our DATA within the client's
//    connection and stream windows, the rest queued per stream until its WINDOW_UPDATE; DATA also
//    waits while the socket holds more than OUT_HIGH unsent bytes, and reading stops meanwhile (a
//    client that does not read gets no more answers to its pings and settings either).
//  - Header blocks through CONTINUATION into HPACK (hpack.ts); a decoded list over maxHeaderListSize
//    (grpc-go's 16 MiB) resets its stream; an encoded block over it ends the connection.
//  - PING answered; the client's ping rate held to grpc-go's policy (etcd's --grpc-keepalive-min-time:
//    more than two pings within it, with no data or headers of ours between, end the connection
//    with GOAWAY ENHANCE_YOUR_CALM "too_many_pings"); our own keepalive ping after an idle
//    keepaliveIntervalMs, the connection closed when nothing arrives within keepaliveTimeoutMs.
//  - RST_STREAM from the client cancels its stream; resets beyond nghttp2's rate (a burst of 1000,
//    then 33 a second: "rapid reset") end the connection with ENHANCE_YOUR_CALM.
//  - GOAWAY: shutdown() stops new streams and ends the socket once the open ones are done; a client's
//    GOAWAY does the same from its side.
//  - SETTINGS and PING floods: more than 1000 acks owed within one turn, or more than 32 entries in
//    one SETTINGS frame (nghttp2's limits), end the connection with ENHANCE_YOUR_CALM. Floods of
//    WINDOW_UPDATE, empty DATA or CONTINUATION frames cost what any frame costs and keep nothing;
//    a header block is bounded by maxHeaderListSize; reading pauses while OUT_HIGH bytes wait.
import type * as net from 'node:net';
import {
  ACK, CONTINUATION, DATA, DEFAULT_FRAME_MAX, DEFAULT_WINDOW, END_HEADERS, END_STREAM, ENHANCE_YOUR_CALM,
  FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, GOAWAY, HEADERS, NO_ERROR, PADDED, PING, PREFACE, PRIORITY,
  PRIORITY_FRAME, PROTOCOL_ERROR, PUSH_PROMISE, REFUSED_STREAM, RST_STREAM, SETTINGS, SETTINGS_ENABLE_PUSH,
  SETTINGS_HEADER_TABLE_SIZE, SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_FRAME_SIZE, SETTINGS_MAX_HEADER_LIST_SIZE, STREAM_CLOSED, WINDOW_LIMIT, WINDOW_UPDATE,
  COMPRESSION_ERROR, frame, frameU32, goawayFrame, settingsFrame,
} from './frame.js';
import { DECODER_TABLE_MAX, HpackDecoder, HpackError, tableSizeUpdate } from './hpack.js';
import { H2Stream, type StreamOwner } from './stream.js';
import { mark, Stage, TRACE_PUT } from '../../pkg/put-trace.js';

/** Our SETTINGS_INITIAL_WINDOW_SIZE: request bytes a stream may have unconsumed. */
export const STREAM_WINDOW = 1 << 20;
/** Our connection receive window. */
export const CONN_WINDOW = 16 << 20;
/** Unsent socket bytes above which DATA waits and reading pauses. */
export const OUT_HIGH = 1 << 20;
/** A turn's output at least this large is written without joining its large pieces (writeOut). */
const WRITEV_MIN_BYTES = 256 << 10;
/** Payloads at least this large are written as they are (not copied into a joined buffer). */
const WRITEV_PIECE_BYTES = 8 << 10;
/** A turn's output is written as soon as this much is waiting (and the socket has taken the rest). */
export const EARLY_WRITE_BYTES = 64 * 1024;
/** grpc-go's default header list limit (16 MiB). */
export const MAX_HEADER_LIST_SIZE = 16 << 20;
/** etcd's --max-concurrent-streams default (math.MaxUint32). */
export const MAX_CONCURRENT_STREAMS = 2 ** 32 - 1;
/** grpc-go: pings beyond this many strikes end the connection. */
const MAX_PING_STRIKES = 2;
/** grpc-go: with no stream open (and PermitWithoutStream off, as etcd), pings at most this often. */
const PING_WITHOUT_STREAM_MS = 2 * 60 * 60 * 1000;
/** nghttp2's max outbound acks: more SETTINGS and PING acks than this owed at once end the connection. */
const MAX_PENDING_ACKS = 1000;
/** nghttp2's max settings: entries in one SETTINGS frame. */
const MAX_SETTINGS_ENTRIES = 32;
/** nghttp2's rapid-reset limit: a bucket of 1000 client resets refilled at 33 a second. */
const RESET_BURST = 1000;
const RESET_RATE_PER_S = 33;

export interface H2ServerOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS (etcd's --max-concurrent-streams); beyond it streams are refused. */
  maxConcurrentStreams?: number;
  /** The largest request header list taken (decoded size, RFC 9113's count). */
  maxHeaderListSize?: number;
  /** --grpc-keepalive-min-time: the shortest interval a client may ping at (default 5 s). */
  pingMinTimeMs?: number;
  /** --grpc-keepalive-interval: an idle connection is pinged after this long (default 2 h). */
  keepaliveIntervalMs?: number;
  /** --grpc-keepalive-timeout: and closed when nothing arrives within this (default 20 s). */
  keepaliveTimeoutMs?: number;
  /** Time, for tests. */
  now?: () => number;
}

const SETTINGS_ACK = frame(SETTINGS, ACK, 0);

// connections with output this turn, written together on the next setImmediate
const dirty: H2Connection[] = [];
let flushScheduled = false;
function flushAll(): void {
  flushScheduled = false;
  const list = dirty.splice(0);
  for (const c of list) c.flush();
}

export class H2Connection implements StreamOwner {
  peerFrameMax = DEFAULT_FRAME_MAX;
  sendWindow = DEFAULT_WINDOW;
  /** Streams the client has open (by id). */
  readonly streams = new Map<number, H2Stream>();
  /** Called once the socket is closed. */
  onclose: (() => void) | undefined;
  private buf: Buffer | null = null;
  private preface = false;
  private readonly hpack = new HpackDecoder();
  private readonly blocked = new Set<H2Stream>();
  private lastId = 0;
  private peerInitialWindow = DEFAULT_WINDOW;
  private recvWindow = DEFAULT_WINDOW;
  private unacked = 0;
  private contId = 0; // the stream whose header block continues in CONTINUATION frames
  private contBlocks: Buffer[] = [];
  private contSize = 0;
  private contEnd = false;
  private out: Buffer[] = [];
  private outBytes = 0;
  private queued = false;
  private dead = false;
  private goingAway = false;
  private peerGoaway = false;
  private tablePrefix: Buffer | undefined;
  private encoderTableMax = DECODER_TABLE_MAX;
  private readonly maxStreams: number;
  private readonly maxListSize: number;
  private readonly pingMinTimeMs: number;
  private readonly now: () => number;
  private pingStrikes = 0;
  private lastPingAt = 0;
  private resetPingStrikes = false;
  private resetTokens = RESET_BURST;
  private resetRefillAt: number;
  private readPaused = false;
  private lastReadAt: number;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private pingOutstanding = false;
  /** SETTINGS and PING acks queued since the last flush. */
  private pendingAcks = 0;
  /** Output of this turn was written before its flush (EARLY_WRITE_BYTES). */
  private wroteEarly = false;
  /** A microtask flush is queued (flushSoon). */
  private flushSoonQueued = false;

  constructor(
    readonly socket: net.Socket,
    private readonly onStream: (s: H2Stream) => void,
    private readonly opts: H2ServerOptions = {},
  ) {
    this.maxStreams = opts.maxConcurrentStreams ?? MAX_CONCURRENT_STREAMS;
    this.maxListSize = opts.maxHeaderListSize ?? MAX_HEADER_LIST_SIZE;
    this.pingMinTimeMs = opts.pingMinTimeMs ?? 5000;
    this.now = opts.now ?? Date.now;
    this.resetRefillAt = this.now();
    this.lastReadAt = this.now();
    socket.on('data', (c: Buffer) => this.onBytes(c));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onSocketClose());
    socket.on('drain', () => this.onDrain());
    const settings: [number, number][] = [
      [SETTINGS_MAX_CONCURRENT_STREAMS, this.maxStreams],
      [SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW],
      [SETTINGS_MAX_HEADER_LIST_SIZE, this.maxListSize],
    ];
    this.send(settingsFrame(settings));
    this.send(frameU32(WINDOW_UPDATE, 0, CONN_WINDOW - DEFAULT_WINDOW));
    this.recvWindow = CONN_WINDOW;
    this.armKeepalive();
  }

  /** Graceful close: GOAWAY, no new streams, the socket ended once the open streams are done. */
  shutdown(): void {
    if (this.dead || this.goingAway) return;
    this.goingAway = true;
    this.send(goawayFrame(this.lastId, NO_ERROR));
    this.endIfIdle();
  }

  /** Close now: open streams are reset (their owners see onreset). */
  destroy(): void {
    this.socket.destroy();
  }

  // --- StreamOwner

  send(b: Buffer): void {
    if (this.dead) return;
    this.out.push(b);
    this.outBytes += b.length;
    if (this.outBytes >= EARLY_WRITE_BYTES && this.socket.writableLength === 0 && !this.socket.destroyed) {
      // a large turn's output goes as it is made: the client reads it while the rest is made
      this.writeNow(true);
      this.wroteEarly = true;
    }
    if (this.queued) return;
    this.queued = true;
    dirty.push(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushAll);
    }
  }

  congested(): boolean {
    return this.outBytes + this.socket.writableLength > OUT_HIGH;
  }

  block(s: H2Stream): void {
    this.blocked.add(s);
  }

  takeTablePrefix(): Buffer | undefined {
    const p = this.tablePrefix;
    this.tablePrefix = undefined;
    this.resetPingStrikes = true; // grpc-go: headers or data from the server forgive the client's pings
    return p;
  }

  dataSent(): void {
    this.resetPingStrikes = true; // grpc-go: data from the server forgives the client's pings
  }

  /**
   * Watch events: written as soon as the microtasks queued so far have run (the other watch streams
   * of the same apply frame theirs meanwhile), not after everything else the turn does (the put's
   * own answer, the rest of the Ready loop) has run. Still one write for all of them.
   */
  flushSoon(): void {
    if (this.flushSoonQueued) return;
    this.flushSoonQueued = true;
    queueMicrotask(this.flushNow);
  }

  private readonly flushNow = (): void => {
    this.flushSoonQueued = false;
    if (this.queued) this.flush();
  };

  consumed(n: number): void {
    this.unacked += n;
    if (this.unacked >= CONN_WINDOW / 2) {
      this.recvWindow += this.unacked;
      this.send(frameU32(WINDOW_UPDATE, 0, this.unacked));
      this.unacked = 0;
    }
  }

  closed(s: H2Stream): void {
    if (this.streams.get(s.id) === s) this.streams.delete(s.id);
    this.blocked.delete(s);
    if (this.streams.size === 0) this.endIfIdle();
  }

  windowUpdate(sid: number, n: number): void {
    this.send(frameU32(WINDOW_UPDATE, sid, n));
  }

  // --- output

  flush(): void {
    this.queued = false;
    const early = this.wroteEarly;
    this.wroteEarly = false;
    if (this.socket.destroyed || (this.out.length === 0 && !early)) {
      this.out = [];
      this.outBytes = 0;
      this.pendingAcks = 0;
      return;
    }
    if (this.out.length > 0) this.writeNow(false);
    if (this.dead || ((this.goingAway || this.peerGoaway) && this.streams.size === 0)) this.socket.end();
    else if (!this.readPaused && this.socket.writableLength > OUT_HIGH) {
      this.readPaused = true; // the client is not reading: read nothing more of it until it does
      this.socket.pause();
    } else if (this.blocked.size > 0) {
      this.unblock(); // streams held back by this turn's output alone: the socket took it (no 'drain' comes)
    }
  }

  /** The output queued so far, written now (`early`: before the turn's flush). */
  private writeNow(early: boolean): void {
    const out = this.out;
    const bytes = this.outBytes;
    this.out = [];
    this.outBytes = 0;
    this.pendingAcks = 0;
    this.writeOut(out, bytes, early);
  }

  /**
   * One socket write of the turn's frames; when they hold large DATA payloads, those go as they are
   * (the small frames between them joined) in one corked writev, instead of copying it all; an early
   * write (EARLY_WRITE_BYTES) always so.
   */
  private writeOut(out: Buffer[], bytes: number, early: boolean): void {
    const s = this.socket;
    if (TRACE_PUT) mark(Stage.sockWrite);
    if (out.length === 1 || (bytes < WRITEV_MIN_BYTES && !early)) return void s.write(out.length === 1 ? out[0]! : Buffer.concat(out, bytes));
    s.cork();
    let run: Buffer[] = [];
    let runBytes = 0;
    for (const b of out) {
      if (b.length < WRITEV_PIECE_BYTES) {
        run.push(b);
        runBytes += b.length;
        continue;
      }
      if (run.length > 0) s.write(run.length === 1 ? run[0]! : Buffer.concat(run, runBytes));
      run = [];
      runBytes = 0;
      s.write(b);
    }
    if (run.length > 0) s.write(run.length === 1 ? run[0]! : Buffer.concat(run, runBytes));
    s.uncork();
  }

  private onDrain(): void {
    if (this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
    this.unblock();
  }

  private unblock(): void {
    for (const s of this.blocked) {
      if (this.congested()) return;
      if (s.pump()) this.blocked.delete(s);
    }
  }

  private endIfIdle(): void {
    if ((this.goingAway || this.peerGoaway) && this.streams.size === 0 && !this.queued) this.send(Buffer.alloc(0));
  }

  // --- input

  private onBytes(chunk: Buffer): void {
    if (this.dead) return;
    if (TRACE_PUT) mark(Stage.recv);
    this.lastReadAt = this.now();
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
        const len = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
        if (len > DEFAULT_FRAME_MAX) return this.fail(FRAME_SIZE_ERROR); // our SETTINGS_MAX_FRAME_SIZE
        if (b.length - p - 9 < len) break;
        this.onFrame(b[p + 3]!, b[p + 4]!, b.readUInt32BE(p + 5) & 0x7fffffff, b.subarray(p + 9, p + 9 + len));
        p += 9 + len;
        if (this.dead) return;
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
      case GOAWAY: return this.onGoaway(sid);
      case WINDOW_UPDATE: return this.onWindowUpdate(sid, p);
      case PRIORITY_FRAME:
        if (sid === 0) return this.fail(PROTOCOL_ERROR);
        if (p.length !== 5) return this.fail(FRAME_SIZE_ERROR);
        return;
      case PUSH_PROMISE: return this.fail(PROTOCOL_ERROR); // clients do not push
      default: return; // unknown types are ignored (RFC 9113 5.5)
    }
  }

  private onHeaders(flags: number, sid: number, p: Buffer): void {
    if (sid === 0 || (sid & 1) === 0) return this.fail(PROTOCOL_ERROR);
    let off = 0;
    let end = p.length;
    if (flags & PADDED) {
      if (p.length < 1) return this.fail(PROTOCOL_ERROR);
      off = 1;
      end -= p[0]!;
    }
    if (flags & PRIORITY) off += 5;
    if (off > end) return this.fail(PROTOCOL_ERROR);
    const block = p.subarray(off, end);
    const endStream = (flags & END_STREAM) !== 0;
    if (flags & END_HEADERS) return this.onHeaderBlock(sid, block, endStream);
    this.contId = sid;
    this.contBlocks = [block];
    this.contSize = block.length;
    this.contEnd = endStream;
  }

  private onContinuation(flags: number, sid: number, p: Buffer): void {
    if (sid === 0 || sid !== this.contId) return this.fail(PROTOCOL_ERROR);
    this.contSize += p.length;
    // the encoded block is never larger than a list we take (HPACK only shrinks): a flood
    if (this.contSize > this.maxListSize) return this.fail(ENHANCE_YOUR_CALM, 'header block too large');
    if (p.length > 0) this.contBlocks.push(p);
    if ((flags & END_HEADERS) === 0) return;
    const block = this.contBlocks.length === 1 ? this.contBlocks[0]! : Buffer.concat(this.contBlocks);
    this.contId = 0;
    this.contBlocks = [];
    this.onHeaderBlock(sid, block, this.contEnd);
  }

  private onHeaderBlock(sid: number, block: Buffer, endStream: boolean): void {
    const list = this.hpack.decode(block, this.maxListSize); // always: our table follows the client's encoder
    const known = this.streams.get(sid);
    if (known !== undefined) { // the request's trailers
      if (!endStream || known.remoteEnded) return this.fail(PROTOCOL_ERROR);
      return this.remoteEnd(known);
    }
    if (sid <= this.lastId) return; // a stream that is closed here: late frames are dropped
    this.lastId = sid;
    if (this.goingAway) return void this.send(frameU32(RST_STREAM, sid, REFUSED_STREAM));
    if (list.truncated) return void this.send(frameU32(RST_STREAM, sid, FRAME_SIZE_ERROR)); // as grpc-go 1.26
    if (this.streams.size >= this.maxStreams) return void this.send(frameU32(RST_STREAM, sid, REFUSED_STREAM));
    const s = new H2Stream(this, sid, list.fields, this.peerInitialWindow, STREAM_WINDOW, STREAM_WINDOW);
    s.remoteEnded = endStream; // known before the application answers (no reset after an early answer)
    this.streams.set(sid, s);
    this.onStream(s);
    if (endStream && !s.closed) s.onend?.();
  }

  private remoteEnd(s: H2Stream): void {
    s.remoteEnded = true;
    s.onend?.();
  }

  private onData(flags: number, sid: number, p: Buffer): void {
    if (sid === 0) return this.fail(PROTOCOL_ERROR);
    if (sid > this.lastId) return this.fail(PROTOCOL_ERROR); // an idle stream
    this.recvWindow -= p.length;
    if (this.recvWindow < 0) return this.fail(FLOW_CONTROL_ERROR);
    const s = this.streams.get(sid);
    let off = 0;
    let end = p.length;
    if (flags & PADDED) {
      if (p.length < 1 || p[0]! >= p.length) return this.fail(PROTOCOL_ERROR);
      off = 1;
      end -= p[0]!;
    }
    if (s === undefined || s.closed) {
      this.consumed(p.length); // a stream we reset or finished: the client had sent it already
      return;
    }
    if (s.remoteEnded) {
      this.consumed(p.length);
      return s.reset(STREAM_CLOSED);
    }
    s.recvWindow -= p.length;
    if (s.recvWindow < 0) {
      this.consumed(p.length);
      return s.reset(FLOW_CONTROL_ERROR);
    }
    // the payload counts against the windows padding and all; padding is consumed at once
    const padding = p.length - (end - off);
    s.held += p.length;
    if (end > off) s.ondata?.(p.subarray(off, end));
    if (padding > 0) s.consume(padding);
    if (flags & END_STREAM) this.remoteEnd(s);
  }

  private onReset(sid: number, p: Buffer): void {
    if (sid === 0) return this.fail(PROTOCOL_ERROR);
    if (p.length !== 4) return this.fail(FRAME_SIZE_ERROR);
    if (sid > this.lastId) return this.fail(PROTOCOL_ERROR);
    const s = this.streams.get(sid);
    if (s === undefined) return;
    const now = this.now();
    this.resetTokens = Math.min(RESET_BURST, this.resetTokens + ((now - this.resetRefillAt) / 1000) * RESET_RATE_PER_S);
    this.resetRefillAt = now;
    if (--this.resetTokens < 0) return this.fail(ENHANCE_YOUR_CALM, 'too_many_resets');
    s.close(p.readUInt32BE(0));
  }

  private onSettings(flags: number, sid: number, p: Buffer): void {
    if (sid !== 0) return this.fail(PROTOCOL_ERROR);
    if (flags & ACK) {
      if (p.length !== 0) return this.fail(FRAME_SIZE_ERROR);
      return;
    }
    if (p.length % 6 !== 0) return this.fail(FRAME_SIZE_ERROR);
    if (p.length / 6 > MAX_SETTINGS_ENTRIES) return this.fail(ENHANCE_YOUR_CALM, 'too_many_settings');
    if (++this.pendingAcks > MAX_PENDING_ACKS) return this.fail(ENHANCE_YOUR_CALM, 'too_many_acks');
    for (let i = 0; i < p.length; i += 6) {
      const id = p.readUInt16BE(i);
      const v = p.readUInt32BE(i + 2);
      if (id === SETTINGS_INITIAL_WINDOW_SIZE) {
        if (v > WINDOW_LIMIT) return this.fail(FLOW_CONTROL_ERROR);
        const delta = v - this.peerInitialWindow;
        for (const s of this.streams.values()) {
          s.window += delta;
          if (s.window > WINDOW_LIMIT) return this.fail(FLOW_CONTROL_ERROR);
        }
        this.peerInitialWindow = v;
      } else if (id === SETTINGS_MAX_FRAME_SIZE) {
        if (v < DEFAULT_FRAME_MAX || v > 16_777_215) return this.fail(PROTOCOL_ERROR);
        this.peerFrameMax = v;
      } else if (id === SETTINGS_HEADER_TABLE_SIZE) {
        // our encoder keeps no entries, but the client's decoder expects the lower size confirmed
        if (v < this.encoderTableMax) {
          this.encoderTableMax = v;
          this.tablePrefix = tableSizeUpdate(v);
        }
      } else if (id === SETTINGS_ENABLE_PUSH) {
        if (v > 1) return this.fail(PROTOCOL_ERROR);
      } // MAX_CONCURRENT_STREAMS (we open none), MAX_HEADER_LIST_SIZE (advisory), unknown: ignored
    }
    this.send(SETTINGS_ACK);
    this.unblock();
  }

  private onPing(flags: number, sid: number, p: Buffer): void {
    if (sid !== 0) return this.fail(PROTOCOL_ERROR);
    if (p.length !== 8) return this.fail(FRAME_SIZE_ERROR);
    if (flags & ACK) {
      this.pingOutstanding = false;
      return;
    }
    if (++this.pendingAcks > MAX_PENDING_ACKS) return this.fail(ENHANCE_YOUR_CALM, 'too_many_acks');
    this.send(frame(PING, ACK, 0, p));
    const now = this.now();
    const last = this.lastPingAt;
    this.lastPingAt = now;
    if (this.resetPingStrikes) {
      this.resetPingStrikes = false;
      this.pingStrikes = 0;
      return;
    }
    const minGap = this.streams.size === 0 ? PING_WITHOUT_STREAM_MS : this.pingMinTimeMs;
    if (last + minGap > now) this.pingStrikes++;
    if (this.pingStrikes > MAX_PING_STRIKES) this.fail(ENHANCE_YOUR_CALM, 'too_many_pings');
  }

  private onGoaway(sid: number): void {
    if (sid !== 0) return this.fail(PROTOCOL_ERROR);
    this.peerGoaway = true; // the client opens no more streams: end once the open ones are done
    this.endIfIdle();
  }

  private onWindowUpdate(sid: number, p: Buffer): void {
    if (p.length !== 4) return this.fail(FRAME_SIZE_ERROR);
    const inc = p.readUInt32BE(0) & 0x7fffffff;
    if (sid === 0) {
      if (inc === 0) return this.fail(PROTOCOL_ERROR);
      this.sendWindow += inc;
      if (this.sendWindow > WINDOW_LIMIT) return this.fail(FLOW_CONTROL_ERROR);
      return this.unblock();
    }
    if (sid > this.lastId) return this.fail(PROTOCOL_ERROR);
    const s = this.streams.get(sid);
    if (s === undefined) return;
    if (inc === 0) return s.reset(PROTOCOL_ERROR);
    s.window += inc;
    if (s.window > WINDOW_LIMIT) return s.reset(FLOW_CONTROL_ERROR);
    if (this.blocked.has(s) && s.pump()) this.blocked.delete(s);
  }

  /** A connection error: GOAWAY with `code`, then the socket ends; open streams are reset. */
  private fail(code: number, debug = ''): void {
    if (this.dead) return;
    this.send(goawayFrame(this.lastId, code, debug));
    this.dead = true;
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref(); // a client that never closes its side
    this.closeStreams();
  }

  private onSocketClose(): void {
    this.dead = true;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    this.closeStreams();
    this.onclose?.();
  }

  private closeStreams(): void {
    for (const s of [...this.streams.values()]) s.close(0x8 /* CANCEL */);
    this.streams.clear();
    this.blocked.clear();
  }

  /** grpc-go's server keepalive: ping after keepaliveIntervalMs without input, close after keepaliveTimeoutMs more. */
  private armKeepalive(): void {
    const interval = this.opts.keepaliveIntervalMs ?? 2 * 60 * 60 * 1000;
    const timeout = this.opts.keepaliveTimeoutMs ?? 20_000;
    const check = (): void => {
      if (this.dead) return;
      const idle = this.now() - this.lastReadAt;
      if (this.pingOutstanding) {
        if (idle >= timeout) return this.destroy();
      } else if (idle >= interval) {
        this.pingOutstanding = true;
        this.send(frame(PING, 0, 0, Buffer.alloc(8)));
        this.keepaliveTimer = setTimeout(check, timeout);
        this.keepaliveTimer.unref();
        return;
      }
      this.keepaliveTimer = setTimeout(check, this.pingOutstanding ? timeout - idle : interval - idle);
      this.keepaliveTimer.unref();
    };
    this.keepaliveTimer = setTimeout(check, interval);
    this.keepaliveTimer.unref();
  }
}
