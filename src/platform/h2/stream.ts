// One HTTP/2 stream of a server connection (connection.ts), as the application sees it: the request
// headers, the request's DATA as it arrives (`ondata`, `onend`), and the answer: response headers,
// DATA within the client's windows (the rest queued here, in order), trailers or END_STREAM.
// The application tells how much of the request it has consumed (`consume`): the stream's and the
// connection's receive windows are replenished from that, so a reader that stops reading stops the
// client's sending once the stream's window is used up.
import { CANCEL, DATA, END_HEADERS, END_STREAM, HEADERS, NO_ERROR, writeFrameHeader } from './frame.js';

/** What a stream needs of its connection. */
export interface StreamOwner {
  /** Queue bytes for the socket (written at the end of this event-loop turn). */
  send(b: Buffer): void;
  /** Write what is queued once this turn's pending microtasks have run, not at the end of the turn. */
  flushSoon(): void;
  /** The largest DATA payload the client takes (its SETTINGS_MAX_FRAME_SIZE). */
  readonly peerFrameMax: number;
  /** The client's connection window for our DATA. */
  sendWindow: number;
  /** True while the socket holds too much unsent output: DATA waits. */
  congested(): boolean;
  /** Wait for a window or the socket's drain to send the rest of `s`'s DATA. */
  block(s: H2Stream): void;
  /** A header block prefix owed to the client's decoder (a dynamic table size update), once. */
  takeTablePrefix(): Buffer | undefined;
  /** DATA went out (the client's pings are forgiven, as grpc-go's policy does after data). */
  dataSent(): void;
  /** Credit `n` consumed request bytes to the connection's receive window. */
  consumed(n: number): void;
  /** The stream is done (both sides closed, or reset): forget it. */
  closed(s: H2Stream, resetCode: number | undefined): void;
  /** The stream's receive window to replenish by `n`. */
  windowUpdate(sid: number, n: number): void;
}

/** Messages queued on a stream before write() asks the writer to wait for 'drain'. */
export const STREAM_QUEUE_HIGH = 16;

export class H2Stream {
  /** The client's window for our DATA on this stream. */
  window: number;
  /** Request DATA bytes the client may still send (our window). */
  recvWindow: number;
  remoteEnded = false;
  headersSent = false;
  /** Our END_STREAM is queued or sent: no more writes. */
  ended = false;
  closed = false;
  /** Request bytes received and not yet consumed by the application. */
  held = 0;
  /** Request data (padding removed), in order. */
  ondata: ((chunk: Buffer) => void) | undefined;
  /** The client's END_STREAM, after its last ondata. */
  onend: (() => void) | undefined;
  /** Closed without our END_STREAM: a reset from the client (its code) or the connection going. */
  onreset: ((code: number) => void) | undefined;
  /** The queue went below STREAM_QUEUE_HIGH after a write() returned false. */
  ondrain: (() => void) | undefined;
  private unacked = 0;
  private readonly queue: Buffer[] = [];
  private trailers: Buffer | null = null;
  private needDrain = false;

  constructor(
    private readonly owner: StreamOwner,
    readonly id: number,
    /** The request's header list: [name, value, …]. */
    readonly headers: string[],
    sendWindow: number,
    recvWindow: number,
    private readonly recvWindowMax: number,
  ) {
    this.window = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** The first value of a request header, or undefined. */
  header(name: string): string | undefined {
    const h = this.headers;
    for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1];
    return undefined;
  }

  /** DATA payloads waiting for a window. */
  get queued(): number {
    return this.queue.length;
  }

  /** Send the response headers (an encoded block; END_STREAM when `end`: a trailers-only answer). */
  respond(block: Buffer, end = false): void {
    if (this.closed || this.ended || this.headersSent) return;
    this.headersSent = true;
    this.sendBlock(block, end);
    if (end) this.finish();
  }

