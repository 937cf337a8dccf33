/**
 * A gRPC call on one stream of the JavaScript HTTP/2 server (platform/h2), shaped as the grpc-js call
 * objects the handlers of this directory are written against: `request`, `metadata.get`,
 * `cancelled`, `getAuthContext`, `getPeer`; for streams `write` (false asks for 'drain'),
 * `writableLength`, `end`, `pause`/`resume`, and the events 'data', 'end', 'cancelled', 'error',
 * 'drain', 'close'. `emit('error', err)` answers the call with err's status, as grpc-js does.
 *
 * What a client sees is what api/v3/unary-path.ts sends (grpc-go's): `:status` 200 and
 * `content-type: application/grpc`, no date; trailers `grpc-status` and `grpc-message`, empty on
 * success; an error before any message as a trailers-only answer. Requests pass grpc-receive.ts's
 * checks (compressed flag, encoding, receive limit, a cut or missing message) with their texts.
 */
import { EventEmitter } from 'node:events';
import * as tls from 'node:tls';
import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { CANCEL } from '../../platform/h2/frame.js';
import { encodeHeaders } from '../../platform/h2/hpack.js';
import type { H2Stream } from '../../platform/h2/stream.js';
import type { PeerAuthContext } from './common.js';
import { MessageSplitter, RecvCheck, statusFields, type RecvStatus } from './grpc-receive.js';
import { statusOf, timeoutMs, type GrpcStatus } from './call-headers.js';
import { mark, Stage, TRACE_PUT } from '../../pkg/put-trace.js';

type AnyMethod = grpc.MethodDefinition<object, object>;
type Handler = (call: H2Call, callback?: (err: unknown, res?: object) => void) => void;

export interface H2Route {
  readonly md: AnyMethod;
  readonly handler: Handler;
}

/** The socket's side of a call: its address and its TLS client certificate, read once per connection. */
export class H2Peer {
  private auth: PeerAuthContext | undefined;
  readonly peer: string;

