// HPACK reading against nghttp2's encoder (Node's http2 client), and the client-port screen that lets
// Node's HTTP/2 server take the URL authorities grpc-go sends (":authority: http://127.0.0.1:2379").
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthorityRewriter, EMPTY_SETTINGS, acceptableAuthority, screenHttp2 } from '../../../src/platform/h2-authority.js';
import { HpackDecoder, huffmanDecode } from '../../../src/platform/hpack.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

/** Header block: :method POST, :scheme http, :path /x, then `authority` as a literal (0x40: incremental, else 0x00). */
function block(authority: Buffer | number, kind = 0x40): Buffer {
  const head = Buffer.from([0x83, 0x86, 0x44, 2, 0x2f, 0x78]); // ':path' literal with incremental indexing
  if (typeof authority === 'number') return Buffer.concat([Buffer.from([0x83, 0x86, 0x80 | authority])]);
  return Buffer.concat([head, Buffer.from([kind | 1, authority.length]), authority]);
}

/** Split raw server bytes into frames (for reading the client side of a captured connection). */
function parseFrames(buf: Buffer): { type: number; flags: number; stream: number; payload: Buffer }[] {
  const out = [];
  for (let p = 0; p + 9 <= buf.length;) {
    const len = buf.readUIntBE(p, 3);
    out.push({ type: buf[p + 3]!, flags: buf[p + 4]!, stream: buf.readUInt32BE(p + 5), payload: buf.subarray(p + 9, p + 9 + len) });
    p += 9 + len;
  }
  return out;
}

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

