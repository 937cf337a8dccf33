// One remote member: the streams it dialed on us (we write), the streams we dial on it (we read),
// the pipeline, and which of its URLs to use. send() picks as etcd does: a MsgSnap goes by the
// pipeline, a MsgApp by the msgapp stream when it is up, anything by the message stream when it is
// up, and the pipeline otherwise; a full buffer drops the message and reports the peer unreachable.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../pkg/logger.js';
import { MessageType, type Message, type NodeId } from '../raft/types.js';
import type { Dialer } from './dial.js';
import { requestHeaders, type LocalIdentity } from './peer-http.js';

/** etcd's proberInterval: the read timeout less a second. */
const PROBE_INTERVAL_MS = 4000;
import { Pipeline, sendSnapshot, type PostContext } from './pipeline.js';
import { newStreamEncoder, type StreamType } from './stream-codec.js';
import { StreamReader } from './stream-reader.js';
import { StreamWriter } from './stream-writer.js';

export interface PeerEvents {
  deliver(m: Message): void;
  reportUnreachable(id: NodeId): void;
  reportSnapshot(id: NodeId, failed: boolean): void;
  onRemoved(): void;
  bytes(peer: NodeId, direction: 'sent' | 'received', bytes: number): void;
  sendFailure(peer: NodeId): void;
  roundTrip(peer: NodeId, seconds: number): void;
  active(peer: NodeId, up: boolean): void;
  /** An append to this peer delivered (latency ms) or failed. */
  appendResult(peer: NodeId, ok: boolean, ms: number): void;
}

/** Round-robins over a peer's URLs, moving on from one that failed (etcd's urlPicker). */
class UrlPicker {
  private i = 0;
  constructor(private urls: string[]) {}
  pick(): string {
    return this.urls[this.i % this.urls.length]!;
  }
  unreachable(url: string): void {
    if (this.pick() === url) this.i = (this.i + 1) % this.urls.length;
  }
  update(urls: string[]): void {
    this.urls = urls;
    this.i = 0;
  }
}

export class Peer {
  /** When the link last came up (0: not active). */
  activeSinceMs = 0;
  private readonly picker: UrlPicker;
  private readonly writers: Record<StreamType, StreamWriter>;
  private readonly readers: StreamReader[];
  private readonly pipeline: Pipeline;
  private readonly post: PostContext;
  private paused = false;
  private readonly prober: NodeJS.Timeout;

  constructor(
    readonly id: NodeId,
    urls: string[],
    local: LocalIdentity,
    dialer: Dialer,
    private readonly logger: Logger,
    private readonly events: PeerEvents,
  ) {
    this.picker = new UrlPicker(urls);
    const onActive = (up: boolean, why?: string): void => this.setActive(up, why);
    const common = {
      local,
      dialer,
      logger,
      pickUrl: () => this.picker.pick(),
      unreachable: (u: string) => this.picker.unreachable(u),
      onRemoved: () => events.onRemoved(),
      onActive,
    };
    this.post = {
      ...common,
      reportUnreachable: (to: NodeId) => {
        events.sendFailure(id);
        events.reportUnreachable(to);
      },
      reportSnapshot: events.reportSnapshot,
      sent: (n) => events.bytes(id, 'sent', n),
      appendResult: (ok, ms) => events.appendResult(id, ok, ms),
    };
    this.pipeline = new Pipeline(this.post);
    const lost = (): void => undefined;
    const appsSent = (n: number, ms: number): void => {
      for (let i = 0; i < n; i++) events.appendResult(id, true, ms);
    };
    const sentBytes = (n: number): void => events.bytes(id, 'sent', n);
    this.writers = {
      msgapp: new StreamWriter('msgapp', logger, lost, appsSent, sentBytes),
      message: new StreamWriter('message', logger, lost, undefined, sentBytes),
    };
    const deliver = (m: Message): void => events.deliver(m);
    const received = (n: number): void => events.bytes(id, 'received', n);
    this.readers = (['msgapp', 'message'] as const).map((t) => new StreamReader(t, id, { ...common, deliver, received }));
    for (const r of this.readers) r.start();
    this.prober = setInterval(() => this.probe(dialer, local), PROBE_INTERVAL_MS);
    this.prober.unref();
  }