  constructor(readonly socket: import('node:net').Socket) {
    const host = socket.remoteAddress ?? '';
    this.peer = `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
  }

  /** grpc-js's getAuthContext: the verified client certificate. */
  authContext(): PeerAuthContext {
    if (this.auth === undefined) {
      const s = this.socket;
      this.auth = s instanceof tls.TLSSocket && s.authorized ? { sslPeerCertificate: s.getPeerCertificate() } : {};
    }
    return this.auth;
  }
}

const OK_HEADERS = encodeHeaders([[':status', '200'], ['content-type', 'application/grpc']]);
const OK_TRAILERS = encodeHeaders([['grpc-status', '0'], ['grpc-message', '']]);
const PREFIX = 5;
const NO_DATA = Buffer.alloc(0);
const NONE = Object.freeze([]) as unknown as (string | Buffer)[];
/** writeFramed's messages waiting for the end of the turn are sent at once from this many bytes. */
export const FRAMED_FLUSH_BYTES = 16 * 1024;

/** The header block of a status: trailers, or a trailers-only answer (with :status and content-type). */
export function statusBlock(st: GrpcStatus, trailersOnly: boolean): Buffer {
  if (st.code === Status.OK && !trailersOnly && st.metadata == null) return OK_TRAILERS;
  const fields: [string, string][] = trailersOnly ? [[':status', '200'], ['content-type', 'application/grpc']] : [];
  const f = statusFields(st);
  fields.push(['grpc-status', String(f['grpc-status'])], ['grpc-message', String(f['grpc-message'])]);
  const extra = st.metadata?.toHttp2Headers();
  if (extra) {
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) fields.push([k.toLowerCase(), String(x)]);
    }
  }
  return encodeHeaders(fields);
}

/** Refuse a call before it starts: a trailers-only answer (the stream is reset if the client still sends). */
export function refuseH2(stream: H2Stream, st: RecvStatus): void {
  stream.respond(statusBlock(st, true), true);
}

export class H2Call extends EventEmitter {
  request: object = {};
  cancelled = false;
  private done = false;
  private paused = false;
  private delivering = false;
  private remoteEnded = false;
  private heldCredit = 0;
  /** Stream calls: the decoded requests not yet delivered, and the cutter of the request stream. */
  private pending: object[] | undefined;
  private split: MessageSplitter | undefined;
  /** Unary calls: the request's data so far (one chunk, or several). */
  private chunk: Buffer | undefined;
  private chunks: Buffer[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly check: RecvCheck;
  /** Messages of writeFramed not yet handed to the stream: head, tail, head, tail, … */
  private framed: Buffer[] = [];
  private framedBytes = 0;
  private framedScheduled = false;

  constructor(
    private readonly stream: H2Stream,
    private readonly route: H2Route,
    private readonly peer: H2Peer,
    maxReceiveBytes: number,
  ) {
    super();
    const md = route.md;
    this.check = new RecvCheck(maxReceiveBytes, !md.requestStream && !md.responseStream);
    stream.ondata = (c) => this.onData(c);
    stream.onend = () => this.onEnd();
    stream.onreset = () => this.onCancel();
    stream.ondrain = () => this.emit('drain');
    const timeout = stream.header('grpc-timeout');
    if (timeout !== undefined) this.deadline(timeout);
    if (md.requestStream) {
      this.pending = [];
      this.split = new MessageSplitter();
      this.run();
    }
  }

  /** 'error' answers the call with the error's status (before any listener of the caller's hears it). */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'error') return super.emit(event, ...args);
    this.sendStatus(statusOf(args[0]));
    if (this.listenerCount('error') > 0) super.emit(event, ...args);
    return true;
  }

  // --- grpc-js's call surface

  /** The call is its own metadata: handlers read `call.metadata.get(key)`. */
  get metadata(): this {
    return this;
  }

  /** The values of a request header (a shared, frozen empty list when it has none: most lookups). */
  get(key: string): (string | Buffer)[] {
    const h = this.stream.headers;
    let out: (string | Buffer)[] | undefined;
    const bin = key.endsWith('-bin');
    for (let i = 0; i < h.length; i += 2) {
      if (h[i] === key) (out ??= []).push(bin ? Buffer.from(h[i + 1]!, 'base64') : h[i + 1]!);
    }
    return out ?? NONE;
  }

  getAuthContext(): PeerAuthContext {
    return this.peer.authContext();
  }

  getPeer(): string {
    return this.peer.peer;
  }

  getPath(): string {
    return this.route.md.path;
  }

  /** Messages written and not yet sent (the client's windows or the socket are full). */
  get writableLength(): number {
    return this.stream.queued + this.framed.length / 2;
  }

  write(message: object, cb?: () => void): boolean {
    if (this.done) {
      if (cb) process.nextTick(cb);
      return true;
    }
    if (this.framed.length > 0) this.sendFramed();
    let body: Buffer;
    try {
      body = this.route.md.responseSerialize(message);
    } catch {
      this.sendStatus({ code: Status.INTERNAL, details: 'Error serializing response' });
      return true;
    }
    const s = this.stream;
    if (!s.headersSent) s.respond(OK_HEADERS);
    const ok = s.write(framed(body));
    if (cb) process.nextTick(cb);
    return ok;
  }

  /**
   * A message whose body is `head` then `tail`, `tail` sent as it is (no copy: the snapshot's 32 KiB
   * pieces of the file's pages, 160 MB at 1M keys; the caller leaves its bytes alone). False asks
   * for 'drain', as write() does.
   */
  writeParts(head: Buffer, tail: Buffer): boolean {
    if (this.done) return true;
    if (this.framed.length > 0) this.sendFramed();
    const s = this.stream;
    if (!s.headersSent) s.respond(OK_HEADERS);
    const pre = prefixed(head, head.length + tail.length);
    if (s.writeAll([pre, tail], pre.length + tail.length)) return true;
    s.write(pre);
    return s.write(tail);
  }

  /**
   * A message already framed (5-byte prefix and body), in two pieces: `tail` follows `head` on the
   * wire. The messages framed during one turn of microtasks leave together, in as few DATA frames as
   * the client's frame size allows and without copying `tail` (the watch server's shared events);
   * a write of another kind, the end of the call, or FRAMED_FLUSH_BYTES waiting send them at once.
   */
  writeFramed(head: Buffer, tail: Buffer): void {
    if (this.done) return;
    this.framed.push(head, tail);
    this.framedBytes += head.length + tail.length;
    if (this.framedBytes >= FRAMED_FLUSH_BYTES) this.sendFramed();
    else if (!this.framedScheduled) {
      this.framedScheduled = true;
      queueMicrotask(this.sendFramedLater);
    }
  }

  private readonly sendFramedLater = (): void => {
    this.framedScheduled = false;
    this.sendFramed();
  };

  private sendFramed(): void {
    const pieces = this.framed;
    if (pieces.length === 0) return;
    const total = this.framedBytes;
    this.framed = [];
    this.framedBytes = 0;
    if (this.done) return;
    const s = this.stream;
    if (!s.headersSent) s.respond(OK_HEADERS);
    s.flushSoon(); // watch events leave before the rest of the turn's work (the put's own answer)
    if (s.writeAll(pieces, total)) return;
    // the windows or the socket take less than all: message by message, queued in order
    for (let i = 0; i < pieces.length; i += 2) {
      const head = pieces[i]!;
      const tail = pieces[i + 1]!;
      s.write(tail.length === 0 ? head : Buffer.concat([head, tail]));
    }
  }

  /** A Writable's _write (api/v3/watch.ts gives call streams a _writev that calls it). */
  _write(chunk: object, _encoding: string, cb: () => void): void {
    this.write(chunk);
    cb();
  }

  end(message?: object): this {
    if (message !== undefined) this.write(message);
    this.sendStatus({ code: Status.OK, details: '' });
    return this;
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    if (!this.paused) return this;
    this.paused = false;
    this.deliver();
    return this;
  }

  /** grpc-js: an error ends the call with its status; without one the call is cancelled. */
  destroy(err?: unknown): this {
    if (err !== undefined) this.sendStatus(statusOf(err));
    else this.stream.reset(CANCEL);
    return this;
  }

  // --- the stream's events

  private onData(chunk: Buffer): void {
    if (this.done) return;
    const r = this.check.data(chunk);
    if (!Buffer.isBuffer(r)) return this.refuse(r);
    if (!this.route.md.requestStream) {
      if (r.length > 0) {
        if (this.chunk === undefined) this.chunk = r;
        else (this.chunks ??= [this.chunk]).push(r);
      }
      this.stream.consume(chunk.length); // one message, bounded by the receive limit
      return;
    }
    if (this.paused) this.heldCredit += chunk.length;
    else this.stream.consume(chunk.length);
    if (r.length === 0) return;
    for (const body of this.split!.push(r)) {
      let req: object;
      try {
        req = this.route.md.requestDeserialize(body);
      } catch (e) {
        return this.refuse({ code: Status.INTERNAL, details: `grpc: failed to unmarshal the received message ${(e as Error).message}` });
      }
      this.pending!.push(req);
    }
    this.deliver();
  }

  private onEnd(): void {
    if (this.done) return;
    const refused = this.check.end();
    if (refused !== undefined) return this.refuse(refused);
    if (this.route.md.requestStream) {
      this.remoteEnded = true;
      this.deliver();
      return;
    }
    const buf = this.chunks !== undefined ? Buffer.concat(this.chunks) : (this.chunk ?? NO_DATA);
    this.chunk = this.chunks = undefined;
    try {
      this.request = this.route.md.requestDeserialize(buf.subarray(PREFIX, PREFIX + buf.readUInt32BE(1)));
    } catch (e) {
      this.sendStatus({ code: Status.INTERNAL, details: `grpc: error unmarshalling request: ${(e as Error).message}` });
      return;
    }
    this.run();
  }

  private onCancel(): void {
    if (this.done) return;
    this.done = true;
    this.cancel();
  }

  // --- inside

  private run(): void {
    const md = this.route.md;
    if (TRACE_PUT) mark(Stage.call);
    try {
      if (md.responseStream) this.route.handler(this);
      else this.route.handler(this, (err, res) => (err ? this.sendStatus(statusOf(err)) : this.reply(res!)));
    } catch {
      this.sendStatus({ code: Status.UNKNOWN, details: 'Unknown error' });
    }
  }

  /** Hand the decoded requests to 'data' listeners while not paused; 'end' after the last. */
  private deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      const pending = this.pending!;
      while (!this.paused && !this.done && pending.length > 0) this.emit('data', pending.shift()!);
    } finally {
      this.delivering = false;
    }
    if (this.paused || this.done) return;
    if (this.heldCredit > 0) {
      this.stream.consume(this.heldCredit);
      this.heldCredit = 0;
    }
    if (this.remoteEnded && this.pending!.length === 0) {
      this.remoteEnded = false;
      this.emit('end');
    }
  }

  private reply(res: object): void {
    if (this.done) return;
    let body: Buffer;
    try {
      body = this.route.md.responseSerialize(res);
    } catch {
      this.sendStatus({ code: Status.INTERNAL, details: 'Error serializing response' });
      return;
    }
    this.done = true;
    if (TRACE_PUT) mark(Stage.reply);
    this.stream.answer(OK_HEADERS, framed(body), OK_TRAILERS);
    this.closeSoon();
  }

  private deadline(value: string): void {
    const ms = timeoutMs(value);
    if (typeof ms !== 'number') {
      process.nextTick(() => this.sendStatus(ms, true));
      return;
    }
    this.timer = setTimeout(() => this.sendStatus({ code: Status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }, true), ms);
  }

  /** A receive check refused the request: its status, and the handler sees the call cancelled. */
  private refuse(st: RecvStatus): void {
    this.sendStatus(st, true);
  }

  /** Answer the call with `st` (trailers, or trailers-only before any message); once. */
  private sendStatus(st: GrpcStatus, cancels = false): void {
    if (this.done) return;
    if (this.framed.length > 0 && !cancels) this.sendFramed();
    this.done = true;
    const s = this.stream;
    if (!s.headersSent) s.respond(statusBlock(st, true), true);
    else s.end(statusBlock(st, false));
    if (cancels) this.cancel();
    else this.closeSoon();
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.cancelled = true;
    this.emit('cancelled');
    this.closeSoon();
  }

  /** 'close' on the next tick, for whoever listens (stream handlers, counted.ts); unary handlers do not. */
  private closeSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.listenerCount('close') > 0) process.nextTick(() => this.emit('close'));
  }
}

/** A message with gRPC's 5-byte prefix (uncompressed). */
function framed(body: Buffer): Buffer {
  return prefixed(body, body.length);
}

/** gRPC's 5-byte prefix of an uncompressed message of `messageBytes`, then `head` (the message's first bytes). */
function prefixed(head: Buffer, messageBytes: number): Buffer {
  const b = Buffer.allocUnsafe(PREFIX + head.length);
  b[0] = 0;
  b.writeUInt32BE(messageBytes, 1);
  head.copy(b, PREFIX);
  return b;
}
