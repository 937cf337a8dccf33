// The pipeline: POST /raft with one raftpb.Message per request, four requests in flight at most, for
// the messages no stream can carry yet (before the peer has dialed our streams, or after they broke).
// And the snapshot sender: POST /raft/snapshot with the framed MsgSnap followed by the database.
import type { ClientRequest, IncomingMessage } from 'node:http';
import { failpoint } from '../pkg/failpoints.js';
import type { Logger } from '../pkg/logger.js';
import { encodeMessage } from '../raft/raftpb.js';
import { MessageType, type Message, type NodeId } from '../raft/types.js';
import type { Dialer } from './dial.js';
import { ERR_CLUSTER_ID_MISMATCH, ERR_INCOMPATIBLE_VERSION, requestHeaders, type LocalIdentity } from './peer-http.js';
import { frameMessage } from './stream-codec.js';

/** etcd's pipelineBufSize and connPerPipeline. */
export const PIPELINE_BUF_MESSAGES = 64;
export const PIPELINE_CONNS = 4;
const POST_TIMEOUT_MS = 30_000;

export interface PostContext {
  local: LocalIdentity;
  dialer: Dialer;
  logger: Logger;
  pickUrl(): string;
  unreachable(url: string): void;
  reportUnreachable(id: NodeId): void;
  reportSnapshot(id: NodeId, failed: boolean): void;
  onRemoved(): void;
  onActive(up: boolean, why?: string): void;
  /** Bytes sent to the peer (metrics). */
  sent(bytes: number): void;
  /** An append delivered (with its latency in ms) or not: the follower's stats. */
  appendResult(ok: boolean, ms: number): void;
}

class PostError extends Error {
  constructor(message: string, readonly removed = false) {
    super(message);
  }
}

/** etcd's checkPostResponse: 204 is success; the rest name why. */
function checkPostResponse(res: IncomingMessage, body: string, url: string): PostError | undefined {
  const text = body.replace(/\n$/, '');
  switch (res.statusCode) {
    case 204:
      return undefined;
    case 412:
      if (text === ERR_INCOMPATIBLE_VERSION || text === ERR_CLUSTER_ID_MISMATCH) return new PostError(text);
      return new PostError(`unhandled error "${body}" when precondition failed`);
    case 403:
      return new PostError('the member has been permanently removed from the cluster', true);
    default:
      return new PostError(`unexpected http status ${res.statusMessage ?? res.statusCode} while posting to "${url}"`);
  }
}

/** Posts a body to the peer; resolves when it answered 204. */
export function post(ctx: PostContext, path: string, contentType: string, body: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  const url = ctx.pickUrl();
  return new Promise<void>((resolve, reject) => {
    const req = ctx.dialer.request(url, {
      method: 'POST',
      path,
      headers: requestHeaders(ctx.local, { 'Content-Type': contentType }),
      pooled: true,
      timeoutMs: POST_TIMEOUT_MS,
    });
    const fail = (err: Error): void => {
      ctx.unreachable(url);
      reject(err);
    };
    req.on('timeout', () => req.destroy(new Error('i/o timeout')));
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        const err = checkPostResponse(res, Buffer.concat(chunks).toString(), `${url}${path}`);
        if (!err) return resolve();
        if (err.removed) ctx.onRemoved();
        fail(err);
      });
    });
    void (async () => {
      try {
        for await (const chunk of body) {
          if (req.destroyed) break; // failed meanwhile: stop reading the body (a generator's finally runs)
          if (!req.write(chunk)) await drained(req);
        }
        if (!req.destroyed) req.end();
      } catch (err) {
        req.destroy(err as Error);
      }
    })();
  });
}

/** Resolves when the request can take more, or is gone. */
function drained(req: ClientRequest): Promise<void> {
  if (req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

export class Pipeline {
  private readonly queue: Message[] = [];
  private inFlight = 0;
  private stopped = false;

  constructor(private readonly ctx: PostContext) {}

  /** Queues a message; false when the queue is full (dropped). */
  send(m: Message): boolean {
    if (this.stopped || this.queue.length >= PIPELINE_BUF_MESSAGES) return false;
    this.queue.push(m);
    this.pump();
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < PIPELINE_CONNS && this.queue.length > 0) {
      const m = this.queue.shift()!;
      this.inFlight++;
      void this.postOne(m).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async postOne(m: Message): Promise<void> {
    const bytes = encodeMessage(m);
    const t0 = performance.now();
    try {
      await post(this.ctx, '/raft', 'application/protobuf', [bytes]);
      if (m.type === MessageType.MsgApp) this.ctx.appendResult(true, performance.now() - t0);
      this.ctx.onActive(true);
      this.ctx.sent(bytes.length);
      if (m.type === MessageType.MsgSnap) this.ctx.reportSnapshot(m.to, false);
    } catch (err) {
      if (m.type === MessageType.MsgApp) this.ctx.appendResult(false, 0);
      this.ctx.onActive(false, (err as Error).message);
      this.ctx.reportUnreachable(m.to);
      if (m.type === MessageType.MsgSnap) this.ctx.reportSnapshot(m.to, true);
      this.ctx.logger.debug({ err: (err as Error).message }, 'failed to post raft message');
    }
  }
}

/** Sends a MsgSnap with the database after it; reports the outcome to raft. */
export async function sendSnapshot(ctx: PostContext, m: Message, db: AsyncIterable<Uint8Array>, dbBytes: number): Promise<void> {
  ctx.logger.info({ snapshotIndex: m.snapshot?.metadata.index, dbBytes }, 'sending database snapshot');
  let bytes = 0;
  async function* body(): AsyncIterable<Uint8Array> {
    try {
      const frame = frameMessage(m);
      bytes += frame.length;
      yield frame;
      failpoint('snapshotBeforeSendDb');
      for await (const c of db) {
        bytes += c.length;
        yield c;
      }
    } finally {
      await db[Symbol.asyncIterator]().return?.(); // a source left unread still lets go of what it holds
    }
  }
  try {
    await post(ctx, '/raft/snapshot', 'application/octet-stream', body());
    ctx.onActive(true);
    ctx.sent(bytes);
    ctx.reportSnapshot(m.to, false);
    ctx.logger.info({ snapshotIndex: m.snapshot?.metadata.index, bytes }, 'sent database snapshot');
  } catch (err) {
    ctx.logger.warn({ err: (err as Error).message }, 'failed to send database snapshot');
    ctx.onActive(false, (err as Error).message);
    ctx.reportUnreachable(m.to);
    ctx.reportSnapshot(m.to, true);
  }
}