/** A raw TCP server capturing what Node's http2 client (nghttp2's HPACK encoder) sends. */
async function captureClientBytes(requests: http2.OutgoingHttpHeaders[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const server = net.createServer((s) => {
    s.on('data', (c: Buffer) => chunks.push(c));
    s.write(EMPTY_SETTINGS);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  const client = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  cleanups.push(() => client.destroy());
  for (const h of requests) client.request(h, { endStream: true }).on('error', () => {});
  await new Promise((r) => setTimeout(r, 300));
  return Buffer.concat(chunks).subarray(PREFACE.length);
}

describe('HPACK', () => {
  it('reads what nghttp2 encodes: Huffman strings with every byte value, the dynamic table across requests', async () => {
    // one rare byte among short codes: nghttp2 then chooses Huffman (checked: the raw bytes are absent)
    const values: string[] = [];
    for (let c = 0x21; c <= 0xff; c++) if (c !== 0x7f) values.push(`aeiouaeiou${String.fromCharCode(c)}aeiou`);
    const requests = values.map((v, i) => ({ ':path': `/p${i % 3}`, 'x-v': v, 'x-same': 'repeated-value' }));
    const bytes = await captureClientBytes(requests);
    const decoder = new HpackDecoder();
    const seen: string[] = [];
    for (const f of parseFrames(bytes).filter((x) => x.type === 1)) {
      const v = decoder.read(f.payload).find((x) => x.name === 'x-v');
      if (!v) continue;
      seen.push(v.value.toString('latin1'));
      expect(f.payload.includes(v.value)).toBe(false);
    }
    expect(seen).toEqual(values);
  });

  it('decodes the RFC 7541 C.4.1 example and refuses bad padding', () => {
    expect(huffmanDecode(Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex')).toString()).toBe('www.example.com');
    expect(() => huffmanDecode(Buffer.from('f1e3c2e5f23a6ba0ab90f400', 'hex'))).toThrow(/padding/);
  });
});

describe(':authority that Node refuses', () => {
  it('keeps acceptable authorities and turns each refused byte into _ (same length)', () => {
    expect(acceptableAuthority(Buffer.from('127.0.0.1:2379'))).toBeUndefined();
    expect(acceptableAuthority(Buffer.from('[::1]:2379'))).toBeUndefined();
    expect(acceptableAuthority(Buffer.from('http://127.0.0.1:2379'))!.toString()).toBe('http:__127.0.0.1:2379');
  });

  it('rewrites the literal, and later blocks that index it still decode to the same table', () => {
    const url = Buffer.from('http://127.0.0.1:2379');
    const input = Buffer.concat([
      PREFACE,
      frame(1, 0x5, 1, block(url)), // literal with incremental indexing: enters the dynamic table
      frame(1, 0x5, 3, block(62)), // :authority by index: the newest entry (63 is :path /x)
      frame(1, 0x4 | 0x8, 5, Buffer.concat([Buffer.from([3]), block(url, 0x00), Buffer.alloc(3)])), // padded, without indexing
    ]);
    const rw = new AuthorityRewriter();
    // fed one byte at a time: frames are only emitted whole
    const out = Buffer.concat([...input].map((b) => rw.push(Buffer.from([b]))));
    expect(out.subarray(0, 24).equals(PREFACE)).toBe(true);
    const frames = parseFrames(out.subarray(24));
    const d = new HpackDecoder();
    const auth = frames.map((f) => d.read(f.payload).find((x) => x.name === ':authority'));
    expect(auth[0]!.value.toString()).toBe('http:__127.0.0.1:2379');
    expect(auth[1]!.literal).toBe(-1); // passed through untouched
    expect(auth[2]!.value.toString()).toBe('http:__127.0.0.1:2379');
    expect(frames.map((f) => [f.stream, f.flags])).toEqual([[1, 0x5], [3, 0x5], [5, 0x4]]); // padding dropped
  });
});

/** An http2 server fed by screenHttp2 on a raw TCP listener, as the client port does. */
async function screenedServer(): Promise<{ port: number; delivered: (net.Socket | Duplex)[]; authorities: string[] }> {
  const h2 = http2.createServer();
  const authorities: string[] = [];
  h2.on('stream', (s, h) => {
    authorities.push(String(h[':authority']));
    s.respond({ ':status': 200 });
    s.end('ok');
  });
  const delivered: (net.Socket | Duplex)[] = [];
  const tcp = net.createServer((socket) => {
    screenHttp2(socket, (s) => {
      delivered.push(s);
      h2.emit('connection', s);
    });
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    tcp.close();
    h2.close();
  });
  return { port: (tcp.address() as net.AddressInfo).port, delivered, authorities };
}

function get(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { endStream: true });
    req.on('response', (h) => resolve(Number(h[':status'])));
    req.on('error', reject);
    req.resume();
  });
}

describe('screenHttp2', () => {
  it('hands a connection with an acceptable authority to the server as the socket itself', async () => {
    const srv = await screenedServer();
    const client = http2.connect(`http://127.0.0.1:${srv.port}`);
    cleanups.push(() => client.destroy());
    expect(await get(client, { ':path': '/' })).toBe(200);
    expect(await get(client, { ':path': '/2' })).toBe(200);
    expect(srv.delivered[0]).toBeInstanceOf(net.Socket);
    expect(srv.authorities).toEqual([`127.0.0.1:${srv.port}`, `127.0.0.1:${srv.port}`]);
  });

  it('serves requests whose :authority is a URL (as grpc-go sends it), many on one connection', async () => {
    const srv = await screenedServer();
    const client = http2.connect(`http://127.0.0.1:${srv.port}`);
    cleanups.push(() => client.destroy());
    const authority = `http://127.0.0.1:${srv.port}`;
    for (let i = 0; i < 60; i++) expect(await get(client, { ':path': `/${i}`, ':authority': authority, 'x-n': `${i}`.repeat(40) })).toBe(200);
    expect(srv.delivered[0]).not.toBeInstanceOf(net.Socket);
    expect(new Set(srv.authorities)).toEqual(new Set([`http:__127.0.0.1:${srv.port}`]));
  });

  it('hands an idle connection over once the client acknowledged our SETTINGS', async () => {
    const srv = await screenedServer();
    const client = http2.connect(`http://127.0.0.1:${srv.port}`);
    cleanups.push(() => client.destroy());
    await new Promise((r) => setTimeout(r, 1_300));
    expect(srv.delivered).toHaveLength(1);
    expect(await get(client, { ':path': '/late' })).toBe(200);
  });
});
