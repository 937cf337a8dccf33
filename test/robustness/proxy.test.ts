import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../integration/harness.js';
import { PeerNetwork } from './proxy.js';

// member "b" is a TCP server that echoes every byte back prefixed with '<'; member "a" dials b's proxy
// and introduces itself as rafthttp does (X-PeerURLs: a's advertised URL).
let net: PeerNetwork;
let target: Server;
const sockets: Socket[] = [];

async function setup(): Promise<{ port: number; aUrl: string }> {
  net = new PeerNetwork(() => 0.5);
  target = createServer((s) => s.on('data', (d) => s.write(Buffer.concat([Buffer.from('<'), d]))));
  const tp = await freePort();
  await new Promise<void>((r) => target.listen(tp, '127.0.0.1', () => r()));
  const bp = await freePort();
  await net.listen('b', bp, tp, `http://127.0.0.1:${bp}`);
  const aUrl = 'http://127.0.0.1:1'; // a's advertised URL (a has its own proxy in a real cluster)
  await net.listen('a', await freePort(), 1, aUrl);
  return { port: bp, aUrl };
}

function dial(port: number, aUrl: string): Promise<{ s: Socket; got: () => string; closed: () => boolean }> {
  return new Promise((resolve) => {
    let buf = '';
    let closed = false;
    const s = connect(port, '127.0.0.1', () => {
      s.write(`POST /raft HTTP/1.1\r\nHost: b\r\nX-PeerURLs: ${aUrl}\r\nX-Server-From: 1a\r\n\r\n`);
      resolve({ s, got: () => buf, closed: () => closed });
    });
    s.on('data', (d) => (buf += d.toString()));
    s.on('close', () => (closed = true));
    s.on('error', () => {});
    sockets.push(s);
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await net.close_();
  await new Promise<void>((r) => target.close(() => r()));
});

describe('peer proxy', () => {
  it('passes bytes both ways and knows who dialed', async () => {
    const { port, aUrl } = await setup();
    const c = await dial(port, aUrl);
    await sleep(100);
    c.s.write('hello');
    await sleep(100);
    expect(c.got()).toContain('<POST /raft');
    expect(c.got()).toContain('<hello');
    expect(net.stats.unidentified).toBe(0);
  });

  it('delays each chunk, keeping order', async () => {
    const { port, aUrl } = await setup();
    const c = await dial(port, aUrl);
    await sleep(100);
    net.set('a', 'b', { mode: 'delay', delayMs: 300 });
    const t0 = Date.now();
    c.s.write('one');
    await sleep(20);
    c.s.write('two');
    while (!c.got().includes('<two') && Date.now() - t0 < 3000) await sleep(10);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(c.got().indexOf('<one')).toBeLessThan(c.got().indexOf('<two'));
  });

  it('blackholes one direction only, and closes the torn connection on heal', async () => {
    const { port, aUrl } = await setup();
    const c = await dial(port, aUrl);
    await sleep(100);
    net.set('b', 'a', { mode: 'blackhole' }); // b's answers to a vanish; a's bytes still reach b
    c.s.write('lost');
    await sleep(200);
    expect(c.got()).not.toContain('lost');
    expect(c.closed()).toBe(false);
    expect(net.stats.swallowedBytes).toBeGreaterThan(0);
    net.healAll();
    await sleep(100);
    expect(c.closed()).toBe(true);
    const d = await dial(port, aUrl);
    await sleep(100);
    expect(d.got()).toContain('<POST');
  });

  it('drop closes existing connections and refuses new ones until healed', async () => {
    const { port, aUrl } = await setup();
    const c = await dial(port, aUrl);
    await sleep(100);
    net.set('a', 'b', { mode: 'drop' });
    await sleep(50);
    expect(c.closed()).toBe(true);
    const d = await dial(port, aUrl);
    await sleep(150);
    expect(d.closed()).toBe(true);
    expect(d.got()).toBe('');
    net.healAll();
    const e = await dial(port, aUrl);
    await sleep(100);
    expect(e.got()).toContain('<POST');
    expect(net.describe()).toBe('all pass');
  });
});
