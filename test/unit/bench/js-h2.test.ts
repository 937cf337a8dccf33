// The probe's JavaScript HTTP/2 for unary gRPC (bench/lib/js-h2.ts) against real clients: etcdctl
// (grpc-go), grpc-js, and node:http2 for CONTINUATION and a client window smaller than the answer;
// its HPACK decoder against RFC 7541's worked examples.
import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HpackReader } from '../../../bench/lib/h2-hpack.js';
import { listenOn, putAnswer, putKeyValue, PUT_PATH } from '../../../bench/lib/h2-put.js';
import { createJsH2Server } from '../../../bench/lib/js-h2.js';

const REV = 42;
let server: net.Server;
let port = 0;
const seen: string[] = [];

beforeAll(async () => {
  server = await listenOn(createJsH2Server((path, message, reply) => {
    if (path !== PUT_PATH) return reply(12, undefined, 'not in the probe');
    seen.push(putKeyValue(message).key.toString());
    setImmediate(() => reply(0, putAnswer(REV)));
  }), 0);
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const putRequest = (key: string, value: string): Buffer =>
  Buffer.concat([Buffer.from([0x0a, key.length]), Buffer.from(key), Buffer.from([0x12, value.length]), Buffer.from(value)]);
const framed = (m: Buffer, flag = 0): Buffer => Buffer.concat([Buffer.from([flag, 0, 0, 0, m.length]), m]);

/** One call over node:http2: the answer's headers, body and trailers. */
function h2Call(path: string, body: Buffer, extra: http2.OutgoingHttpHeaders = {}, settings: http2.Settings = {}):
  Promise<{ headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders; frames: number }> {
  return new Promise((resolve, reject) => {
    const c = http2.connect(`http://127.0.0.1:${port}`, { settings });
    c.on('error', reject);
    const s = c.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    s.on('response', (h) => (headers = h));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('trailers', (t) => (trailers = t));
    s.on('error', reject);
    s.on('close', () => {
      c.close();
      resolve({ headers, body: Buffer.concat(chunks), trailers, frames: chunks.length });
    });
    s.end(body);
  });
}

describe('js-h2', () => {
  it('answers etcdctl (grpc-go)', async () => {
    const { stdout } = await promisify(execFile)('etcdctl', ['--endpoints', `127.0.0.1:${port}`, '-w', 'json', 'put', 'from-etcdctl', 'v']);
    expect(JSON.parse(stdout)).toEqual({ header: { cluster_id: 1, member_id: 2, revision: REV, raft_term: 2 } });
    expect(seen).toContain('from-etcdctl');
  });

  it('answers grpc-js', async () => {
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const res = await new Promise<Buffer>((resolve, reject) => client.makeUnaryRequest(PUT_PATH, (b: Buffer) => b, (b: Buffer) => b,
        putRequest('from-grpc-js', 'v'), (err, r) => (err ? reject(err) : resolve(r!))));
      expect(res).toEqual(putAnswer(REV).subarray(5));
      expect(seen).toContain('from-grpc-js');
    } finally {
      client.close();
    }
  });

  it('reads a header block continued in CONTINUATION frames, and keeps to a 4-byte client window', async () => {
    const r = await h2Call(PUT_PATH, framed(putRequest('big-headers', 'v')), { 'x-big': 'x'.repeat(40_000) }, { initialWindowSize: 4 });
    expect(r.headers[':status']).toBe(200);
    expect(r.body).toEqual(putAnswer(REV));
    expect(r.frames).toBeGreaterThan(1);
    expect(r.trailers['grpc-status']).toBe('0');
  });

  it('refuses an unknown method and a compressed message with grpc statuses', async () => {
    expect((await h2Call('/etcdserverpb.KV/Range', framed(Buffer.alloc(0)))).headers['grpc-status']).toBe('12');
    const r = await h2Call(PUT_PATH, framed(putRequest('k', 'v'), 1));
    expect([r.headers['grpc-status'], r.headers['grpc-message']]).toEqual(['12', 'compressed%20messages%20are%20not%20served']);
  });
});

describe('h2-hpack', () => {
  it('decodes RFC 7541 C.4 (Huffman, dynamic table across blocks)', () => {
    const h = new HpackReader();
    const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
    expect(h.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')))
      .toEqual([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com']);
    expect(h.decode(hex('8286 84be 5886 a8eb 1064 9cbf')))
      .toEqual([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com', 'cache-control', 'no-cache']);
    expect(h.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'))).toEqual([':method', 'GET', ':scheme', 'https',
      ':path', '/index.html', ':authority', 'www.example.com', 'custom-key', 'custom-value']);
  });
});
