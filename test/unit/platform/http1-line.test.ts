// The client port's first request line, judged as etcd's cmux judges it (src/platform/http1-line.ts):
// the verdicts, and what a raw client sees from a listener. Expectations are etcd 3.4.23's answers to
// the same bytes (2026-12-06): served, closed without an answer, or reset.
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenClient, type ClientListener } from '../../../src/platform/listen.js';
import { firstLineVerdict, isHttp1RequestLine, resetLikeCmux } from '../../../src/platform/http1-line.js';
import { httpHandler } from './mux-fixture.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const request = (url: string): string => `GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

describe('firstLineVerdict', () => {
  it.each([
    ['GET / HTTP/1.1\r\n', 'http1'],
    ['MKCOL /x HTTP/1.0\n', 'http1'], // any method: Go's server answers it
    ['GET /version HTTP/1.9\r\n', 'http1'],
    ['GET /ver sion HTTP/1.1\r\n', 'refuse'], // the proto would be "sion HTTP/1.1"
    ['GET /version HTTP/2.0\r\n', 'refuse'],
    ['GET /version HTTP/1.10\r\n', 'refuse'],
    ['GET /version\r\n', 'refuse'], // HTTP/0.9
    ['hello world\r\n', 'refuse'],
    ['hello\r\n', 'refuse'],
    ['GET / HTTP/1.1', 'more'],
    ['\u0000\u0001\u0002', 'more'],
  ])('%j: %s', (text, verdict) => {
    expect(firstLineVerdict(b(text))).toBe(verdict);
  });

  it('takes a line ending within the first 4096 bytes, refuses a longer one', () => {
    const line = (n: number): Buffer => b(`GET /${'a'.repeat(n - 'GET / HTTP/1.1\r\n'.length)} HTTP/1.1\r\n`);
    expect(line(4096).length).toBe(4096);
    expect(firstLineVerdict(line(4096))).toBe('http1');
    expect(firstLineVerdict(line(4097))).toBe('refuse');
    expect(firstLineVerdict(line(4097).subarray(0, 4095))).toBe('more');
    expect(firstLineVerdict(line(4097).subarray(0, 4096))).toBe('refuse');
  });

  it('parses the version as Go 1.19 does', () => {
    expect(['A B HTTP/1.0', 'A B HTTP/1.1', 'A  HTTP/1.1', 'A B C HTTP/1.1', 'A B http/1.1', 'A B HTTP/1.x'].map(isHttp1RequestLine))
      .toEqual([true, true, true, false, false, false]);
  });

  it('tells a reset from a close as etcd was seen to: a reset when cmux left bytes unread', () => {
    expect(resetLikeCmux(b('hello world\r\n\r\n'))).toBe(false);
    expect(resetLikeCmux(b('GET /version\r\n\r\n'))).toBe(false);
    expect(resetLikeCmux(b('hello world hello world hello\r\n'))).toBe(false);
    expect(resetLikeCmux(b(request('/ver sion')))).toBe(true); // the line ends in the first 24 bytes
    expect(resetLikeCmux(b(request(`/${'a'.repeat(5000)}`)))).toBe(true); // past 4096 bytes
  });
});

describe('a listener without TLS, as etcd\'s cmux', () => {
  const open: ClientListener[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
  });

  /** Send bytes, then report what came back and how the connection ended. */
  async function send(bytes: string): Promise<{ reply: string; end: string }> {
    const l = await listenClient(new URL('http://127.0.0.1:0'), { http: httpHandler });
    open.push(l);
    return new Promise((resolve) => {
      const sock = net.connect(l.address.port, '127.0.0.1');
      let reply = '';
      let end = 'open';
      sock.on('data', (d) => (reply += d.toString('latin1')));
      sock.on('end', () => (end = 'close'));
      sock.on('error', (e: NodeJS.ErrnoException) => (end = e.code ?? 'error'));
      sock.on('close', () => resolve({ reply, end }));
      sock.write(bytes);
      setTimeout(() => sock.destroy(), 3000);
    });
  }

  it('serves a request line of 3,000 bytes', async () => {
    const r = await send(request(`/${'a'.repeat(3000)}`));
    expect(r.reply).toMatch(/^HTTP\/1.1 200 OK/);
  });

  it('resets a request line of 5,000 bytes (and of 20,000) without an answer', async () => {
    for (const n of [5000, 20_000]) expect(await send(request(`/${'a'.repeat(n)}`))).toEqual({ reply: '', end: 'ECONNRESET' });
  });

  it('closes a connection whose first line is no HTTP/1 request line, without an answer', async () => {
    expect(await send('hello world\r\n\r\n')).toEqual({ reply: '', end: 'close' });
    expect(await send('GET /version\r\n\r\n')).toEqual({ reply: '', end: 'close' });
    expect(await send(`${'x'.repeat(5000)}`)).toEqual({ reply: '', end: 'ECONNRESET' });
  });
});
