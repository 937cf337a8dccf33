/*
 * The simulation's peer transport (transport/contract.ts's MemberTransport) over one simulated
 * network: each message is delayed 1..maxDelayMs on the simulated clock (so messages reorder), may be
 * dropped or duplicated, and is cut by a partition; a MsgSnap carries the sender's merged snapshot
 * (its database read whole before it leaves), saved by the receiver (receiveSnapshot) before raft
 * sees it, and reported to the sender's raft as etcd's snapshot sender does. A message from a member
 * the receiver knows removed is refused and the sender told so (onRemoved), as etcd's 403/410.
 * The peer URLs' own API (GET /members for a joining member, POST /members/promote/<id> and /leases
 * forwarded to the leader) travels the same network as one request and one answer, served by the
 * real handler (api/peer) of the member listening on the URL (SimNet.serve).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../../src/pkg/clock.js';
import { MessageType, type Message, type NodeId } from '../../../src/raft/types.js';
import { LinkStats, type MemberTransport, type PeerTransportOptions } from '../../../src/transport/index.js';
import type { PeerAnswer } from '../../../src/transport/dial.js';
import type { Rng } from '../rng.js';

/** A peer URL's HTTP handler, as api/peer's peerApi makes it (node's req and res, faked). */
export type PeerHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface NetFaults {
  dropRate: number;
  dupRate: number;
  maxDelayMs: number;
}

export class SimNet {
  private readonly ends = new Map<NodeId, SimTransport>();
  /** peer URL -> the member listening on it. */
  private readonly servers = new Map<string, { id: NodeId; handler: PeerHandler }>();
  /** Peer HTTP requests by path ('/members/promote/<id>' counted as '/members/promote'). */
  readonly requests = new Map<string, number>();
  /** node -> partition group (absent: group 0). */
  private group = new Map<NodeId, number>();
  delivered = 0;
  dropped = 0;
  snapshots = 0;

  constructor(
    private readonly rng: Rng,
    private readonly clock: Clock,
    public faults: NetFaults,
  ) {}

  attach(t: SimTransport): void {
    this.ends.set(t.id, t);
  }

  detach(t: SimTransport): void {
    if (this.ends.get(t.id) === t) this.ends.delete(t.id);
  }

  /** A member listens on a peer URL (until unserve). */
  serve(url: string, id: NodeId, handler: PeerHandler): void {
    this.servers.set(url, { id, handler });
  }

  unserve(url: string): void {
    this.servers.delete(url);
  }

  private delay(): number {
    return 5 * this.rng.int(1, Math.max(1, Math.floor(this.faults.maxDelayMs / 5)));
  }

