/**
 * A bidirectional-streaming call (Watch, LeaseKeepAlive) served straight on its HTTP/2 stream by the short path
 * (unary-path.ts), in place of grpc-js's call objects. The handler gets the part of grpc-js's
 * ServerDuplexStream it uses: 'data' per request, 'end' at the client's half-close, 'cancelled'
 * when the call ends other than by the handler's error (client cancel, deadline, a refused
 * request frame, the connection gone), 'close' last; `emit('error', status)` ends the call with
 * that status, `end()` with OK; `pause()`/`resume()` of the requests; `write(response)`;
 * `writableLength` (responses written but not yet taken by the transport, the watch server's
 * back-pressure); `metadata.get`, `getAuthContext`.
 *
 * Why (for speed): through grpc-js each response was serialised, framed, passed through its call
 * Writable and the HTTP/2 stream's Writable and written as its own DATA frame. Here the responses a
 * call writes during one event-loop turn are framed into one buffer and written once, at the end
 * of the turn (setImmediate): 100 watchers of one stream seeing a put are one write, not 100.
 *
 * What the client sees is what grpc-go (etcd) sends: the response headers with the first message
 * (`:status` and `content-type: application/grpc` only, as unary-path.ts), and a status in trailers
 * (or trailers-only before any message) in grpc-go's encoding, the stream reset after it if the
 * client still sends (grpc-receive.ts refuseStream). Requests are framed and checked as grpc-go
 * receives them (grpc-receive.ts RecvCheck). A grpc-timeout ends the call with DEADLINE_EXCEEDED,
 * as grpc-js does.
 */
import { EventEmitter } from 'node:events';
import type * as http2 from 'node:http2';
import { status as Status } from '@grpc/grpc-js';
import type { PeerAuthContext } from './common.js';
import { MessageSplitter, RecvCheck, refuseStream, type RecvStatus } from './grpc-receive.js';
import { authContextOf, metadataOf, statusOf, timeoutMs } from './call-headers.js';

export interface StreamRoute {
  readonly decode: (b: Buffer) => object;
  readonly encode: (o: object) => Buffer;
  readonly handler: (call: StreamCall) => void;
}

const OK_HEADERS = { ':status': 200, 'content-type': 'application/grpc' };
const RESPOND = { waitForTrailers: true, sendDate: false };
const PREFIX = 5;
/** Queued response bytes that are written at once rather than at the end of the turn (bounds the copy). */
const FLUSH_BYTES = 1 << 20;
/** Requests held for a paused handler before the HTTP/2 stream stops reading (grpc-js's call reads 16 ahead). */
const HELD_MAX = 16;
const noop = (): void => {};

/** Calls with responses waiting for the end of this turn, and whether the flush is scheduled. */
let dirty: StreamCall[] = [];
let flushScheduled = false;

function flushAll(): void {
  const calls = dirty;
  dirty = [];
  flushScheduled = false;
  for (const c of calls) c.flush();
}

