// One HTTP/1.1 connection of the client port served in JavaScript for the requests its handler owns
// (the v2 keys, /health, /version), and handed to node:http at the first one it does not.
//
// Requests are read with head.ts as they arrive (split across packets or many in one: pipelining)
// and given to the handler one at a time with their Content-Length body, the next once the answer
// to the one before is written, as Go's server serves a connection (a GET pipelined behind a PUT
// sees the PUT; node:http would start both at once). The first
// request the handler declines, or that head.ts leaves to node ('other', a body over BODY_BYTES_MAX),
// ends this: once every earlier answer is written, the bytes from that request on are pushed back
// (socket.unshift) and the socket goes to `handOff` (node:http then sees the rest as if it had read
// the connection from the start). A handler that declines must not have answered or changed anything.
//
// A client that does not read its answers is not served more once WRITE_BUFFER_BYTES_MAX wait for it.
// Keep-alive: an idle connection is ended after keepAliveTimeoutMs (node's keepAliveTimeout);
// "Connection: close" answers with it and ends the connection; a client's half-close ends it once the
// answers are written (a partial request then is dropped).
import type * as net from 'node:net';
import { parseHead, type RequestHead } from './head.js';
import { formatResponse, type HeaderValue } from './response.js';

/** Larger request bodies are node:http's. */
export const BODY_BYTES_MAX = 64 * 1024;
/** Bytes read ahead of the request being answered (pipelined requests); beyond, the socket is not read. */
export const READ_AHEAD_BYTES_MAX = 256 * 1024;
/** Answers waiting in the socket for a client that does not read: past this, no more requests are served until it drains. */
export const WRITE_BUFFER_BYTES_MAX = 1 << 20;

export interface Http1Request extends RequestHead {
  /** The Content-Length body (empty when none). */
  readonly body: Buffer;
  readonly socket: net.Socket;
}

export interface Http1Response {
  /** The request's method (a HEAD answer has no body). */
  readonly method: string;
  /** end() has been called. */
  readonly sent: boolean;
  /** Writes the whole answer (formatResponse: headers in this order, node's Connection lines); once. */
  end(status: number, headers: Readonly<Record<string, HeaderValue>>, body: string | Buffer): void;
  /** Closes the connection without an answer (node's res.destroy()). */
  destroy(): void;
}

/** Answers a request and returns true, or returns false (having done nothing) to leave it to node:http. */
export type Http1Handler = (req: Http1Request, res: Http1Response) => boolean;

export interface Http1Options {
  readonly handler: Http1Handler;
  /** node's keepAliveTimeout: the Keep-Alive header and the idle limit; 0 for none. */
  readonly keepAliveTimeoutMs: number;
  /** Takes the socket (its unread bytes pushed back) from the first request left to node:http. */
  readonly handOff: (socket: net.Socket) => void;
}

class Answer implements Http1Response {
  bytes: string | Buffer | undefined;
  constructor(private readonly conn: Http1Connection, readonly method: string, readonly close: boolean) {}
  get sent(): boolean {
    return this.bytes !== undefined;
  }
  end(status: number, headers: Readonly<Record<string, HeaderValue>>, body: string | Buffer): void {
    if (this.bytes !== undefined) return;
    this.bytes = formatResponse(status, headers, body, this.close, this.conn.keepAliveS);
    this.conn.flush();
  }
  destroy(): void {
    this.conn.socket.destroy();
  }
}

export class Http1Connection {
  readonly keepAliveS: number;
  private buf: Buffer = Buffer.alloc(0);
  private readonly answers: Answer[] = [];
  /** No more requests are read: handed off (or about to be), closing, or the client is done. */
  private stopped = false;
  private handingOff = false;
  private ending = false;
  private serving = false;
  private awaitingDrain = false;
  private handedOff = false;

  constructor(readonly socket: net.Socket, private readonly opts: Http1Options) {
    this.keepAliveS = Math.floor(opts.keepAliveTimeoutMs / 1000);
    socket.allowHalfOpen = true; // a half-closed client still gets the answers it waits for
    socket.on('readable', this.onReadable);
    socket.once('end', this.onEnd);
    socket.on('error', this.onError);
    if (opts.keepAliveTimeoutMs > 0) {
      socket.on('timeout', this.onTimeout);
      socket.setTimeout(opts.keepAliveTimeoutMs);
    }
    this.onReadable();
  }

  /** GOAWAY's counterpart: no more requests; the socket ends once the answers owed are written. */
  shutdown(): void {
    if (this.handedOff) return;
    this.stop();
    this.ending = true;
    this.flush();
  }

