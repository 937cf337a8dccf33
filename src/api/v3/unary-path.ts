/**
 * A short path for unary calls: the member's grpc-js Server keeps every session, stream and the
 * other streaming RPCs, but the unary methods registered here are answered straight on the HTTP/2
 * stream (and the bidi streams registered here served there: stream-call.ts), without grpc-js's
 * per-call machinery (interceptor chain, Metadata object, stream decoder, read
 * queue, one Promise and several closures per call). Measured on this machine with a server that
 * answers a fixed PutResponse, 1,000 clients: grpc-js ~105 µs of CPU per call, node:http2 alone
 * ~71 µs; that difference was a fifth of a whole put's CPU and most of the garbage that lives long
 * enough to be promoted while 1,000 calls are in flight.
 *
 * What a client sees is what grpc-js would send, the same messages, status codes and texts (for a
 * bad or expired grpc-timeout, a handler's error), except where grpc-go (etcd) receives otherwise:
 * the request's framing is checked as grpc-go checks it (grpc-receive.ts: compressed flag, encoding,
 * receive limit, a truncated or missing message; a second message is ignored), for the calls of
 * every other service too, in front of grpc-js. Answers go in the response headers and trailers etcd
 * sends (grpc-go's, seen from etcd 3.4.23): `:status` and `content-type: application/grpc`, no date;
 * `grpc-status` and `grpc-message`, empty on success, with only bytes outside printable ASCII and '%'
 * percent-encoded. grpc-js sends two headers more, a date and 'OK', which were also half of the
 * allocations this path made for an answer's headers. Anything this path does not handle the way
 * grpc-js would (another :method, a content type other than application/grpc*, a path not
 * registered) goes to grpc-js's own stream handler unchanged.
 *
 * The hook: grpc-js creates one http2 server per bound port or connection injector in its private
 * `createHttp2Server` and registers its 'stream' listener there. install() wraps that method (through
 * the fence, platform/grpc-hooks.ts) so the listener it registers is called only for streams this
 * path declines. If the fence keeps the hook off (ETCD_TS_NO_PRIVATE_HOOKS, an untested grpc-js) or
 * a release renames the method, install() returns false and every call goes through grpc-js.
 */
import type * as http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import type { PeerAuthContext } from './common.js';
import { editHttp2ServerOptions, wrapHttp2ServerFactory } from '../../platform/grpc-hooks.js';
import { RecvCheck, encodeGrpcMessage, encodingRefusal, guardStream, refuseStream, statusFields, type RecvStatus } from './grpc-receive.js';
import { authContextOf, metadataOf, statusOf, timeoutMs, type GrpcStatus } from './call-headers.js';
import { StreamCall, type StreamRoute } from './stream-call.js';

export { encodeGrpcMessage };

type AnyMethod = grpc.MethodDefinition<object, object>;
type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, raw: string[]) => void;
type UnaryHandler = (call: UnaryCall, callback: (err: unknown, res?: object) => void) => void;

interface Route {
  readonly path: string;
  readonly decode: (b: Buffer) => object;
  readonly encode: (o: object) => Buffer;
  readonly handler: UnaryHandler;
}

/** The part of grpc-js's ServerUnaryCall the etcd handlers use. */
interface UnaryCall {
  readonly request: object;
  readonly metadata: { get(key: string): (string | Buffer)[] };
  readonly cancelled: boolean;
}

const OK_HEADERS = { ':status': 200, 'content-type': 'application/grpc' };
const OK_TRAILERS = { 'grpc-status': '0', 'grpc-message': '' };
const RESPOND_OK = { waitForTrailers: true, sendDate: false };
const RESPOND_FAIL = { endStream: true, sendDate: false };
/** grpc-go's 16 MiB header list at its 32-byte overhead per header. */
const MAX_HEADER_PAIRS = (16 << 20) / 32;
const noop = (): void => {};

export class UnaryPath {
  private readonly routes = new Map<string, Route>();
  private readonly streamRoutes = new Map<string, StreamRoute>();
  /** Every method of the server by path: true when unary (grpc-go reads one message). */
  private readonly unaryByPath = new Map<string, boolean>();
  private readonly services = new Set<string>();
  /** Calls taken by this path so far (the rest went to grpc-js). */
  served = 0;