  /**
   * One HTTP request from member `from` (0: not yet known) to a peer URL, answered by the handler
   * listening there: refused at once when nobody listens, lost (the caller times out) when dropped or
   * cut by a partition either way.
   */
  http(from: NodeId, url: string, method: 'GET' | 'POST', path: string, body: Uint8Array, timeoutMs: number): Promise<PeerAnswer> {
    const kind = path.startsWith('/members/promote/') ? '/members/promote' : path;
    this.requests.set(kind, (this.requests.get(kind) ?? 0) + 1);
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = this.clock.setTimeout(() => finish(() => reject(new Error('i/o timeout'))), timeoutMs);
      const finish = (f: () => void): void => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(timer);
        f();
      };
      const target = this.servers.get(url);
      if (!target) {
        this.clock.setTimeout(() => finish(() => reject(new Error('connection refused'))), this.delay());
        return;
      }
      if (this.rng.chance(this.faults.dropRate) || !this.linked(from, target.id)) return;
      this.clock.setTimeout(() => {
        if (this.servers.get(url) !== target || !this.linked(from, target.id)) return;
        const chunks = body.length > 0 ? [Buffer.from(body)] : [];
        const req = { method, url: path, headers: {}, [Symbol.asyncIterator]: async function* () { yield* chunks; } };
        let status = 200;
        const headers: Record<string, string> = {};
        const res = {
          setHeader(k: string, v: unknown) {
            headers[k.toLowerCase()] = String(v);
          },
          writeHead(s: number, h?: Record<string, unknown>) {
            status = s;
            for (const [k, v] of Object.entries(h ?? {})) headers[k.toLowerCase()] = String(v);
            return res;
          },
          end: (data?: string | Uint8Array) => {
            const answer = { status, headers, body: data === undefined ? Buffer.alloc(0) : Buffer.from(data) };
            // the answer leaves only if the member is still there, and crosses the network back
            if (this.servers.get(url) !== target) return;
            this.clock.setTimeout(() => {
              if (this.linked(from, target.id)) finish(() => resolve(answer));
            }, this.delay());
          },
        };
        if (!target.handler(req as unknown as IncomingMessage, res as unknown as ServerResponse)) {
          res.writeHead(404);
          res.end('404 page not found\n');
        }
      }, this.delay());
    });
  }

  partition(groups: NodeId[][]): void {
    this.group = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.group.set(id, i + 1)));
  }

  heal(): void {
    this.group = new Map();
  }

  private linked(a: NodeId, b: NodeId): boolean {
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0);
  }

  /** Messages of one Ready to one peer travel together (one stream write), each dropped or duplicated alone. */
  send(from: SimTransport, to: NodeId, ms: Message[]): void {
    const out: Message[] = [];
    for (const m of ms) {
      if (m.type === MessageType.MsgSnap) {
        this.sendSnapshot(from, m);
        continue;
      }
      if (this.rng.chance(this.faults.dropRate)) this.dropped++;
      else out.push(m);
      if (this.rng.chance(this.faults.dupRate)) out.push(m);
    }
    if (out.length === 0) return;
    if (!this.linked(from.id, to)) {
      this.dropped += out.length;
      return;
    }
    // delays in 5 ms steps: messages due at one instant are handled together (one settle)
    this.clock.setTimeout(() => this.deliver(from.id, to, out), this.delay());
  }

  private deliver(from: NodeId, toId: NodeId, ms: Message[]): void {
    const to = this.ends.get(toId);
    if (!to || !this.linked(from, toId)) {
      this.dropped += ms.length;
      return;
    }
    if (to.opts.receiver.isIdRemoved(from)) {
      // etcd answers a removed member's stream 410 and its posts 403: the sender learns it was removed
      this.dropped += ms.length;
      this.clock.setTimeout(() => this.ends.get(from)?.told(), this.delay());
      return;
    }
    this.delivered += ms.length;
    // (etcd adds the sender of a pipeline post it has no link to: addRemoteFromRequest)
    const sender = this.ends.get(from);
    if (sender) to.opts.receiver.addRemote?.(from, sender.opts.local.peerUrls);
    for (const m of ms) to.receive(m);
  }

  private sendSnapshot(from: SimTransport, m: Message): void {
    const s = from.opts.snapshotDb ? from.opts.snapshotDb(m) : { message: m, db: [] as Uint8Array[] };
    const lost = this.rng.chance(this.faults.dropRate) || !this.linked(from.id, m.to);
    const delay = this.delay() * 3;
    void (async () => {
      const chunks: Uint8Array[] = [];
      for await (const c of s.db) chunks.push(Uint8Array.from(c));
      this.clock.setTimeout(() => void this.deliverSnapshot(from, s.message, chunks, lost), delay);
    })().catch(() => from.reportSnapshot(m.to, true));
  }

  private async deliverSnapshot(from: SimTransport, m: Message, db: Uint8Array[], lost: boolean): Promise<void> {
    const to = this.ends.get(m.to);
    if (lost || !to || !this.linked(from.id, m.to)) {
      this.dropped++;
      from.reportSnapshot(m.to, true);
      return;
    }
    try {
      await to.opts.receiveSnapshot?.(m, (async function* () {
        yield* db;
      })());
      to.receive(m);
      this.snapshots++;
      from.reportSnapshot(m.to, false);
    } catch {
      from.reportSnapshot(m.to, true);
    }
  }
}

export class SimTransport implements MemberTransport {
  readonly stats = new LinkStats();
  readonly id: NodeId;
  private readonly peers = new Set<NodeId>();
  private alive = true;

  constructor(
    private readonly net: SimNet,
    readonly opts: PeerTransportOptions,
  ) {
    this.id = opts.local.id;
    net.attach(this);
  }

  send(messages: Message[]): void {
    if (!this.alive || messages.length === 0) return;
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      if (!this.peers.has(m.to)) continue;
      const list = byPeer.get(m.to);
      if (list) list.push(m);
      else byPeer.set(m.to, [m]);
    }
    for (const [to, list] of byPeer) this.net.send(this, to, list);
  }

  receive(m: Message): void {
    if (!this.alive) return;
    try {
      this.opts.receiver.process(m);
    } catch {
      // a removed member's message (RemovedMemberError), or a member stopping
    }
  }

  reportSnapshot(to: NodeId, failed: boolean): void {
    if (this.alive) this.opts.receiver.reportSnapshot(to, failed);
  }

  addPeer(id: NodeId): void {
    this.peers.add(id);
  }

  removePeer(id: NodeId): void {
    this.peers.delete(id);
  }

  updatePeer(): void {}

  activeSince(id: NodeId): number {
    return this.peers.has(id) ? 1 : 0;
  }

  postRaw(url: string, path: string, body: Uint8Array, timeoutMs: number): Promise<{ status: number; body: Buffer }> {
    if (!this.alive) return Promise.reject(new Error('transport closed'));
    return this.net.http(this.id, url, 'POST', path, body, timeoutMs);
  }

  /** A peer refused us as removed. */
  told(): void {
    if (this.alive) this.opts.onRemoved?.();
  }

  handle(): boolean {
    return false;
  }

  /** The member crashed or stopped: nothing more goes out or comes in. */
  kill(): void {
    this.alive = false;
    this.net.detach(this);
  }

  async close(): Promise<void> {
    this.kill();
  }
}
