// The client port's JavaScript HTTP/1.1 (platform/http1 + api/http/http1.ts + keysHttp1Handler) answers
// byte for byte as node:http, fastify and the raw /v2/keys handler do: the same request bytes, sent
// pipelined to a listener with it and one without (ETCD_TS_HTTP1=node), get the same bytes back.
import { afterEach, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { pino } from 'pino';
import { createHttpApp, http1Handler } from '../../../src/api/http/index.js';
import { v2Api } from '../../../src/api/v2/index.js';
import { createMetrics } from '../../../src/pkg/metrics.js';
import { listenClient, type ClientListener } from '../../../src/platform/listen.js';
import type { EtcdServerFacade } from '../../../src/server/facade.js';
import { fakeFacade } from './fake-v2.js';

const listeners: ClientListener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

async function start(withHttp1: boolean): Promise<number> {
  const { facade: base } = fakeFacade();
  const facade = { ...base, healthState: () => ({ alarms: 0, hasLeader: true }), healthRead: async () => undefined } as EtcdServerFacade;
  const metrics = createMetrics();
  const v2 = v2Api(facade, { metrics });
  const app = createHttpApp(facade, {
    logger: pino({ level: 'silent' }), maxRequestBytes: 1 << 20, enableV2: true, metrics, plugins: [v2.plugin], rawHandlers: [v2.keys, v2.auth],
  });
  await app.ready();
  const http1 = withHttp1 ? http1Handler(facade, { metrics, enableV2: true, handlers: [v2.keysHttp1] }) : undefined;
  const l = await listenClient(new URL('http://127.0.0.1:0'), { http: app, http1 });
  listeners.push(l);
  return l.address.port;
}

/** Where the first answer in `out` ends (-1: not yet); a HEAD answer has no body, one without a length ends with the connection. */
function answerEnd(out: string, head: boolean): number {
  const h = out.indexOf('\r\n\r\n');
  if (h < 0) return -1;
  const top = out.slice(0, h);
  const len = /\r\ncontent-length: (\d+)/i.exec(top);
  if (head) return h + 4;
  if (len !== null) return out.length >= h + 4 + Number(len[1]) ? h + 4 + Number(len[1]) : -1;
  if (/\r\ntransfer-encoding: chunked/i.test(top)) {
    const end = out.indexOf('\r\n0\r\n\r\n', h);
    return end < 0 ? -1 : end + 7;
  }
  return -1;
}

/**
 * One connection: each request sent once the answer to the one before is in (`pipelined`: all at
 * once); everything received until the server closes, Date masked.
 */
function exchange(port: number, requests: string[], pipelined = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    let pending = '';
    let next = 0;
    const send = (): void => {
      if (next < requests.length) s.write(Buffer.from(requests[next++]!));
    };
    s.on('connect', () => (pipelined ? s.write(Buffer.from(requests.join(''))) : send()));
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (pipelined) return;
      pending += d.toString('latin1');
      const end = answerEnd(pending, requests[next - 1]!.startsWith('HEAD '));
      if (end >= 0) {
        pending = pending.slice(end);
        send();
      }
    });
    s.on('close', () => resolve(out.replace(/Date: [^\r]*/g, 'Date: -')));
    s.on('error', reject);
  });
}

const form = 'Content-Type: application/x-www-form-urlencoded';
const req = (method: string, url: string, body = '', extra: string[] = []): string =>
  [`${method} ${url} HTTP/1.1`, 'Host: 127.0.0.1:2379', ...extra, ...(body || method === 'PUT' ? [form, `Content-Length: ${Buffer.byteLength(body)}`] : []), '', body].join('\r\n');
const last = req('GET', '/v2/keys/dir?recursive=true&sorted=true', '', ['Connection: close']);