  /**
   * A whole answer at once: response headers, one DATA payload, trailers (encoded blocks), as one
   * buffer for the socket when the windows take the DATA now; else as respond, write and end do it.
   */
  answer(headers: Buffer, data: Buffer, trailers: Buffer): void {
    if (this.closed || this.ended || this.headersSent) return;
    const o = this.owner;
    const max = o.peerFrameMax;
    const n = data.length;
    if (n > this.window || n > o.sendWindow || n > max || o.congested()) {
      this.respond(headers);
      this.write(data);
      this.end(trailers);
      return;
    }
    this.headersSent = true;
    const prefix = o.takeTablePrefix();
    const h = prefix === undefined ? headers : Buffer.concat([prefix, headers]);
    if (h.length > max || trailers.length > max) {
      this.sendFrames(h, false);
      this.sendData(data);
      this.ended = true;
      this.sendFrames(trailers, true);
      this.finish();
      return;
    }
    const b = Buffer.allocUnsafe(27 + h.length + n + trailers.length);
    let p = 0;
    writeFrameHeader(b, p, h.length, HEADERS, END_HEADERS, this.id);
    p += 9 + h.copy(b, p + 9);
    writeFrameHeader(b, p, n, DATA, 0, this.id);
    p += 9 + data.copy(b, p + 9);
    writeFrameHeader(b, p, trailers.length, HEADERS, END_HEADERS | END_STREAM, this.id);
    trailers.copy(b, p + 9);
    o.send(b);
    this.charge(n);
    this.finish();
  }

  /** Queue one DATA payload; false when the writer should wait for ondrain. */
  write(data: Buffer): boolean {
    if (this.closed || this.ended) return true;
    if (this.queue.length === 0 && this.trySend(data)) return true;
    this.queue.push(data);
    if (this.queue.length === 1 && this.pump()) return true; // what the windows let through goes now
    this.owner.block(this);
    if (this.queue.length >= STREAM_QUEUE_HIGH) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /** The connection's output goes out once the pending microtasks have run (see StreamOwner.flushSoon). */
  flushSoon(): void {
    this.owner.flushSoon();
  }

  /**
   * Send `pieces` (`total` bytes, in order) as DATA now, cut into frames of the client's frame size,
   * when the windows and the socket take all of it; false (nothing sent) when they do not, or DATA is
   * already waiting. The pieces are handed to the connection as they are (no copy).
   */
  writeAll(pieces: readonly Buffer[], total: number): boolean {
    if (this.closed || this.ended) return true;
    const o = this.owner;
    if (this.queue.length > 0 || total > this.window || total > o.sendWindow || o.congested()) return false;
    const max = o.peerFrameMax;
    let i = 0;
    let off = 0; // into pieces[i]
    for (let left = total; left > 0; ) {
      const n = left < max ? left : max;
      const h = Buffer.allocUnsafe(9);
      writeFrameHeader(h, 0, n, DATA, 0, this.id);
      o.send(h);
      let need = n;
      while (need > 0) {
        const p = pieces[i]!;
        const avail = p.length - off;
        if (avail <= need) {
          if (avail > 0) o.send(off === 0 ? p : p.subarray(off));
          need -= avail;
          i++;
          off = 0;
        } else {
          o.send(p.subarray(off, off + need));
          off += need;
          need = 0;
        }
      }
      left -= n;
    }
    this.charge(total);
    return true;
  }

  /** End our side: trailers (an encoded block) after the queued DATA, or an empty DATA with END_STREAM. */
  end(trailers?: Buffer): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    this.trailers = trailers ?? EMPTY;
    if (this.queue.length === 0) this.sendTrailers();
  }

  /** Reset the stream (RST_STREAM with `code`); queued output is dropped. */
  reset(code = CANCEL): void {
    if (this.closed) return;
    this.owner.send(rstFrame(this.id, code));
    this.close(code);
  }

  /** The application has consumed `n` request bytes: replenish the windows. */
  consume(n: number): void {
    if (n <= 0 || this.closed) return; // a closed stream's unconsumed bytes were credited then
    this.held -= n;
    this.owner.consumed(n);
    if (this.closed || this.remoteEnded) return;
    this.unacked += n;
    if (this.unacked >= this.recvWindowMax / 2) {
      this.recvWindow += this.unacked;
      this.owner.windowUpdate(this.id, this.unacked);
      this.unacked = 0;
    }
  }

