// A fault-injecting TCP proxy for the peer links of a cluster on 127.0.0.1 (no root needed).
//
// Each member advertises (--initial-advertise-peer-urls) the address of its own proxy, which forwards
// to the member's real --listen-peer-urls. So every peer byte passes through the proxy of the member
// that was dialed. The proxy learns which member dialed by reading the first request's headers
// (rafthttp sends X-PeerURLs, the sender's advertised URLs, and X-Server-From, its id), so faults
// are set per link and direction: link(a, b) is every byte a sends b, i.e. the request side of the
// connections a dials to b and the answer side of the connections b dials to a (rafthttp streams
// carry b's messages to a on the answer of a GET a made).
//
// Modes of a link, switched at runtime:
//   pass      — forward;
//   delay     — hold each chunk for delayMs (± jitterMs), order kept;
//   blackhole — accept and swallow (connections stay open, nothing arrives); connections that lost
//               bytes are closed when the link leaves blackhole, since their stream is torn;
//   drop      — close existing connections carrying the link and close new ones at once (TCP
//               carries both directions, so a drop cuts the pair both ways; use blackhole for one-way).
import { connect, createServer, type Server, type Socket } from 'node:net';

export type Mode = 'pass' | 'delay' | 'blackhole' | 'drop';
export interface LinkFault {
  mode: Mode;
  delayMs?: number;
  jitterMs?: number;
}

interface Conn {
  /** the member that dialed (undefined until its first request's headers are read) */
  src?: string;
  dst: string;
  client: Socket;
  server: Socket;
  /** bytes were swallowed (per direction): the stream is torn */
  tornUp: boolean;
  tornDown: boolean;
  upQ: Array<{ at: number; chunk: Buffer }>;
  downQ: Array<{ at: number; chunk: Buffer }>;
}

const PASS: LinkFault = { mode: 'pass' };

/** The proxies of one cluster and the faults of its links. */
export class PeerNetwork {
  private readonly links = new Map<string, LinkFault>();
  private readonly conns = new Set<Conn>();
  private readonly servers: Server[] = [];
  /** advertised peer URL or hex member id → member name */
  private readonly names = new Map<string, string>();
  private rng: () => number;
  /** counters for reports and tests */
  readonly stats = { accepted: 0, dropped: 0, swallowedBytes: 0, unidentified: 0 };

  constructor(rng: () => number = Math.random) {
    this.rng = rng;
  }

  /** Teach the proxies a member id (hex, as in X-Server-From). */
  nameId(idHex: string, name: string): void {
    this.names.set(idHex.toLowerCase(), name);
  }

