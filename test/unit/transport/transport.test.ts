// The transport contract on real loopback sockets between PeerTransports: messages reach the other
// side by stream once the peer has dialed, by pipeline before that; a message to a dead peer and a
// failed snapshot are reported; send() never blocks, and a peer that stops reading delays nothing
// sent to another; a request from another cluster is refused with etcd's 412.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, type Message, type NodeId } from '../../../src/raft/types.js';
import { PeerTransport, type PeerTransportOptions, type Receiver } from '../../../src/transport/index.js';
import { encodeMessageFrame } from '../../../src/transport/msg-codec.js';

const logger = pino({ level: 'silent' });
const CLUSTER = 0xc1n;

function msg(p: Partial<Message> & { type: MessageType; to: NodeId; from: NodeId }): Message {
  return { term: 1, logTerm: 0, index: 0, entries: [], commit: 0, snapshot: undefined, reject: false, rejectHint: 0, context: undefined, ...p };
}

class Recorder implements Receiver {
  got: Message[] = [];
  unreachable: NodeId[] = [];
  snapshots: Array<{ id: NodeId; failed: boolean }> = [];
  removed = new Set<NodeId>();
  remotes: Array<{ id: NodeId; urls: string[] }> = [];
  addRemote(id: NodeId, urls: string[]): void {
    this.remotes.push({ id, urls });
  }
  process(m: Message): void {
    this.got.push(m);
  }
  isIdRemoved(id: NodeId): boolean {
    return this.removed.has(id);
  }
  reportUnreachable(id: NodeId): void {
    this.unreachable.push(id);
  }
  reportSnapshot(id: NodeId, failed: boolean): void {
    this.snapshots.push({ id, failed });
  }
}

interface Node {
  id: NodeId;
  url: string;
  tr: PeerTransport;
  rec: Recorder;
  server: Server;
  sockets: Socket[];
}

const open: Node[] = [];

async function node(id: NodeId, clusterId = CLUSTER, extra: Partial<PeerTransportOptions> = {}): Promise<Node> {
  const rec = new Recorder();
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const tr = new PeerTransport({ local: { id, clusterId, peerUrls: [url] }, receiver: rec, logger, ...extra });
  server.on('request', (req, res) => {
    if (!tr.handle(req, res)) res.writeHead(404).end();
  });
  const sockets: Socket[] = [];
  server.on('connection', (s: Socket) => sockets.push(s));
  const n = { id, url, tr, rec, server, sockets };
  open.push(n);
  return n;
}