  /** Send what the windows and the socket let through; true when all queued DATA is out. */
  pump(): boolean {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (this.trySend(head)) {
        this.queue.shift();
        continue;
      }
      const n = Math.min(head.length, this.window, this.owner.sendWindow, this.owner.peerFrameMax);
      if (n <= 0 || this.owner.congested()) return false;
      this.sendData(head.subarray(0, n));
      this.queue[0] = head.subarray(n);
    }
    if (this.trailers !== null) this.sendTrailers();
    if (this.needDrain) {
      this.needDrain = false;
      this.ondrain?.();
    }
    return true;
  }

  /** The connection lost this stream (reset by the client, or the socket closed). */
  close(code: number | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.trailers = null;
    const held = this.held;
    this.held = 0;
    if (held > 0) this.owner.consumed(held);
    this.owner.closed(this, code);
    if (code !== undefined) this.onreset?.(code);
  }

  private trySend(data: Buffer): boolean {
    const n = data.length;
    if (n > this.window || n > this.owner.sendWindow || n > this.owner.peerFrameMax || this.owner.congested()) return false;
    this.sendData(data);
    return true;
  }

  private sendData(data: Buffer): void {
    const h = Buffer.allocUnsafe(9);
    writeFrameHeader(h, 0, data.length, DATA, 0, this.id);
    this.owner.send(h);
    if (data.length > 0) this.owner.send(data);
    this.charge(data.length);
  }

  /** `n` bytes of DATA sent: taken from the stream's and the connection's send windows. */
  private charge(n: number): void {
    this.window -= n;
    this.owner.sendWindow -= n;
    this.owner.dataSent();
  }

  private sendBlock(block: Buffer, end: boolean): void {
    const prefix = this.owner.takeTablePrefix();
    this.sendFrames(prefix === undefined ? block : Buffer.concat([prefix, block]), end);
  }

  /** A header block (any table prefix already in it) as HEADERS, and CONTINUATION frames beyond the client's frame size. */
  private sendFrames(b: Buffer, end: boolean): void {
    const max = this.owner.peerFrameMax;
    if (b.length <= max) {
      const f = Buffer.allocUnsafe(9 + b.length);
      writeFrameHeader(f, 0, b.length, HEADERS, END_HEADERS | (end ? END_STREAM : 0), this.id);
      b.copy(f, 9);
      this.owner.send(f);
      return;
    }
    // a block over the client's frame size: HEADERS then CONTINUATION frames
    for (let off = 0; off < b.length; off += max) {
      const piece = b.subarray(off, off + max);
      const last = off + max >= b.length;
      const f = Buffer.allocUnsafe(9 + piece.length);
      const type = off === 0 ? HEADERS : 0x9;
      writeFrameHeader(f, 0, piece.length, type, (last ? END_HEADERS : 0) | (off === 0 && end ? END_STREAM : 0), this.id);
      piece.copy(f, 9);
      this.owner.send(f);
    }
  }

  private sendTrailers(): void {
    const t = this.trailers!;
    this.trailers = null;
    if (t.length === 0) {
      const f = Buffer.allocUnsafe(9);
      writeFrameHeader(f, 0, 0, DATA, END_STREAM, this.id);
      this.owner.send(f);
    } else {
      this.sendBlock(t, true);
    }
    this.finish();
  }

  /** Our END_STREAM is out: the stream closes, with a reset if the client is still sending (as grpc-go). */
  private finish(): void {
    this.ended = true;
    if (!this.remoteEnded) this.owner.send(rstFrame(this.id, NO_ERROR));
    this.close(undefined);
  }
}

const EMPTY = Buffer.alloc(0);

function rstFrame(sid: number, code: number): Buffer {
  const b = Buffer.allocUnsafe(13);
  writeFrameHeader(b, 0, 4, 0x3, 0, sid);
  b.writeUInt32BE(code >>> 0, 9);
  return b;
}
