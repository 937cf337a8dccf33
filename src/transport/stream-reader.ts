// The reading end of one stream from a peer: we dial GET /raft/stream/<type>/<our id> on the peer
// and decode what it writes, for as long as the connection lives; then dial again (at most every
// 100 ms, as etcd's rate limiter allows). A stream silent for the read timeout is dropped.
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../pkg/logger.js';
import type { Message, NodeId } from '../raft/types.js';
import type { Dialer } from './dial.js';
import { ERR_CLUSTER_ID_MISMATCH, ERR_INCOMPATIBLE_VERSION, idHex, requestHeaders, type LocalIdentity } from './peer-http.js';
import { newStreamDecoder, type StreamType } from './stream-codec.js';
import { CONN_READ_TIMEOUT_MS } from './stream-writer.js';

export const DIAL_RETRY_MS = 100;

export interface StreamReaderContext {
  local: LocalIdentity;
  dialer: Dialer;
  logger: Logger;
  /** The peer's URL to dial now (the picker's choice). */
  pickUrl(): string;
  /** The URL did not answer: pick another next time. */
  unreachable(url: string): void;
  deliver(m: Message): void;
  /** Bytes read from the stream (metrics). */
  received?(n: number): void;
  /** The peer says we were removed from the cluster (410). */
  onRemoved(): void;
  /** A stream came up or went down (peer activity, for stats and logs). */
  onActive(up: boolean, why?: string): void;
}

export class StreamReader {
  private stopped = false;
  private paused = false;
  private current: IncomingMessage | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastDialMs = 0;

  constructor(
    readonly type: StreamType,
    private readonly peerId: NodeId,
    private readonly ctx: StreamReaderContext,
  ) {}

  start(): void {
    this.dial();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.current?.destroy();
  }

  /** Drops what arrives while paused (etcd's CutPeer, for tests). */
  pause(paused: boolean): void {
    this.paused = paused;
  }

  private redial(): void {
    if (this.stopped) return;
    const wait = Math.max(0, this.lastDialMs + DIAL_RETRY_MS - Date.now());
    this.timer = setTimeout(() => this.dial(), wait);
    this.timer.unref();
  }

  private dial(): void {
    if (this.stopped) return;
    this.lastDialMs = Date.now();
    const url = this.ctx.pickUrl();
    const path = `/raft/stream/${this.type}/${idHex(this.ctx.local.id)}`;
    const req = this.ctx.dialer.request(url, {
      method: 'GET',
      path,
      headers: requestHeaders(this.ctx.local, { 'X-Raft-To': idHex(this.peerId) }),
      pooled: false,
      timeoutMs: CONN_READ_TIMEOUT_MS,
    });
    let failed = false;
    const fail = (why: string): void => {
      if (failed) return;
      failed = true;
      this.ctx.unreachable(url);
      this.ctx.onActive(false, why);
      this.redial();
    };
    req.on('timeout', () => req.destroy(new Error('i/o timeout')));
    req.on('error', (err) => fail(err.message));
    req.on('response', (res) => {
      failed = true; // from here on the response's own end decides when to dial again
      if (res.statusCode !== 200) return this.refused(res, url);
      this.read(res, () => this.redial());
    });
    req.end();
  }

  private read(res: IncomingMessage, done: () => void): void {
    this.current = res;
    this.ctx.onActive(true);
    this.ctx.logger.info({ streamType: this.type }, 'established TCP streaming connection with remote peer');
    const decoder = newStreamDecoder(this.type, this.ctx.local.id, this.peerId);
    res.socket.setTimeout(CONN_READ_TIMEOUT_MS, () => res.destroy(new Error('read timeout')));
    res.socket.setNoDelay(true);
    res.on('data', (chunk: Buffer) => {
      this.ctx.received?.(chunk.length);
      let messages: Message[];
      try {
        messages = decoder.push(chunk);
      } catch (err) {
        res.destroy(err as Error);
        return;
      }
      if (this.paused) return;
      for (const m of messages) this.ctx.deliver(m);
    });
    let closed = false;
    const close = (err?: Error): void => {
      if (closed) return;
      closed = true;
      if (this.current === res) this.current = undefined;
      this.ctx.logger.warn({ streamType: this.type, err: err?.message }, 'lost TCP streaming connection with remote peer');
      this.ctx.onActive(false, err?.message ?? 'EOF');
      done();
    };
    res.on('error', close);
    res.on('end', () => close());
    res.on('close', () => close());
  }

  /** A non-200 answer: etcd's handling of each status (the body names a 412's reason). */
  private refused(res: IncomingMessage, url: string): void {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', () => undefined);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      const body = Buffer.concat(chunks).toString().replace(/\n$/, '');
      this.ctx.unreachable(url);
      const remote = idHex(this.peerId);
      if (res.statusCode === 410) {
        this.ctx.logger.warn('the member has been permanently removed from the cluster');
        this.ctx.onRemoved();
      } else if (res.statusCode === 412 && (body === ERR_INCOMPATIBLE_VERSION || body === ERR_CLUSTER_ID_MISMATCH)) {
        this.ctx.logger.warn({ reason: body, remoteClusterId: res.headers['x-etcd-cluster-id'] }, 'request sent was ignored by remote peer');
      } else if (res.statusCode === 404) {
        this.ctx.logger.debug(`peer ${remote} failed to find local node ${idHex(this.ctx.local.id)}`);
      } else {
        this.ctx.logger.warn({ status: res.statusCode, body }, 'unhandled http status from peer stream');
      }
      this.ctx.onActive(false, `status ${res.statusCode}`);
      this.redial();
    };
    res.on('end', finish);
    res.on('close', finish); // a reset before the end: dial again all the same
  }
}
