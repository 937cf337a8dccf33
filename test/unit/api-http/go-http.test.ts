// The HTTP/1 app's limits and refusals before any handler, as Go's net/http in etcd 3.4.23 answers
// the same bytes (seen 2026-12-06): headers up to 1 MiB + 4 KiB, Go's bare 400/431/501 texts.
import net from 'node:net';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../src/api/http/index.js';
import { GO_MAX_HEADER_BYTES } from '../../../src/api/http/go-http.js';
import { createFakeFacade } from './fake-facade.js';

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  app = createHttpApp(createFakeFacade().facade, { logger: pino({ level: 'silent' }), maxRequestBytes: 1 << 20, enableV2: false });
  await app.ready();
  await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', r));
  port = (app.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await app.close();
});

/** Raw bytes in, everything that comes back until the server closes. */
function exchange(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let reply = '';
    sock.on('data', (d) => (reply += d.toString('latin1')));
    sock.on('error', () => {});
    sock.on('close', () => resolve(reply));
    sock.write(bytes);
  });
}

const goError = (status: string, body = status): string =>
  `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${body}`;
const get = (headers: string): string => `GET /version HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`;

describe('Go\'s request limits and refusals', () => {
  it('serves headers of 20 KB, 1,000,000 bytes and up to the limit (Node alone: 431 past 16 KB)', async () => {
    for (const n of [20_000, 1_000_000, GO_MAX_HEADER_BYTES - 100]) {
      expect(await exchange(get(`Host: x\r\nX-A: ${'a'.repeat(n)}\r\n`))).toMatch(/^HTTP\/1.1 200 OK[^]*"etcdserver"/);
    }
    expect(await exchange(get(`Host: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: v\r\n`).join('')}`))).toMatch(/^HTTP\/1.1 200 OK/);
  });

  it('answers a head over 1 MiB + 4 KiB with Go\'s 431', async () => {
    expect(await exchange(get(`Host: x\r\nX-A: ${'a'.repeat(1_100_000)}\r\n`))).toBe(goError('431 Request Header Fields Too Large'));
  });

  it.each([
    ['no Host on HTTP/1.1', get(''), goError('400 Bad Request: missing required Host header')],
    ['two Host headers', get('Host: a\r\nHost: b\r\n'), goError('400 Bad Request')],
    ['a malformed Host', get('Host: a b\r\n'), goError('400 Bad Request: malformed Host header')],
    ['a header line without a colon', get('Host: x\r\nBad Header\r\n'), goError('400 Bad Request')],
    ['a control byte in a header value', get('Host: x\r\nX-A: a\u0001b\r\n'), goError('400 Bad Request: invalid header value')],
    ['two Content-Lengths', 'POST /version HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', goError('400 Bad Request')],
    ['a Content-Length that is no number', 'POST /version HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n', goError('400 Bad Request')],
    ['a transfer encoding other than chunked', 'POST /version HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', goError('501 Not Implemented', 'Unsupported transfer encoding')],
  ])('%s: %j', async (_name, bytes, want) => {
    expect(await exchange(bytes)).toBe(want);
  });

  it('takes HTTP/1.0 without Host, and an empty Host', async () => {
    expect(await exchange('GET /version HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1.1 200 OK/);
    expect(await exchange(get('Host:\r\n'))).toMatch(/^HTTP\/1.1 200 OK/);
  });
});
