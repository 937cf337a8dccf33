/**
 * What grpc-go (1.26, etcd 3.4.23's) checks while it receives a request, with its status codes and
 * texts, for the short unary path and, in front of grpc-js, for every other call:
 *
 *  - a grpc-encoding other than identity: 12 `grpc: Decompressor is not installed for grpc-encoding "gzip"`
 *    before any message is read (etcd installs no decompressor);
 *  - per message, in order: a length over the receive limit, 8 `grpc: received message larger than
 *    max (N vs. M)` (at the 5-byte prefix); the stream ending inside a message, `unexpected EOF` (2 on a
 *    unary call, 13 on a streaming one); a compressed-flag byte 1, 13 `grpc: compressed flag set with
 *    identity or empty encoding`, any other but 0, 13 `grpc: received unexpected payload format N`;
 *  - a unary call reads one message: none at all is 2 `EOF`, anything after the first is ignored.
 *
 * grpc-js alone applies a flagged message as if it were not compressed, decompresses gzip, refuses a
 * second unary message and answers 12 "Received no request message" to a truncated one.
 */
import type * as http2 from 'node:http2';
import { constants as h2c } from 'node:http2';
import { status as Status } from '@grpc/grpc-js';
import { percentEncode } from '../../pkg/bytes.js';

export interface RecvStatus {
  readonly code: number;
  readonly details: string;
}

/** etcd's refusal of a request whose grpc-encoding names a compressor, or undefined. */
export function encodingRefusal(headers: http2.IncomingHttpHeaders): RecvStatus | undefined {
  const enc = headers['grpc-encoding'];
  if (enc === undefined || enc === '' || enc === 'identity') return undefined;
  return { code: Status.UNIMPLEMENTED, details: `grpc: Decompressor is not installed for grpc-encoding "${String(enc)}"` };
}

const PREFIX = 5;

/**
 * The whole messages of a request stream (its bytes as RecvCheck passed them), each message's body
 * in order; a message cut by a chunk's end waits for the rest.
 */
export class MessageSplitter {
  private rest: Buffer | null = null;

  push(chunk: Buffer): Buffer[] {
    const b = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    const bodies: Buffer[] = [];
    let off = 0;
    while (b.length - off >= PREFIX) {
      const len = b.readUInt32BE(off + 1);
      if (b.length - off - PREFIX < len) break;
      bodies.push(b.subarray(off + PREFIX, off + PREFIX + len));
      off += PREFIX + len;
    }
    this.rest = off < b.length ? b.subarray(off) : null;
    return bodies;
  }
}

/** Follows the 5-byte-prefixed messages of one request stream as grpc-go reads them. */
export class RecvCheck {
  private prefix: Buffer | undefined; // only for a prefix split across chunks
  private prefixFill = 0;
  private bodyLeft = 0;
  private flag = 0;
  private messages = 0;
  private bytes = 0;

  constructor(private readonly maxBytes: number, private readonly unary: boolean) {}

  /** The part of `chunk` to read on (a unary call: up to its first message's end), or the refusal. */
  data(chunk: Buffer): Buffer | RecvStatus {
    if (this.unary && this.messages > 0) return EMPTY;
    this.bytes += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - off);
        off += take;
        this.bodyLeft -= take;
        if (this.bodyLeft > 0) break;
      } else {
        let len: number;
        if (this.prefixFill === 0 && chunk.length - off >= PREFIX) {
          this.flag = chunk[off]!;
          len = chunk.readUInt32BE(off + 1);
          off += PREFIX;
        } else {
          const prefix = (this.prefix ??= Buffer.alloc(PREFIX));
          const take = Math.min(PREFIX - this.prefixFill, chunk.length - off);
          chunk.copy(prefix, this.prefixFill, off, off + take);
          off += take;
          this.prefixFill += take;
          if (this.prefixFill < PREFIX) break;
          this.prefixFill = 0;
          this.flag = prefix[0]!;
          len = prefix.readUInt32BE(1);
        }
        if (len > this.maxBytes) {
          return { code: Status.RESOURCE_EXHAUSTED, details: `grpc: received message larger than max (${len} vs. ${this.maxBytes})` };
        }
        this.bodyLeft = len;
        if (len > 0) continue;
      }
      const refused = this.messageDone();
      if (refused !== undefined) return refused;
      if (this.unary) return chunk.subarray(0, off);
    }
    return chunk;
  }

  /** At the end of the request stream: the refusal, if it ended inside a message or before any (unary). */
  end(): RecvStatus | undefined {
    if (this.prefixFill > 0 || this.bodyLeft > 0) {
      return { code: this.unary ? Status.UNKNOWN : Status.INTERNAL, details: 'unexpected EOF' };
    }
    if (this.unary && this.messages === 0) return { code: Status.UNKNOWN, details: this.bytes === 0 ? 'EOF' : 'unexpected EOF' };
    return undefined;
  }

  private messageDone(): RecvStatus | undefined {
    this.messages++;
    if (this.flag === 0) return undefined;
    if (this.flag === 1) return { code: Status.INTERNAL, details: 'grpc: compressed flag set with identity or empty encoding' };
    return { code: Status.INTERNAL, details: `grpc: received unexpected payload format ${this.flag}` };
  }
}