function link(a: Node, b: Node): void {
  a.tr.addPeer(b.id, [b.url]);
  b.tr.addPeer(a.id, [a.url]);
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(async () => {
  for (const n of open.splice(0)) {
    await n.tr.close();
    n.server.closeAllConnections();
    await new Promise((r) => n.server.close(r));
  }
});

describe('PeerTransport', () => {
  it('delivers every kind of message once the streams are up, and MsgApps by the msgapp stream', async () => {
    const [a, b] = [await node(1n), await node(2n)];
    link(a, b);
    await until(() => a.tr.activeSince(2n) > 0 && b.tr.activeSince(1n) > 0);
    await new Promise((r) => setTimeout(r, 200));
    const app = msg({ type: MessageType.MsgApp, to: 2n, from: 1n, term: 2, logTerm: 2, index: 5, commit: 5, entries: [{ term: 2, index: 6, type: 0, data: Uint8Array.of(7) }] });
    const hb = msg({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n, term: 2, commit: 6 });
    a.tr.send([app, hb]);
    await until(() => b.rec.got.length === 2);
    const byType = new Map(b.rec.got.map((m) => [m.type, m]));
    expect([...byType.get(MessageType.MsgApp)!.entries[0]!.data]).toEqual([7]);
    expect(byType.get(MessageType.MsgApp)!.index).toBe(5);
    expect(byType.get(MessageType.MsgHeartbeat)!.commit).toBe(6);
    expect(a.rec.unreachable).toEqual([]);
  });

  it('sends by pipeline (POST /raft) while the peer has not dialed its streams', async () => {
    const [a, b] = [await node(1n), await node(2n)];
    b.tr.addPeer(1n, [a.url]); // only b knows a: a has no stream to write to yet
    a.tr.addPeer(2n, [b.url]);
    a.tr.send([msg({ type: MessageType.MsgVote, to: 2n, from: 1n, term: 3, logTerm: 1, index: 3 })]);
    await until(() => b.rec.got.length === 1);
    expect(b.rec.got[0]!.type).toBe(MessageType.MsgVote);
  });

  it('names the sender of a pipeline post, with its X-PeerURLs, to the receiver (etcd\'s addRemoteFromRequest)', async () => {
    const [a, b] = [await node(1n), await node(2n)];
    a.tr.addPeer(2n, [b.url]); // b has no link to a (a member that restarted before it applied the membership)
    a.tr.send([msg({ type: MessageType.MsgApp, to: 2n, from: 1n, term: 3, logTerm: 3, index: 9 })]);
    await until(() => b.rec.got.length === 1);
    expect(b.rec.remotes).toEqual([{ id: 1n, urls: [a.url] }]);
  });

  it('reports a peer that does not answer as unreachable, and a failed snapshot as failed', async () => {
    const a = await node(1n);
    a.tr.addPeer(9n, ['http://127.0.0.1:1']);
    a.tr.send([msg({ type: MessageType.MsgHeartbeat, to: 9n, from: 1n })]);
    a.tr.send([msg({ type: MessageType.MsgSnap, to: 9n, from: 1n })]);
    await until(() => a.rec.unreachable.length >= 2 && a.rec.snapshots.length >= 1);
    expect(a.rec.unreachable.every((id) => id === 9n)).toBe(true);
    expect(a.rec.snapshots).toContainEqual({ id: 9n, failed: true });
    a.tr.sendSnapshot(msg({ type: MessageType.MsgSnap, to: 9n, from: 1n }), (async function* () {
      yield Uint8Array.of(1, 2, 3);
    })(), 3);
    await until(() => a.rec.snapshots.length >= 2);
    expect(a.rec.snapshots[1]).toEqual({ id: 9n, failed: true });
  });

  it('sends a MsgSnap with the database the server gives for it; the receiver takes the bytes before raft sees the message', async () => {
    const snap = (index: number) => ({ data: Uint8Array.of(9), metadata: { index, term: 2, confState: { voters: [1n, 2n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } });
    const received: Array<{ index: number | undefined; bytes: string; snapSeenByRaft: boolean }> = [];
    let refuse = false;
    const b = await node(2n, CLUSTER, {
      receiveSnapshot: async (m, db) => {
        const chunks: Uint8Array[] = [];
        for await (const c of db) chunks.push(c);
        received.push({ index: m.snapshot?.metadata.index, bytes: Buffer.concat(chunks).toString(), snapSeenByRaft: b.rec.got.some((g) => g.type === MessageType.MsgSnap) });
        if (refuse) throw new Error('disk full');
      },
    });
    const a = await node(1n, CLUSTER, {
      snapshotDb: (m) => ({ message: { ...m, snapshot: snap(40) }, db: (async function* () { yield Buffer.from('data'); yield Buffer.from('base'); })(), dbBytes: 8 }),
    });
    link(a, b);
    a.tr.send([msg({ type: MessageType.MsgSnap, to: 2n, from: 1n, snapshot: snap(10) }), msg({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n })]);
    await until(() => a.rec.snapshots.length === 1 && b.rec.got.some((m) => m.type === MessageType.MsgSnap));
    expect(received).toEqual([{ index: 40, bytes: 'database', snapSeenByRaft: false }]);
    expect(b.rec.got.find((m) => m.type === MessageType.MsgSnap)!.snapshot?.metadata.index).toBe(40);
    expect(a.rec.snapshots).toEqual([{ id: 2n, failed: false }]);
    refuse = true; // the receiver could not save it: failed, and raft on its side never sees it
    const before = b.rec.got.filter((m) => m.type === MessageType.MsgSnap).length;
    a.tr.send([msg({ type: MessageType.MsgSnap, to: 2n, from: 1n, snapshot: snap(10) })]);
    await until(() => a.rec.snapshots.length === 2);
    expect(a.rec.snapshots[1]).toEqual({ id: 2n, failed: true });
    expect(b.rec.got.filter((m) => m.type === MessageType.MsgSnap)).toHaveLength(before);
  });

  it('lets go of a snapshot\'s database when the peer cannot be reached (the source is returned)', async () => {
    let released = 0;
    const a = await node(1n, CLUSTER, {
      snapshotDb: (m) => ({ message: m, db: (async function* () { try { yield Buffer.alloc(1 << 20); yield Buffer.alloc(1 << 20); } finally { released++; } })(), dbBytes: 2 << 20 }),
    });
    a.tr.addPeer(9n, ['http://127.0.0.1:1']);
    a.tr.send([msg({ type: MessageType.MsgSnap, to: 9n, from: 1n })]);
    await until(() => a.rec.snapshots.length === 1 && released === 1);
    expect(a.rec.snapshots).toEqual([{ id: 9n, failed: true }]);
    a.tr.send([msg({ type: MessageType.MsgSnap, to: 5n, from: 1n })]); // no such peer: failed at once
    expect(a.rec.snapshots[1]).toEqual({ id: 5n, failed: true });
  });

  it('never blocks on a peer that stops reading, and keeps another peer\'s heartbeats flowing', async () => {
    const [a, b, c] = [await node(1n), await node(2n), await node(3n)];
    link(a, b);
    link(a, c);
    await until(() => a.tr.activeSince(2n) > 0 && a.tr.activeSince(3n) > 0);
    await new Promise((r) => setTimeout(r, 200));
    // c stops reading the streams a writes to it (sockets paused): TCP backs up into a's buffers.
    for (const s of c.sockets) s.pause();
    const big = new Uint8Array(64 * 1024);
    const t0 = performance.now();
    for (let i = 0; i < 5000; i++) {
      a.tr.send([msg({ type: MessageType.MsgApp, to: 3n, from: 1n, term: 2, logTerm: 2, index: i, entries: [{ term: 2, index: i + 1, type: 0, data: big }] })]);
    }
    const sendMs = performance.now() - t0;
    expect(sendMs).toBeLessThan(5000); // generous: the point is that it returns at all
    expect(a.rec.unreachable).toContain(3n); // the full buffer dropped messages and said so
    const before = b.rec.got.length;
    a.tr.send([msg({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n, term: 2 })]);
    await until(() => b.rec.got.length > before, 2000);
  });

  it('refuses streams and posts from another cluster with 412 "cluster ID mismatch"', async () => {
    const a = await node(1n);
    const stranger = await node(2n, 0xbadn);
    a.tr.addPeer(2n, [stranger.url]);
    stranger.tr.addPeer(1n, [a.url]);
    const r = await fetch(`${a.url}/raft`, {
      method: 'POST',
      headers: { 'X-Server-From': '2', 'X-Server-Version': '3.4.23', 'X-Min-Cluster-Version': '3.0.0', 'X-Etcd-Cluster-ID': 'bad' },
      body: Buffer.from(encodeMessageFrame(msg({ type: MessageType.MsgHeartbeat, to: 1n, from: 2n })).subarray(8)),
    });
    expect(r.status).toBe(412);
    expect(await r.text()).toBe('cluster ID mismatch\n');
    await new Promise((res) => setTimeout(res, 300));
    expect(a.rec.got).toEqual([]);
  });

  it('answers a removed member\'s stream with 410 and an old version with 412 "incompatible version"', async () => {
    const a = await node(1n);
    a.rec.removed.add(5n);
    const base = { 'X-Server-From': '5', 'X-Min-Cluster-Version': '3.0.0', 'X-Etcd-Cluster-ID': CLUSTER.toString(16), 'X-Raft-To': '1' };
    const gone = await fetch(`${a.url}/raft/stream/message/5`, { headers: { ...base, 'X-Server-Version': '3.4.23' } });
    expect(gone.status).toBe(410);
    expect(await gone.text()).toBe('removed member\n');
    const old = await fetch(`${a.url}/raft/stream/message/5`, { headers: { ...base, 'X-Server-Version': '2.3.0' } });
    expect(old.status).toBe(412);
    expect(await old.text()).toBe('incompatible version\n');
  });
});