  /** Writes the answers that are ready, in request order, then hands off or ends if that is due. */
  flush(): void {
    let out: (string | Buffer)[] | undefined;
    while (this.answers.length > 0 && this.answers[0]!.bytes !== undefined) {
      const a = this.answers.shift()!;
      (out ??= []).push(a.bytes!);
      if (a.close) {
        this.stop();
        this.ending = true;
        this.answers.length = 0;
      }
    }
    const s = this.socket;
    if (out !== undefined && !s.destroyed) {
      if (out.length === 1) s.write(out[0]!);
      else {
        s.cork();
        for (const b of out) s.write(b);
        s.uncork();
      }
    }
    if (this.answers.length > 0 || s.destroyed) return;
    if (this.ending) s.end();
    else if (this.handingOff) this.handOffNow();
    else if (!this.serving) this.onReadable();
  }

  /** Reads what has arrived (up to READ_AHEAD_BYTES_MAX ahead) and serves it; again while reading stopped at the cap. */
  private readonly onReadable = (): void => {
    for (;;) {
      let chunk: Buffer | null;
      while (!this.stopped && this.buf.length < READ_AHEAD_BYTES_MAX && (chunk = this.socket.read() as Buffer | null) !== null) {
        this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      }
      if (this.stopped) return;
      const capped = this.buf.length >= READ_AHEAD_BYTES_MAX;
      const before = this.buf.length;
      this.serve();
      if (!capped || this.buf.length === before) return;
    }
  };

  private serve(): void {
    this.serving = true;
    try {
      this.serveNext();
    } finally {
      this.serving = false;
    }
  }

  /** Requests from the front of buf while each is answered at once; stops at one still being answered. */
  private serveNext(): void {
    while (!this.stopped && this.buf.length > 0 && this.answers.length === 0) {
      if (this.socket.writableLength > WRITE_BUFFER_BYTES_MAX) {
        if (!this.awaitingDrain) {
          this.awaitingDrain = true;
          this.socket.once('drain', this.onDrain);
        }
        return;
      }
      const head = parseHead(this.buf);
      if (head === 'more') return;
      if (head === 'other' || head.contentLength > BODY_BYTES_MAX) return this.handOff();
      const total = head.headBytes + head.contentLength;
      if (this.buf.length < total) return;
      const answer = new Answer(this, head.method, head.close);
      this.answers.push(answer);
      const req: Http1Request = {
        method: head.method, url: head.url, host: head.host, contentType: head.contentType, authorization: head.authorization,
        contentLength: head.contentLength, close: head.close, headBytes: head.headBytes, body: this.buf.subarray(head.headBytes, total), socket: this.socket,
      };
      let taken: boolean;
      try {
        taken = this.opts.handler(req, answer);
      } catch {
        this.socket.destroy(); // a bug costs this connection, as a panic in Go's handler does
        return;
      }
      if (!taken) {
        this.answers.pop();
        return this.handOff();
      }
      this.buf = this.buf.subarray(total);
      if (head.close) this.stop();
    }
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.socket.removeListener('readable', this.onReadable);
  }

  /** From the request at the front of buf on, node:http's (once the answers before it are written). */
  private handOff(): void {
    this.stop();
    this.handingOff = true;
    if (this.answers.length === 0) this.handOffNow();
  }

  private handOffNow(): void {
    const s = this.socket;
    this.handingOff = false;
    this.handedOff = true;
    s.removeListener('end', this.onEnd);
    s.removeListener('error', this.onError);
    s.removeListener('timeout', this.onTimeout);
    s.setTimeout(0);
    s.allowHalfOpen = false;
    if (this.buf.length > 0) s.unshift(this.buf);
    this.buf = Buffer.alloc(0);
    this.opts.handOff(s);
  }

  private readonly onDrain = (): void => {
    this.awaitingDrain = false;
    if (!this.stopped) this.onReadable();
  };

  private readonly onEnd = (): void => {
    this.stop();
    this.ending = true;
    this.handingOff = false;
    this.flush();
  };

  /** A reset, or a write after the client went: the connection is over (as H2Connection's). */
  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onTimeout = (): void => {
    if (this.answers.length === 0 && !this.handingOff) this.socket.destroy();
  };
}

/** Serve `socket` (its first bytes still unread) as an HTTP/1.1 connection. */
export function serveHttp1(socket: net.Socket, opts: Http1Options): Http1Connection {
  return new Http1Connection(socket, opts);
}