const EMPTY = Buffer.alloc(0);
const TRAILERS_ONLY = { endStream: true, sendDate: false }; // no date, as grpc-go
const PRINTABLE = /^[\x20-\x24\x26-\x7e]*$/;
const isPrintable = (b: number): boolean => b >= 0x20 && b <= 0x7e && b !== 0x25;

/** A grpc-message as grpc-go writes it: UTF-8 bytes outside printable ASCII, and '%', as %XX. */
export function encodeGrpcMessage(text: string): string {
  return PRINTABLE.test(text) ? text : percentEncode(text, isPrintable);
}

/** grpc-go's status fields, in a trailers-only answer or in trailers. */
export function statusFields(st: RecvStatus): http2.OutgoingHttpHeaders {
  return { 'grpc-status': String(st.code), 'grpc-message': encodeGrpcMessage(st.details) };
}

/**
 * Refuse a call on its stream, whoever else holds it: trailers-only if nothing was answered yet,
 * else trailers after what was sent (the owner's later writes dropped); then the stream is closed,
 * as grpc-go resets a stream the client still sends on, and its owner sees it closed.
 */
export function refuseStream(stream: http2.ServerHttp2Stream, st: RecvStatus): void {
  if (stream.destroyed || stream.closed || stream.writableEnded) return;
  if (!stream.headersSent) {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...statusFields(st) }, TRAILERS_ONLY);
    // the owner's later answers are dropped (they would respond twice); the reset a turn later:
    // Node 22 and 24 send a reset asked for in the same turn before the headers, and the client
    // then sees no answer at all
    silence(stream);
    setImmediate(() => stream.close(h2c.NGHTTP2_NO_ERROR));
    return;
  }
  const end = stream.end.bind(stream);
  const sendTrailers = stream.sendTrailers.bind(stream);
  silence(stream);
  stream.once('wantTrailers', () => {
    sendTrailers(statusFields(st));
    // then reset a stream the client still sends on, as grpc-go does; from inside this callback
    // nghttp2 would send the reset before the trailers
    setImmediate(() => stream.close(h2c.NGHTTP2_NO_ERROR));
  });
  end();
}

/** From now on the stream's writes, end and trailers are no-ops (their callbacks still run). */
function silence(stream: http2.ServerHttp2Stream): void {
  const quiet = (...args: unknown[]): boolean => {
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (cb) process.nextTick(cb);
    return true;
  };
  const s = stream as unknown as Record<string, unknown>;
  s.write = quiet;
  s.end = (...args: unknown[]) => (quiet(...args), stream);
  s.sendTrailers = () => {};
  s.respond = () => {};
}

/**
 * Put grpc-go's receive checks between a stream and the 'data'/'end' listeners grpc-js registered on
 * it (call after grpc-js's stream handler ran): grpc-js sees only what passes, and a refused call
 * is answered here. `before` are the listeners the stream had before grpc-js's handler.
 */
export function guardStream(stream: http2.ServerHttp2Stream, check: RecvCheck, before: { data: Set<Function>; end: Set<Function> }): void {
  const onData = stream.listeners('data').filter((l) => !before.data.has(l)) as ((c: Buffer) => void)[];
  const onEnd = stream.listeners('end').filter((l) => !before.end.has(l)) as (() => void)[];
  if (onData.length === 0 && onEnd.length === 0) return; // grpc-js answered at once (unknown method, ...)
  for (const l of onData) stream.removeListener('data', l);
  for (const l of onEnd) stream.removeListener('end', l);
  let refused = false;
  stream.on('data', (chunk: Buffer) => {
    if (refused) return;
    const r = check.data(chunk);
    if (Buffer.isBuffer(r)) {
      if (r.length > 0) for (const l of onData) l.call(stream, r);
      return;
    }
    refused = true;
    refuseStream(stream, r);
  });
  stream.on('end', () => {
    if (refused) return;
    const st = check.end();
    if (st === undefined) for (const l of onEnd) l.call(stream);
    else {
      refused = true;
      refuseStream(stream, st);
    }
  });
}