export class StreamCall extends EventEmitter {
  cancelled = false;
  /** Responses not yet taken by the HTTP/2 stream: waiting for the flush, or in a write not yet done. */
  writableLength = 0;
  private done = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inDirty = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly split = new MessageSplitter();
  /** Requests decoded while the handler has the call paused, and whether the half-close is behind them. */
  private held: object[] = [];
  private paused = false;
  private endHeld = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
    private readonly route: StreamRoute,
    private readonly check: RecvCheck,
  ) {
    super();
    // the handler's error (grpc-js's call does the same on its 'error' event): the status, once
    this.on('error', (err: unknown) => this.finish(statusOf(err), false));
    stream.on('error', noop); // a broken stream also closes
    stream.on('close', () => this.onClose());
    stream.on('data', (c: Buffer) => this.onData(c));
    stream.on('end', () => this.onEnd());
    const timeout = headers['grpc-timeout'];
    if (timeout !== undefined) {
      const ms = timeoutMs(String(timeout));
      if (typeof ms === 'number') this.timer = setTimeout(() => this.finish({ code: Status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }, true), ms);
      else process.nextTick(() => this.finish(ms, true));
    }
  }

  /** The call is its own metadata: handlers read `call.metadata.get(key)`. */
  get metadata(): this {
    return this;
  }

  get(key: string): (string | Buffer)[] {
    return metadataOf(this.headers, key);
  }

  getAuthContext(): PeerAuthContext {
    return authContextOf(this.stream);
  }

  /** Queue one response; it leaves with the others of this turn. False once the call has ended. */
  write(res: object): boolean {
    if (this.done) return false;
    let body: Buffer;
    try {
      body = this.route.encode(res);
    } catch {
      this.finish({ code: Status.INTERNAL, details: 'Error serializing response' }, true); // grpc-js's words
      return false;
    }
    this.pending.push(body);
    this.pendingBytes += PREFIX + body.length;
    this.writableLength++;
    if (this.pendingBytes >= FLUSH_BYTES) {
      this.flush(); // large responses leave now: the buffer they are copied into stays small
      return true;
    }
    if (!this.inDirty) {
      this.inDirty = true;
      dirty.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    }
    return true;
  }

  /** No 'data' until resume() (grpc-js's call.pause(): LeaseKeepAlive reads one request at a time). */
  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    if (this.paused) {
      this.paused = false;
      process.nextTick(() => this.deliver());
    }
    return this;
  }

  private deliver(): void {
    while (!this.paused && !this.done && this.held.length > 0) this.emit('data', this.held.shift()!);
    if (this.paused || this.done) return;
    if (this.stream.isPaused()) this.stream.resume();
    if (this.endHeld) {
      this.endHeld = false;
      this.emit('end');
    }
  }

  /** End the call with status OK after the responses queued (grpc-js's call.end()). */
  end(): void {
    this.finish({ code: Status.OK, details: '' }, false);
  }

  /** Every queued response, framed into one buffer and written once. */
  flush(): void {
    this.inDirty = false;
    const n = this.pending.length;
    if (n === 0) return;
    const s = this.stream;
    if (s.destroyed || s.closed || s.writableEnded) {
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    const out = Buffer.allocUnsafe(this.pendingBytes);
    let off = 0;
    for (const b of this.pending) {
      out[off] = 0;
      out.writeUInt32BE(b.length, off + 1);
      b.copy(out, off + PREFIX);
      off += PREFIX + b.length;
    }
    this.pending = [];
    this.pendingBytes = 0;
    if (!s.headersSent) s.respond(OK_HEADERS, RESPOND);
    s.write(out, () => (this.writableLength -= n));
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    const r = this.check.data(chunk); // refuses a message over the limit at its prefix, before buffering it
    if (!Buffer.isBuffer(r)) return this.finish(r, true);
    for (const body of this.split.push(r)) {
      let req: object;
      try {
        req = this.route.decode(body);
      } catch (e) {
        return this.finish({ code: Status.INTERNAL, details: `grpc: failed to unmarshal the received message ${(e as Error).message}` }, true);
      }
      if (this.paused || this.held.length > 0) {
        this.held.push(req);
        if (this.held.length >= HELD_MAX) this.stream.pause(); // HTTP/2 flow control holds the client
      } else {
        this.emit('data', req);
        if (this.done) return;
      }
    }
  }

  private onEnd(): void {
    // A reset ends the request stream too, and Node says 'aborted' only after 'end': a turn later
    // tells a half-close (the handler hears 'end') from a cancel (it hears 'cancelled').
    if (!this.done) setImmediate(() => this.onHalfClose());
  }

  private onHalfClose(): void {
    if (this.done || this.stream.aborted) return;
    const refused = this.check.end();
    if (refused !== undefined) return this.finish(refused, true);
    if (this.paused || this.held.length > 0) this.endHeld = true;
    else this.emit('end');
  }

  private onClose(): void {
    if (!this.done) {
      this.done = true;
      this.cancelled = true;
      if (this.timer) clearTimeout(this.timer);
      this.pending = [];
      this.emit('cancelled', 'cancelled');
    }
    this.emit('close');
  }

  /**
   * End the call with a status after the responses already queued. `tellHandler`: the end is not
   * the handler's own error, so it hears 'cancelled' (as grpc-js tells it).
   */
  private finish(st: RecvStatus, tellHandler: boolean): void {
    if (this.done) return;
    this.flush();
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    refuseStream(this.stream, st);
    if (tellHandler) {
      this.cancelled = true;
      this.emit('cancelled', 'cancelled');
    }
  }
}