  /** Sends the messages of one Ready to this peer, each by the way etcd would pick. */
  send(messages: readonly Message[]): void {
    if (this.paused) return;
    const apps: Message[] = [];
    const rest: Message[] = [];
    for (const m of messages) {
      if (m.type === MessageType.MsgSnap) this.toPipeline(m);
      else if (m.type === MessageType.MsgApp && this.writers.msgapp.working) apps.push(m);
      else if (this.writers.message.working) rest.push(m);
      else this.toPipeline(m);
    }
    if (apps.length > 0 && !this.writers.msgapp.write(apps)) this.dropped(apps);
    if (rest.length > 0 && !this.writers.message.write(rest)) this.dropped(rest);
  }

  /** POST /raft/snapshot in the background; raft hears the outcome (reportSnapshot) in every case. */
  sendSnapshot(m: Message, db: AsyncIterable<Uint8Array>, dbBytes: number): void {
    if (this.paused) {
      void db[Symbol.asyncIterator]().return?.();
      this.events.reportSnapshot(this.id, true);
      return;
    }
    void sendSnapshot(this.post, m, db, dbBytes);
  }

  /** A stream the peer dialed on us. */
  attach(type: StreamType, res: ServerResponse): void {
    this.writers[type].attach(res, newStreamEncoder(type));
    this.setActive(true);
  }

  update(urls: string[]): void {
    this.picker.update(urls);
  }

  /** Stops sending and receiving (etcd's Pause, for tests that cut a link). */
  pause(paused: boolean): void {
    this.paused = paused;
    for (const r of this.readers) r.pause(paused);
  }

  stop(): void {
    clearInterval(this.prober);
    if (this.activeSinceMs !== 0) this.events.active(this.id, false);
    for (const r of this.readers) r.stop();
    this.writers.msgapp.close();
    this.writers.message.close();
    this.pipeline.stop();
  }

  /** etcd's prober: GET /raft/probing now and then, for the round-trip time histogram. */
  private probe(dialer: Dialer, local: LocalIdentity): void {
    const url = this.picker.pick();
    const t0 = performance.now();
    const req = dialer.request(url, { method: 'GET', path: '/raft/probing', headers: requestHeaders(local), pooled: true, timeoutMs: PROBE_INTERVAL_MS });
    req.on('timeout', () => req.destroy(new Error('i/o timeout')));
    req.on('error', () => undefined);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) this.events.roundTrip(this.id, (performance.now() - t0) / 1000);
      });
    });
    req.end();
  }

  private toPipeline(m: Message): void {
    if (!this.pipeline.send(m)) this.dropped([m]);
  }

  private dropped(messages: readonly Message[]): void {
    this.events.sendFailure(this.id);
    this.events.reportUnreachable(this.id);
    for (const m of messages) if (m.type === MessageType.MsgSnap) this.events.reportSnapshot(this.id, true);
    this.logger.debug({ dropped: messages.length }, 'dropped internal Raft message since sending buffer is full (overloaded network)');
  }

  private setActive(up: boolean, why?: string): void {
    if (up && this.activeSinceMs === 0) {
      this.activeSinceMs = Date.now();
      this.events.active(this.id, true);
      this.logger.info('peer became active');
    } else if (!up && this.activeSinceMs !== 0 && !this.writers.message.working && !this.writers.msgapp.working) {
      this.activeSinceMs = 0;
      this.events.active(this.id, false);
      this.logger.warn({ error: why }, 'peer became inactive (message send to peer failed)');
    }
  }
}
