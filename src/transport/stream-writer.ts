// The writing end of one stream to a peer: the peer dialed GET /raft/stream/<type>/<its id> on us,
// and we write to that response for as long as it stays open. A link heartbeat goes out every third
// of the peer's read timeout so an idle stream is not taken for a dead one.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../pkg/logger.js';
import type { Message } from '../raft/types.js';
import type { StreamEncoder, StreamType } from './stream-codec.js';

/** etcd's ConnReadTimeout: a stream that says nothing for this long is dead. */
export const CONN_READ_TIMEOUT_MS = 5000;
/** Messages written but not yet handed to the kernel before further ones are dropped (etcd's 4096). */
export const STREAM_BUF_MESSAGES = 4096;
/** Bytes written but not yet handed to the kernel before further messages are dropped (memory bound). */
export const STREAM_BUF_BYTES = 64 * 1024 * 1024;

export class StreamWriter {
  private res: ServerResponse | undefined;
  private enc: StreamEncoder | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private pending = 0;

  constructor(
    readonly type: StreamType,
    private readonly logger: Logger,
    private readonly onLost: () => void,
    /** Each MsgApp handed to the kernel, with how long that took (ms): the follower's stats. */
    private readonly onAppsSent: (count: number, ms: number) => void = () => {},
    private readonly onBytes: (n: number) => void = () => {},
  ) {}

  get working(): boolean {
    return this.res !== undefined;
  }

  /** Takes over a newly dialed stream (closing the one before, if any). */
  attach(res: ServerResponse, enc: StreamEncoder): void {
    const replaced = this.close();
    this.res = res;
    this.enc = enc;
    this.pending = 0;
    res.socket?.setNoDelay(true);
    res.on('close', () => {
      if (this.res !== res) return;
      this.logger.warn({ streamType: this.type }, 'lost TCP streaming connection with remote peer');
      this.detach();
      this.onLost();
    });
    this.heartbeat = setInterval(() => this.write([], true), CONN_READ_TIMEOUT_MS / 3);
    this.heartbeat.unref();
    if (replaced) this.logger.warn({ streamType: this.type }, 'closed TCP streaming connection with remote peer');
    this.logger.info({ streamType: this.type }, 'established TCP streaming connection with remote peer');
  }

  /**
   * Writes messages in one chunk; false when the stream is down or its buffer is full (the caller
   * reports the peer unreachable and raft sends again later).
   */
  write(messages: readonly Message[], heartbeat = false): boolean {
    const res = this.res;
    if (!res || !this.enc) return false;
    if (!heartbeat && (this.pending >= STREAM_BUF_MESSAGES || res.writableLength > STREAM_BUF_BYTES)) return false;
    const bytes = heartbeat ? this.enc.heartbeat() : this.enc.encode(messages);
    const n = messages.length;
    this.pending += n;
    const t0 = performance.now();
    this.onBytes(bytes.length);
    res.write(bytes, () => {
      this.pending -= n;
      if (this.type === 'msgapp' && n > 0) this.onAppsSent(n, performance.now() - t0);
    });
    return true;
  }

  /** Closes the stream; true if one was open. */
  close(): boolean {
    const res = this.res;
    if (!res) return false;
    this.detach();
    res.end();
    res.socket?.destroy();
    return true;
  }

  private detach(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.res = undefined;
    this.enc = undefined;
  }
}
