// The peer transport: a Peer per remote member, and the /raft handlers of the peer listener.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { failpoint } from '../pkg/failpoints.js';
import type { Logger } from '../pkg/logger.js';
import { decodeMessage } from '../raft/raftpb.js';
import { MessageType, type Message, type NodeId } from '../raft/types.js';
import { Dialer, type PeerClientTls } from './dial.js';
import { RemovedMemberError, type MemberTransport, type Receiver } from './contract.js';
import { Peer } from './peer.js';
import { checkCompatibility, httpError, idHex, methodNotAllowed, parseIdHex, SERVER_VERSION, type LocalIdentity } from './peer-http.js';
import { LinkStats } from './stats.js';
import { readSnapshotFrame, type StreamType } from './stream-codec.js';

/** A pipeline body larger than this is refused (a single raft message; etcd reads it whole too). */
const PIPELINE_BODY_MAX = 512 * 1024 * 1024;

export interface PeerTransportOptions {
  local: LocalIdentity;
  receiver: Receiver;
  logger: Logger;
  tls?: PeerClientTls;
  /** Takes a received database snapshot (the bytes after the MsgSnap) before the message is processed. */
  receiveSnapshot?(m: Message, db: AsyncIterable<Uint8Array>): Promise<void>;
  /**
   * What to send for a MsgSnap from raft: the message (its snapshot may be replaced) and the database
   * to follow it (POST /raft/snapshot). Without it a MsgSnap goes alone by the pipeline.
   */
  snapshotDb?(m: Message): SnapshotToSend;
  /** The member was removed from the cluster (a peer said so): the server stops. */
  onRemoved?(): void;
  /** Traffic, failures, round trips and link state per peer (metrics). */
  observe?: TransportObserver;
}

/** A MsgSnap with the database bytes that follow it; dbBytes is an estimate for logs. */
export interface SnapshotToSend {
  message: Message;
  db: AsyncIterable<Uint8Array>;
  dbBytes: number;
}

export interface TransportObserver {
  bytes(peer: NodeId, direction: 'sent' | 'received', bytes: number): void;
  sendFailure(peer: NodeId): void;
  roundTrip(peer: NodeId, seconds: number): void;
  active(peer: NodeId, up: boolean): void;
}

