// HTTP/2 connections whose `:authority` Node's HTTP/2 server would refuse, made acceptable.
//
// grpc-go (etcdctl, etcd's clientv3) sends a URL endpoint as the authority: `endpoint status`,
// `hashkv`, `defrag` and every `--cluster` form dial "passthrough:///http://127.0.0.1:2379", and each
// request then carries `:authority: http://127.0.0.1:2379`. etcd (grpc-go's server) takes any
// authority; nghttp2, under Node's http2, refuses a '/' (or any byte outside RFC 3986's authority
// characters) with RST_STREAM PROTOCOL_ERROR before the stream reaches JavaScript, and Node has no
// option to turn that check off. So the client port looks at the first request of each HTTP/2
// connection before Node's server sees the connection:
//   1. we send the client an empty SETTINGS frame (legal, changes nothing: the server's own SETTINGS
//      follow once Node has the connection), so that clients that wait for the server's preface
//      (grpc-go) send their first request;
//   2. we read until the client has acknowledged that SETTINGS and sent its first header block
//      (or, ACK seen, until IDLE_MS pass without a request: an idle connection);
//   3. the ACK is taken out (Node never sent that SETTINGS), and: if the authority is acceptable,
//      the socket goes to Node as it is (zero cost afterwards); if not, Node gets a stream in which
//      every header block of the connection has its `:authority` literal replaced by one of the same
//      length, each refused byte turned into '_' (hpack.ts keeps the dynamic tables in step).
// Only such connections (admin commands) pay for a JavaScript stream between the socket and Node.
import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import { HpackDecoder, HpackError, literalField, type Field } from './hpack.js';

const PREFACE_LEN = 24;
const FRAME_HEADER = 9;
const T_HEADERS = 1;
const T_SETTINGS = 4;
const T_CONTINUATION = 9;
const F_END_STREAM = 0x1;
const F_ACK = 0x1;
const F_END_HEADERS = 0x4;
const F_PADDED = 0x8;
const F_PRIORITY = 0x20;
const MAX_FRAME = 16_384; // SETTINGS_MAX_FRAME_SIZE's default, which Node's server keeps
/** With the ACK in, how long to wait for a first request before handing the connection over as it is. */
export const IDLE_MS = 1_000;
/** More buffered than this before a decision: hand over as it is. */
const MAX_BUFFERED = 1 << 20;

export const EMPTY_SETTINGS = Buffer.from([0, 0, 0, T_SETTINGS, 0, 0, 0, 0, 0]);

/** nghttp2's authority characters (RFC 3986 unreserved, sub-delims, ':', '@', '[', ']', '%'). */
const AUTHORITY_OK = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*$/;

/** The value nghttp2 takes in place of `v`, same length; undefined when `v` is acceptable already. */
export function acceptableAuthority(v: Buffer): Buffer | undefined {
  const s = v.toString('latin1');
  if (s === '' || AUTHORITY_OK.test(s)) return undefined;
  return Buffer.from(s.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]/g, '_'), 'latin1');
}

interface Frame {
  type: number;
  flags: number;
  stream: number;
  start: number;
  end: number;
}

/** Complete frames in buf from `pos` on. */
function* frames(buf: Buffer, pos: number): Generator<Frame> {
  while (pos + FRAME_HEADER <= buf.length) {
    const len = buf.readUIntBE(pos, 3);
    if (pos + FRAME_HEADER + len > buf.length) return;
    yield { type: buf[pos + 3]!, flags: buf[pos + 4]!, stream: buf.readUInt32BE(pos + 5) & 0x7fffffff, start: pos, end: pos + FRAME_HEADER + len };
    pos += FRAME_HEADER + len;
  }
}

/** A HEADERS or CONTINUATION frame's header block fragment, and HEADERS' priority bytes. */
function fragment(buf: Buffer, f: Frame): { block: Buffer; priority?: Buffer } {
  let p = f.start + FRAME_HEADER;
  let end = f.end;
  if (f.type !== T_HEADERS) return { block: buf.subarray(p, end) };
  if (f.flags & F_PADDED) end -= buf[p++]!;
  let priority: Buffer | undefined;
  if (f.flags & F_PRIORITY) {
    priority = buf.subarray(p, p + 5);
    p += 5;
  }
  if (end < p) throw new HpackError('bad padding');
  return { block: buf.subarray(p, end), ...(priority ? { priority } : {}) };
}