  /** @param maxReceiveBytes the receive limit etcd gives grpc-go (--max-request-bytes + 512 KiB). */
  constructor(private readonly maxReceiveBytes: number) {}

  /**
   * Serve the unary methods of a service here unless `short` is false, and its bidi-streaming
   * methods named in `streams` (stream-call.ts); its other streaming methods stay with grpc-js.
   */
  addService(def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation, short = true, streams: readonly string[] = []): void {
    for (const [name, md] of Object.entries(def) as [string, AnyMethod][]) {
      this.unaryByPath.set(md.path, !md.requestStream && !md.responseStream);
      this.services.add(md.path.slice(1, md.path.lastIndexOf('/')));
      const handler = impl[name] as unknown;
      if (typeof handler !== 'function') continue;
      if (md.requestStream && md.responseStream && streams.includes(name)) {
        this.streamRoutes.set(md.path, { decode: md.requestDeserialize, encode: md.responseSerialize, handler: handler as StreamRoute['handler'] });
      }
      if (md.requestStream || md.responseStream || !short) continue;
      this.routes.set(md.path, { path: md.path, decode: md.requestDeserialize, encode: md.responseSerialize, handler: handler as UnaryHandler });
    }
  }

  /**
   * Put this path in front of grpc-js's stream handler on every http2 server `server` creates.
   * False when the hook is fenced off or gone (platform/grpc-hooks.ts): grpc-js then serves all.
   */
  install(server: grpc.Server): boolean {
    const installed = wrapHttp2ServerFactory(server, (create) => (creds: unknown): http2.Http2Server => {
      const h2 = create(creds);
      const grpcListeners = h2.listeners('stream') as StreamListener[];
      h2.removeAllListeners('stream');
      h2.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, raw: string[]) => {
        const unary = this.unaryByPath.get(headers[':path'] ?? '');
        const refused = unary === undefined ? this.unknown(headers) : encodingRefusal(headers);
        if (refused !== undefined) return refuseStream(stream, refused);
        if (this.serve(stream, headers)) return;
        const before = unary === undefined ? undefined : { data: new Set(stream.listeners('data')), end: new Set(stream.listeners('end')) };
        for (const l of grpcListeners) l.call(h2, stream, headers, flags, raw);
        if (before !== undefined) guardStream(stream, new RecvCheck(this.maxReceiveBytes, unary!), before);
      });
      return h2;
    });
    // grpc-go counts no headers (its limit is 16 MiB of them); Node's http2 resets a stream past 128
    if (installed) editHttp2ServerOptions(server, (o) => (o.maxHeaderListPairs ??= MAX_HEADER_PAIRS));
    return installed;
  }

  /** grpc-go's answer to a gRPC call of a method nobody registered (grpc-js has its own words). */
  private unknown(headers: http2.IncomingHttpHeaders): RecvStatus | undefined {
    const path = headers[':path'] ?? '';
    const ct = headers['content-type'];
    const pos = path.lastIndexOf('/');
    if (headers[':method'] !== 'POST' || typeof ct !== 'string' || !ct.startsWith('application/grpc') || pos <= 0) return undefined;
    const service = path.slice(path.startsWith('/') ? 1 : 0, pos);
    const details = this.services.has(service) ? `unknown method ${path.slice(pos + 1)} for service ${service}` : `unknown service ${service}`;
    return { code: Status.UNIMPLEMENTED, details };
  }

  /** Take the stream if it is a plain call to a method registered here; false leaves it to grpc-js. */
  serve(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean {
    const path = headers[':path'];
    if (path === undefined || headers[':method'] !== 'POST') return false;
    const route = this.routes.get(path);
    const streamRoute = route === undefined ? this.streamRoutes.get(path) : undefined;
    if (route === undefined && streamRoute === undefined) return false;
    const ct = headers['content-type'];
    if (typeof ct !== 'string' || !ct.startsWith('application/grpc')) return false;
    if (route !== undefined) new Call(stream, headers, route, new RecvCheck(this.maxReceiveBytes, true));
    else startStream(stream, headers, streamRoute!, new RecvCheck(this.maxReceiveBytes, false));
    this.served++;
    return true;
  }
}