/** Each a whole connection's worth of requests, each sent after the answer before it; the last ends the connection. */
const CONVERSATIONS = [
  [req('PUT', '/v2/keys/a', 'value=1'), req('GET', '/v2/keys/a'), req('PUT', '/v2/keys/dir/b', 'value=é&ttl=100'),
    req('POST', '/v2/keys/dir', 'value=q'), req('GET', '/v2/keys/nope'), req('PUT', '/v2/keys/a?prevValue=x', 'value=2'),
    req('PUT', '/v2/keys/a', 'ttl=x'), req('DELETE', '/v2/keys/dir?recursive=true'), req('PATCH', '/v2/keys/a'),
    req('GET', '/v2/keys/x/../dir'), req('PUT', '/v2/keys/x/../a', 'value=3'), req('GET', '/v2/keys/a?prevIndex=z'),
    req('PUT', '/v2/keys/big', `value=${'v'.repeat(3000)}`), req('GET', '/v2/keys/big'), req('GET', '/version'), req('GET', '/health'),
    req('PUT', '/v2/keys/a', 'value=4', ['Content-Type: text/plain']), req('PUT', '/v2/keys/a?value=5', 'value=6'), last],
  // handed to node:http mid-way: a watch, a route of fastify's, HEAD, OPTIONS, a chunked body, a large body
  [req('PUT', '/v2/keys/w', 'value=1'), req('GET', '/v2/keys/w?wait=true&waitIndex=1'), req('GET', '/v2/keys/w'), last],
  [req('GET', '/v2/keys/a'), req('GET', '/metrics-nope'), req('GET', '/v2/keys/a'), last],
  [req('GET', '/v2/keys/a'), req('HEAD', '/v2/keys/a'), req('OPTIONS', '/v2/keys/a'), last],
  [req('PUT', '/v2/keys/c', 'value=1'), req('PUT', '/v2/keys/c', '', ['Transfer-Encoding: chunked']).replace(/Content-Length: 0\r\n/, '') + '7\r\nvalue=2\r\n0\r\n\r\n', last],
  [req('PUT', '/v2/keys/d', `value=${'d'.repeat(70 * 1024)}`), last],
  // what Go's server refuses: a bad path escape, no Host, two Hosts; HTTP/1.0
  [req('GET', '/v2/keys/a'), req('GET', '/v2/keys/%zz')],
  [req('GET', '/v2/keys/a'), 'GET /v2/keys/a HTTP/1.1\r\n\r\n'],
  [req('GET', '/v2/keys/a'), req('GET', '/v2/keys/a', '', ['Host: other'])],
  [req('GET', '/v2/keys/a', '', ['Connection: keep-alive']), 'GET /v2/keys/a HTTP/1.0\r\nHost: h\r\n\r\n'],
];

/** Pipelined: reads only (node:http runs pipelined requests at once, Go and ours one after the other). */
const PIPELINED = [
  [req('GET', '/v2/keys/a'), req('GET', '/v2/keys/nope'), req('GET', '/version'), req('GET', '/v2/keys/a?wait=true&waitIndex=1'), req('GET', '/v2/keys/a'), last],
];

describe('v2 keys, /health and /version on the JavaScript HTTP/1.1', () => {
  it('answer the bytes node:http and fastify answer, pipelined and handed off mid-connection', async () => {
    const [ours, node] = await Promise.all([start(true), start(false)]);
    for (const [c, pipelined] of [...CONVERSATIONS.map((c) => [c, false] as const), ...PIPELINED.map((c) => [c, true] as const)]) {
      const [a, b] = await Promise.all([exchange(ours, c, pipelined), exchange(node, c, pipelined)]);
      expect(a, c.join('').slice(0, 300)).toBe(b);
      expect(a.split('HTTP/1.1 ').length).toBeGreaterThan(c.length - 1);
    }
  });

  it("a bad request pipelined behind good ones gets Go's 400 after their answers (node:http answered it first)", async () => {
    const port = await start(true);
    const out = await exchange(port, [req('GET', '/v2/keys/nope'), req('GET', '/version'), 'GET /v2/keys/a HTTP/1.1\r\nHost: h\r\nX: \x01\r\n\r\n'], true);
    expect(out.split('HTTP/1.1 ').slice(1).map((a) => a.slice(0, 3))).toEqual(['404', '200', '400']);
    expect(out.endsWith('HTTP/1.1 400 Bad Request: invalid header value\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request: invalid header value')).toBe(true);
  });
});