/** The block with each refused `:authority` literal replaced; undefined when nothing changes. */
function rewriteBlock(decoder: HpackDecoder, block: Buffer): Buffer | undefined {
  const fields: Field[] = decoder.read(block);
  const parts: Buffer[] = [];
  let at = 0;
  for (const f of fields) {
    if (f.literal < 0 || f.name !== ':authority') continue;
    const fixed = acceptableAuthority(f.value);
    if (fixed === undefined) continue;
    parts.push(block.subarray(at, f.start), literalField(f, fixed));
    at = f.end;
  }
  return parts.length === 0 ? undefined : Buffer.concat([...parts, block.subarray(at)]);
}

function frameHeader(len: number, type: number, flags: number, stream: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER);
  h.writeUIntBE(len, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return h;
}

/** A header block as one HEADERS frame (plus CONTINUATIONs past MAX_FRAME), unpadded. */
function headerFrames(first: Frame, block: Buffer, priority: Buffer | undefined): Buffer {
  const payload = priority ? Buffer.concat([priority, block]) : block;
  const out: Buffer[] = [];
  for (let p = 0, i = 0; p < payload.length || i === 0; p += MAX_FRAME, i++) {
    const chunk = payload.subarray(p, p + MAX_FRAME);
    const last = p + MAX_FRAME >= payload.length;
    const flags = i === 0 ? (first.flags & F_END_STREAM) | (priority ? F_PRIORITY : 0) : 0;
    out.push(frameHeader(chunk.length, i === 0 ? T_HEADERS : T_CONTINUATION, flags | (last ? F_END_HEADERS : 0), first.stream), chunk);
  }
  return Buffer.concat(out);
}

/**
 * The client's bytes as Node must see them: header blocks with their `:authority` made acceptable.
 * Fed with raw bytes (preface first); emits whole frames. After an HPACK error it stops rewriting
 * and passes bytes through (Node will answer the broken block itself).
 */
export class AuthorityRewriter {
  private readonly decoder = new HpackDecoder();
  private pending: Buffer = Buffer.alloc(0);
  private prefaceLeft = PREFACE_LEN;
  private block: { first: Frame; parts: Buffer[]; priority?: Buffer; raw: Buffer[] } | undefined;
  private broken = false;

  push(chunk: Buffer): Buffer {
    if (this.broken) return chunk;
    const out: Buffer[] = [];
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.prefaceLeft > 0) {
      const n = Math.min(this.prefaceLeft, buf.length);
      out.push(buf.subarray(0, n));
      buf = buf.subarray(n);
      this.prefaceLeft -= n;
    }
    let used = 0;
    try {
      for (const f of frames(buf, 0)) {
        used = f.end;
        if (f.type === T_HEADERS || (f.type === T_CONTINUATION && this.block)) this.headerFrame(buf, f, out);
        else out.push(buf.subarray(f.start, f.end));
      }
    } catch (e) {
      if (!(e instanceof HpackError)) throw e;
      // give up rewriting: the block read so far (this frame included) and the rest, as they came
      this.broken = true;
      out.push(...(this.block?.raw ?? []), buf.subarray(used));
      this.block = undefined;
      this.pending = Buffer.alloc(0);
      return Buffer.concat(out);
    }
    this.pending = Buffer.from(buf.subarray(used));
    return Buffer.concat(out);
  }

  private headerFrame(buf: Buffer, f: Frame, out: Buffer[]): void {
    if (f.type === T_HEADERS) this.block = { first: f, parts: [], raw: [] };
    const b = this.block!;
    b.raw.push(Buffer.from(buf.subarray(f.start, f.end)));
    const { block, priority } = fragment(buf, f);
    if (priority) b.priority = Buffer.from(priority);
    b.parts.push(Buffer.from(block));
    if ((f.flags & F_END_HEADERS) === 0) return;
    const fixed = rewriteBlock(this.decoder, Buffer.concat(b.parts));
    this.block = undefined;
    if (fixed === undefined) out.push(...b.raw);
    else out.push(headerFrames(b.first, fixed, b.priority));
  }
}