  /** Start the proxy of member `dst`: listen on 127.0.0.1:listenPort, forward to 127.0.0.1:targetPort. */
  async listen(dst: string, listenPort: number, targetPort: number, advertisedUrl: string): Promise<void> {
    this.names.set(advertisedUrl.replace(/\/$/, ''), dst);
    const srv = createServer((client) => this.accept(dst, client, targetPort));
    this.servers.push(srv);
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(listenPort, '127.0.0.1', () => resolve());
    });
  }

  fault(from: string, to: string): LinkFault {
    return this.links.get(`${from}>${to}`) ?? PASS;
  }

  /** Set the fault of link from → to (the bytes `from` sends `to`). */
  set(from: string, to: string, f: LinkFault): void {
    const was = this.fault(from, to);
    this.links.set(`${from}>${to}`, f);
    for (const c of [...this.conns]) {
      if (!c.src) continue;
      const up = c.src === from && c.dst === to;
      const down = c.src === to && c.dst === from;
      if (!up && !down) continue;
      if (f.mode === 'drop') this.close(c, true);
      else if (was.mode === 'blackhole' && f.mode !== 'blackhole' && ((up && c.tornUp) || (down && c.tornDown))) this.close(c, false);
    }
  }

  /** Both directions between a and b. */
  setPair(a: string, b: string, f: LinkFault): void {
    this.set(a, b, f);
    this.set(b, a, f);
  }

  /** Every link back to pass (closing the connections whose streams were torn). */
  healAll(): void {
    for (const k of [...this.links.keys()]) {
      const [from, to] = k.split('>') as [string, string];
      this.set(from, to, PASS);
    }
    this.links.clear();
  }

  /** Current faults, for reports. */
  describe(): string {
    const l = [...this.links].filter(([, f]) => f.mode !== 'pass').map(([k, f]) => `${k}:${f.mode}${f.delayMs ? `(${f.delayMs}ms)` : ''}`);
    return l.length ? l.join(' ') : 'all pass';
  }

  async close_(): Promise<void> {
    for (const c of [...this.conns]) this.close(c, false);
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private close(c: Conn, dropped: boolean): void {
    if (dropped) this.stats.dropped++;
    this.conns.delete(c);
    c.client.destroy();
    c.server.destroy();
  }

  private accept(dst: string, client: Socket, targetPort: number): void {
    this.stats.accepted++;
    const server = connect(targetPort, '127.0.0.1');
    const c: Conn = { dst, client, server, tornUp: false, tornDown: false, upQ: [], downQ: [] };
    this.conns.add(c);
    const end = () => {
      if (this.conns.has(c)) this.close(c, false);
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
    client.setNoDelay(true);
    server.setNoDelay(true);
    let head = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      if (c.src === undefined) {
        head = Buffer.concat([head, chunk]);
        const endOfHead = head.indexOf('\r\n\r\n');
        if (endOfHead < 0 && head.length < 65536) return;
        c.src = this.identify(head.subarray(0, endOfHead < 0 ? head.length : endOfHead).toString('latin1'));
        chunk = head;
        if (this.fault(c.src, dst).mode === 'drop' || this.fault(dst, c.src).mode === 'drop') {
          this.close(c, true);
          return;
        }
      }
      this.forward(c, 'up', chunk);
    });
    server.on('data', (chunk: Buffer) => this.forward(c, 'down', chunk));
  }

  private identify(head: string): string {
    const h = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim();
    for (const u of (h('X-PeerURLs') ?? '').split(',')) {
      const n = this.names.get(u.trim().replace(/\/$/, ''));
      if (n) return n;
    }
    const from = h('X-Server-From');
    const n = from ? this.names.get(from.toLowerCase()) : undefined;
    if (n) return n;
    this.stats.unidentified++;
    return '?';
  }

  private forward(c: Conn, dir: 'up' | 'down', chunk: Buffer): void {
    const [from, to] = dir === 'up' ? [c.src!, c.dst] : [c.dst, c.src ?? '?'];
    const f = this.fault(from, to);
    const out = dir === 'up' ? c.server : c.client;
    if (f.mode === 'drop') {
      this.close(c, true);
      return;
    }
    if (f.mode === 'blackhole') {
      this.stats.swallowedBytes += chunk.length;
      if (dir === 'up') c.tornUp = true;
      else c.tornDown = true;
      return;
    }
    const ms = f.mode === 'delay' ? Math.max(0, (f.delayMs ?? 0) + (f.jitterMs ? (this.rng() * 2 - 1) * f.jitterMs : 0)) : 0;
    const q = dir === 'up' ? c.upQ : c.downQ;
    if (ms === 0 && q.length === 0) {
      out.write(chunk);
      return;
    }
    // order kept: a chunk leaves no earlier than the one before it
    const at = Math.max(Date.now() + ms, q.length ? q[q.length - 1]!.at : 0);
    q.push({ at, chunk });
    if (q.length === 1) this.pump(q, out);
  }

  private pump(q: Array<{ at: number; chunk: Buffer }>, out: Socket): void {
    while (q.length && q[0]!.at <= Date.now()) {
      const { chunk } = q.shift()!;
      if (!out.destroyed) out.write(chunk);
    }
    if (q.length) setTimeout(() => this.pump(q, out), q[0]!.at - Date.now());
  }
}