export class PeerTransport implements MemberTransport {
  private readonly peers = new Map<NodeId, Peer>();
  /** etcd's v2 link statistics (/v2/stats/leader and /v2/stats/self). */
  readonly stats = new LinkStats();
  private readonly dialer: Dialer;
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly opts: PeerTransportOptions) {
    this.dialer = new Dialer(opts.tls);
    this.logger = opts.logger.child({ room: 'transport' });
  }

  get local(): LocalIdentity {
    return this.opts.local;
  }

  send(messages: Message[]): void {
    if (messages.length === 0) return;
    if (messages.length === 1) return this.sendTo(messages[0]!.to, messages);
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      const list = byPeer.get(m.to);
      if (list) list.push(m);
      else byPeer.set(m.to, [m]);
    }
    for (const [to, list] of byPeer) this.sendTo(to, list);
  }

  /** Sends a MsgSnap followed by the database bytes (POST /raft/snapshot). */
  sendSnapshot(m: Message, db: AsyncIterable<Uint8Array>, dbBytes: number): void {
    const p = this.peers.get(m.to);
    if (!p) {
      this.opts.receiver.reportSnapshot(m.to, true);
      return;
    }
    p.sendSnapshot(m, db, dbBytes);
  }

  addPeer(id: NodeId, peerUrls: string[]): void {
    if (this.closed || this.peers.has(id) || id === this.opts.local.id) return;
    const r = this.opts.receiver;
    this.peers.set(id, new Peer(id, peerUrls, this.opts.local, this.dialer, this.logger.child({ remotePeerId: idHex(id) }), {
      deliver: (m) => this.deliver(m),
      reportUnreachable: (to) => r.reportUnreachable(to),
      reportSnapshot: (to, failed) => r.reportSnapshot(to, failed),
      onRemoved: () => this.opts.onRemoved?.(),
      bytes: (peer, dir, n) => this.opts.observe?.bytes(peer, dir, n),
      sendFailure: (peer) => this.opts.observe?.sendFailure(peer),
      roundTrip: (peer, s) => this.opts.observe?.roundTrip(peer, s),
      active: (peer, up) => this.opts.observe?.active(peer, up),
      appendResult: (peer, ok, ms) => (ok ? this.stats.follower(peer).succeeded(ms) : this.stats.follower(peer).failed()),
    }));
    this.stats.follower(id);
    this.logger.info({ remotePeerId: idHex(id), remotePeerUrls: peerUrls }, 'added remote peer');
  }

  removePeer(id: NodeId): void {
    const p = this.peers.get(id);
    if (!p) return;
    p.stop();
    this.peers.delete(id);
    this.stats.followers.delete(id);
    this.logger.info({ remotePeerId: idHex(id) }, 'removed remote peer');
  }

  updatePeer(id: NodeId, peerUrls: string[]): void {
    this.peers.get(id)?.update(peerUrls);
  }

  /** One POST of a protobuf body to a peer URL (lease forwarding); resolves with the answer. */
  postRaw(url: string, path: string, body: Uint8Array, timeoutMs: number): Promise<{ status: number; body: Buffer }> {
    return this.dialer.exchange(url, { method: 'POST', path, headers: { 'Content-Type': 'application/protobuf' }, pooled: true, timeoutMs }, body);
  }

  /** When the link to a peer last came up (0: down or unknown). */
  activeSince(id: NodeId): number {
    return this.peers.get(id)?.activeSinceMs ?? 0;
  }

  /** Cuts (or mends) the links to one peer: nothing sent, nothing received. */
  pausePeer(id: NodeId, paused: boolean): void {
    this.peers.get(id)?.pause(paused);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.peers.values()) p.stop();
    this.peers.clear();
    this.dialer.close();
  }

  /** Serves /raft, /raft/stream/*, /raft/snapshot and /raft/probing; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/raft') void this.servePipeline(req, res);
    else if (path === '/raft/snapshot') void this.serveSnapshot(req, res);
    else if (path === '/raft/probing') this.serveProbing(req, res);
    else if (path.startsWith('/raft/stream/')) this.serveStream(req, res, path);
    else if (path.startsWith('/raft/')) httpError(res, 404, '404 page not found');
    else return false;
    return true;
  }

  private sendTo(to: NodeId, messages: Message[]): void {
    let snaps = false;
    for (const m of messages) {
      if (m.type === MessageType.MsgApp) this.stats.sendAppendRequestCnt++;
      else if (m.type === MessageType.MsgSnap) snaps = true;
    }
    const p = this.peers.get(to);
    if (!p) {
      if (to !== 0n) this.logger.debug({ remotePeerId: idHex(to) }, 'ignored message send request; unknown remote peer target');
      for (const m of messages) if (m.type === MessageType.MsgSnap) this.opts.receiver.reportSnapshot(to, true);
      return;
    }
    const snapshotDb = this.opts.snapshotDb;
    if (!snaps || !snapshotDb) return p.send(messages);
    p.send(messages.filter((m) => m.type !== MessageType.MsgSnap));
    for (const m of messages) {
      if (m.type !== MessageType.MsgSnap) continue;
      const s = snapshotDb(m);
      p.sendSnapshot(s.message, s.db, s.dbBytes);
    }
  }

  private deliver(m: Message): void {
    try {
      this.opts.receiver.process(m);
    } catch (err) {
      this.logger.warn({ from: idHex(m.from), type: MessageType[m.type], err: (err as Error).message }, 'failed to process Raft message');
    }
  }

  private refusedByHeaders(req: IncomingMessage, res: ServerResponse): boolean {
    const refusal = checkCompatibility(req.headers, this.opts.local, this.logger);
    if (!refusal) return false;
    httpError(res, 412, refusal, { 'X-Etcd-Cluster-ID': idHex(this.opts.local.clusterId) });
    return true;
  }

  /** etcd's addRemoteFromRequest: the sender of a pipeline or snapshot post, with its peer URLs. */
  private addRemoteFromRequest(req: IncomingMessage): void {
    const from = parseIdHex(String(req.headers['x-server-from'] ?? ''));
    const urls = req.headers['x-peerurls'];
    if (from !== undefined && typeof urls === 'string' && urls !== '') this.opts.receiver.addRemote?.(from, urls.split(','));
  }

  private async servePipeline(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    res.setHeader('X-Etcd-Cluster-ID', idHex(this.opts.local.clusterId));
    if (this.refusedByHeaders(req, res)) return;
    this.addRemoteFromRequest(req);
    let m: Message;
    try {
      const body = await readBody(req, PIPELINE_BODY_MAX);
      m = decodeMessage(body);
      this.opts.observe?.bytes(m.from, 'received', body.length);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'failed to unmarshal Raft message');
      return httpError(res, 400, 'error unmarshalling raft message');
    }
    if (this.processOrRefuse(m, res)) {
      res.writeHead(204);
      res.end();
    }
  }

  /** Hands a message to raft; answers 403 (and returns false) for a removed member. */
  private processOrRefuse(m: Message, res: ServerResponse): boolean {
    try {
      this.opts.receiver.process(m);
      return true;
    } catch (err) {
      if (err instanceof RemovedMemberError) httpError(res, 403, err.message);
      else {
        this.logger.warn({ err: (err as Error).message }, 'failed to process Raft message');
        httpError(res, 500, 'error processing raft message');
      }
      return false;
    }
  }

  private async serveSnapshot(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    res.setHeader('X-Etcd-Cluster-ID', idHex(this.opts.local.clusterId));
    if (this.refusedByHeaders(req, res)) return;
    this.addRemoteFromRequest(req);
    let frame: { message: Message; rest: AsyncIterable<Uint8Array> };
    try {
      frame = await readSnapshotFrame(req);
    } catch (err) {
      return httpError(res, 400, `failed to decode raft message (${(err as Error).message})`);
    }
    const m = frame.message;
    if (m.type !== MessageType.MsgSnap) return httpError(res, 400, 'wrong raft message type');
    this.logger.info({ remoteSnapshotSenderId: idHex(m.from), incomingSnapshotIndex: m.snapshot?.metadata.index }, 'receiving database snapshot');
    try {
      if (!this.opts.receiveSnapshot) throw new Error('this member cannot take a database snapshot');
      await this.opts.receiveSnapshot(m, afterFirstChunk(frame.rest, 'snapshotReceiveMidDb'));
    } catch (err) {
      return httpError(res, 500, `failed to save KV snapshot (${(err as Error).message})`);
    }
    if (this.processOrRefuse(m, res)) {
      res.writeHead(204);
      res.end();
    }
  }

  private serveProbing(_req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(`${JSON.stringify({ OK: true, Now: new Date().toISOString() })}\n`);
  }

  private serveStream(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
    res.setHeader('X-Server-Version', SERVER_VERSION);
    res.setHeader('X-Etcd-Cluster-ID', idHex(this.opts.local.clusterId));
    if (this.refusedByHeaders(req, res)) return;
    const m = /^\/raft\/stream\/(msgapp|message)\/([^/]*)$/.exec(path);
    if (!m) return httpError(res, 404, 'invalid path');
    const type = m[1] as StreamType;
    const from = parseIdHex(m[2]!);
    if (from === undefined) return httpError(res, 404, 'invalid from');
    if (this.opts.receiver.isIdRemoved(from)) {
      this.logger.warn({ remotePeerIdFrom: idHex(from) }, 'rejected stream from remote peer because it was removed');
      return httpError(res, 410, 'removed member');
    }
    const peer = this.peers.get(from);
    if (!peer) {
      this.logger.warn({ remotePeerIdFrom: idHex(from) }, 'failed to find remote peer in cluster');
      return httpError(res, 404, 'error sender not found');
    }
    if (req.headers['x-raft-to'] !== idHex(this.opts.local.id)) {
      this.logger.warn({ remotePeerIdFrom: idHex(from), to: req.headers['x-raft-to'] }, 'ignored streaming request; ID mismatch');
      return httpError(res, 412, 'to field mismatch');
    }
    res.writeHead(200);
    res.flushHeaders();
    peer.attach(type, res);
  }
}

async function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw new Error('raft message too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** The body, with a failpoint once its first chunk was read (a crash while a database arrives). */
async function* afterFirstChunk(body: AsyncIterable<Uint8Array>, point: string): AsyncIterable<Uint8Array> {
  let first = true;
  for await (const c of body) {
    yield c;
    if (first) failpoint(point);
    first = false;
  }
}