/** What the first bytes say: wait for more, hand over as is, or rewrite. `ackAt` is the ACK to drop. */
export function firstRequestVerdict(buf: Buffer): { ack?: Frame; verdict: 'wait' | 'native' | 'rewrite' } {
  let ack: Frame | undefined;
  let blockParts: Buffer[] | undefined;
  let complete: Buffer | undefined;
  for (const f of frames(buf, PREFACE_LEN)) {
    if (ack === undefined && f.type === T_SETTINGS && f.flags & F_ACK) ack = f;
    if (complete === undefined && (f.type === T_HEADERS || (f.type === T_CONTINUATION && blockParts))) {
      if (f.type === T_HEADERS) blockParts = [];
      try {
        blockParts!.push(fragment(buf, f).block);
      } catch {
        complete = Buffer.alloc(0);
      }
      if (f.flags & F_END_HEADERS) complete ??= Buffer.concat(blockParts!);
    }
  }
  const res = ack ? { ack } : {};
  if (ack === undefined || complete === undefined) return { ...res, verdict: 'wait' };
  try {
    return { ...res, verdict: rewriteBlock(new HpackDecoder(), complete) === undefined ? 'native' : 'rewrite' };
  } catch {
    return { ...res, verdict: 'native' }; // an HPACK error: Node will say so itself
  }
}

/** A stream for Node's http2 between it and a socket: client bytes rewritten, ours passed through. */
function rewritingStream(socket: net.Socket, initial: Buffer): Duplex {
  const rewriter = new AuthorityRewriter();
  socket.setNoDelay(true); // Node writes each frame separately to a JS stream: no Nagle between them
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  const feed = (chunk: Buffer): void => {
    const out = rewriter.push(chunk);
    if (out.length > 0 && !duplex.push(out)) socket.pause();
  };
  feed(initial);
  socket.on('data', feed);
  socket.once('end', () => duplex.push(null));
  socket.once('close', () => duplex.destroy());
  socket.on('error', (e) => duplex.destroy(e));
  return duplex;
}

/**
 * Route one HTTP/2 connection whose preface has been seen (its bytes still unread in `socket`):
 * `deliver` gets the socket itself, or a rewriting stream (see above). Gives up on a client that
 * never acknowledges our SETTINGS (`giveUpMs`), closing it.
 */
export function screenHttp2(socket: net.Socket, deliver: (s: net.Socket | Duplex) => void, giveUpMs = 30_000): void {
  let buf: Buffer = Buffer.alloc(0);
  let idle: NodeJS.Timeout | undefined;
  const giveUp = setTimeout(() => finish('close'), giveUpMs);
  const finish = (how: 'native' | 'rewrite' | 'close', ack?: Frame): void => {
    clearTimeout(giveUp);
    clearTimeout(idle);
    socket.removeListener('readable', onReadable);
    socket.removeListener('end', onEnd);
    if (how === 'close') {
      socket.destroy();
      return;
    }
    const rest = ack ? Buffer.concat([buf.subarray(0, ack.start), buf.subarray(ack.end)]) : buf;
    if (how === 'rewrite') {
      deliver(rewritingStream(socket, rest));
      return;
    }
    if (rest.length > 0) socket.unshift(rest);
    deliver(socket);
  };
  const onReadable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const { ack, verdict } = firstRequestVerdict(buf);
    if (verdict !== 'wait') finish(verdict, ack);
    else if (ack && buf.length > MAX_BUFFERED) finish('native', ack);
    else if (ack && idle === undefined) idle = setTimeout(() => finish('native', firstRequestVerdict(buf).ack), IDLE_MS);
  };
  const onEnd = (): void => finish('close');
  socket.on('readable', onReadable);
  socket.once('end', onEnd);
  socket.write(EMPTY_SETTINGS);
  onReadable();
}