/** A bidi call on the short path: its handler runs now, as grpc-js runs it when the headers arrive. */
function startStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, route: StreamRoute, check: RecvCheck): void {
  const call = new StreamCall(stream, headers, route, check);
  try {
    route.handler(call);
  } catch {
    call.emit('error', { code: Status.UNKNOWN, details: 'Unknown error' });
  }
}

const CALL: unique symbol = Symbol('unaryCall');
type CallStream = http2.ServerHttp2Stream & { [CALL]: Call };

// The stream's listeners are shared functions that find their call on the stream (`this` is the
// stream): four closures and two once-wrappers fewer per call than listeners made per call.
function onStreamData(this: CallStream, c: Buffer): void {
  this[CALL].onData(c);
}
function onStreamEnd(this: CallStream): void {
  this[CALL].onEnd();
}
function onStreamClose(this: CallStream): void {
  this[CALL].onClose();
}
function sendOkTrailers(this: http2.ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

/** One unary call on its HTTP/2 stream: read one framed message, run the handler, answer once. */
class Call implements UnaryCall {
  request: object = {};
  cancelled = false;
  private done = false;
  private chunks: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
    private readonly route: Route,
    private readonly check: RecvCheck,
  ) {
    (stream as CallStream)[CALL] = this;
    stream.on('error', noop); // a reset stream also closes; there is nothing to send then
    stream.on('close', onStreamClose);
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    const timeout = headers['grpc-timeout'];
    if (timeout !== undefined) this.deadline(String(timeout));
  }

  /** grpc-js's getAuthContext (the verified client certificate), read once per connection. */
  getAuthContext(): PeerAuthContext {
    return authContextOf(this.stream);
  }

  /** The call is its own metadata: handlers read `call.metadata.get(key)`. */
  get metadata(): this {
    return this;
  }

  get(key: string): (string | Buffer)[] {
    return metadataOf(this.headers, key);
  }

  private deadline(value: string): void {
    const ms = timeoutMs(value);
    if (typeof ms !== 'number') {
      process.nextTick(() => this.fail(ms));
      return;
    }
    this.timer = setTimeout(() => this.fail({ code: Status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }), ms);
  }

  onData(c: Buffer): void {
    if (this.done) return;
    const r = this.check.data(c); // refuses a message over the limit at its prefix, before buffering it
    if (Buffer.isBuffer(r)) {
      if (r.length > 0) this.chunks.push(r);
    } else {
      this.fail(r);
    }
  }

  onEnd(): void {
    if (this.done) return;
    const refused = this.check.end();
    if (refused !== undefined) return this.fail(refused);
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [];
    try {
      this.request = this.route.decode(buf.subarray(5, 5 + buf.readUInt32BE(1)));
    } catch (e) {
      this.fail({ code: Status.INTERNAL, details: `grpc: error unmarshalling request: ${(e as Error).message}` });
      return;
    }
    try {
      this.route.handler(this, (err, res) => (err ? this.fail(statusOf(err)) : this.reply(res!)));
    } catch {
      this.fail({ code: Status.UNKNOWN, details: 'Unknown error' });
    }
  }

  onClose(): void {
    if (this.done) return;
    this.cancelled = true;
    this.finish();
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    return !(this.stream.destroyed || this.stream.closed);
  }

  private reply(res: object): void {
    if (this.done) return;
    let body: Buffer;
    try {
      body = this.route.encode(res);
    } catch {
      this.fail({ code: Status.INTERNAL, details: 'Error serializing response' });
      return;
    }
    if (!this.finish()) return;
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame[0] = 0;
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    const s = this.stream;
    s.respond(OK_HEADERS, RESPOND_OK);
    s.on('wantTrailers', sendOkTrailers);
    s.end(frame);
  }

  /** A trailers-only answer, as etcd (and grpc-js) send an error before any message. */
  private fail(st: GrpcStatus): void {
    if (!this.finish()) return;
    this.stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', ...statusFields(st), ...st.metadata?.toHttp2Headers() },
      RESPOND_FAIL,
    );
  }
}
