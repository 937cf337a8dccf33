// platform/http1: the request head parser, and a connection's order of answers and hand-off to node:http.
import { afterEach, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import * as net from 'node:net';
import { HEAD_BYTES_MAX, parseHead } from '../../../src/platform/http1/head.js';
import { serveHttp1, type Http1Handler } from '../../../src/platform/http1/connection.js';
import { formatResponse } from '../../../src/platform/http1/response.js';
import { GO_MAX_HEADER_BYTES, goClientError } from '../../../src/api/http/go-http.js';
import { listenClient } from '../../../src/platform/listen.js';

const head = (s: string) => parseHead(Buffer.from(s, 'latin1'));

describe('parseHead', () => {
  it('reads the request line, the headers it needs and where the body starts', () => {
    const text = 'PUT /v2/keys/a?x=1 HTTP/1.1\r\nHost: h:1\r\nContent-Type: application/x-www-form-urlencoded\r\n'
      + 'content-length:  9 \r\nAuthorization: Basic eA==\r\nX-Other: y\r\n\r\nvalue=bar';
    const h = head(text);
    expect(h).toEqual({ method: 'PUT', url: '/v2/keys/a?x=1', host: 'h:1', contentType: 'application/x-www-form-urlencoded',
      authorization: 'Basic eA==', contentLength: 9, close: false, headBytes: text.length - 9 });
    expect(head('GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n')).toMatchObject({ close: true, contentLength: 0 });
  });

  it('waits for the rest of a head cut anywhere', () => {
    const full = 'GET /v2/keys/a HTTP/1.1\r\nHost: h\r\n\r\n';
    for (let i = 0; i < full.length; i++) expect(head(full.slice(0, i))).toBe('more');
    expect(head(full)).toMatchObject({ url: '/v2/keys/a' });
  });

  it("leaves to node:http what it does not read itself", () => {
    const others = [
      'GET / HTTP/1.0\r\n\r\n', 'GET / HTTP/1.1 x\r\nHost: h\r\n\r\n', 'GET  / HTTP/1.1\r\nHost: h\r\n\r\n',
      'get / HTTP/1.1\r\nHost: h\r\n\r\n', 'GET /a b HTTP/1.1\r\nHost: h\r\n\r\n', 'GET * HTTP/1.1\r\nHost: h\r\n\r\n',
      'GET / HTTP/1.1\nHost: h\n\n', 'GET / HTTP/1.1\r\nHost: h\n\r\n', 'GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n',
      'GET / HTTP/1.1\r\nHost : h\r\n\r\n', 'GET / HTTP/1.1\r\nX: a\x01b\r\nHost: h\r\n\r\n', 'GET / HTTP/1.1\r\nX: \xe9\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n',
      'PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 'PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'PUT / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n', 'GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      'GET / HTTP/1.1\r\nConnection: keep-alive, x\r\n\r\n', `GET /${'a'.repeat(HEAD_BYTES_MAX)} HTTP/1.1\r\n\r\n`,
    ];
    for (const o of others) expect(head(o), JSON.stringify(o)).toBe('other');
    expect(head(`GET /${'a'.repeat(HEAD_BYTES_MAX)}`)).toBe('other'); // too long to wait for
    expect(head('GET / HTTP/1.1\r\nHost: h\n')).toBe('other'); // a bare LF before the head is complete
  });
});

describe('formatResponse', () => {
  it("is node's ServerResponse bytes: Connection lines after the headers, chunked without Content-Length", () => {
    expect(formatResponse(200, { A: 'x', 'content-length': 2 }, 'ok', false, 72))
      .toBe('HTTP/1.1 200 OK\r\nA: x\r\ncontent-length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=72\r\n\r\nok');
    expect(formatResponse(201, { B: ['1', '2'] }, 'é', true, 72))
      .toBe('HTTP/1.1 201 Created\r\nB: 1\r\nB: 2\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\né\r\n0\r\n\r\n');
  });
});

/** A node:http server as the client port's: Go's header limit and answers to what it cannot parse. */
function nodeSide(): http.Server {
  const s = http.createServer({ maxHeaderSize: GO_MAX_HEADER_BYTES, requireHostHeader: false }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(`node ${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`));
  });
  s.keepAliveTimeout = 72_000;
  s.on('clientError', goClientError);
  return s;
}

/** Ours: GET /js/* answered at once, PUT /slow/* after `delayMs`, everything else declined. */
const handler = (delayMs: number): Http1Handler => (req, res) => {
  const answer = (): void => res.end(200, { 'Content-Length': Buffer.byteLength(`js ${req.url} ${req.body}`) }, `js ${req.url} ${req.body}`);
  if (req.method === 'GET' && req.url.startsWith('/js/')) answer();
  else if (req.method === 'PUT' && req.url.startsWith('/slow/')) setTimeout(answer, delayMs);
  else return false;
  return true;
};

let server: net.Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

async function start(delayMs = 20): Promise<number> {
  const node = nodeSide();
  server = net.createServer((socket) => {
    serveHttp1(socket, { handler: handler(delayMs), keepAliveTimeoutMs: 72_000, handOff: (s) => node.emit('connection', s) });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** Sends the pieces (waiting `gapMs` between them) and returns all the bytes until the server closes. */
function exchange(port: number, pieces: (string | Buffer)[], gapMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    void (async () => {
      for (const p of pieces) {
        s.write(p);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

const bodies = (out: string): string[] => out.split(/HTTP\/1\.1 /).slice(1).map((r) => r.slice(r.indexOf('\r\n\r\n') + 4).replace(/\r\n0\r\n\r\n$/, ''));
const close = 'GET /js/end HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n';

describe('Http1Connection', () => {
  it('answers pipelined requests in their order, a slow PUT holding back the GETs behind it', async () => {
    const port = await start();
    const out = await exchange(port, [
      'GET /js/1 HTTP/1.1\r\nHost: h\r\n\r\nPUT /slow/2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /js/3 HTTP/1.1\r\nHost: h\r\n\r\n' + close,
    ]);
    expect(bodies(out)).toEqual(['js /js/1 ', 'js /slow/2 abc', 'js /js/3 ', 'js /js/end ']);
    expect(out).toContain('Connection: keep-alive\r\nKeep-Alive: timeout=72\r\n');
    expect(out.endsWith('Connection: close\r\n\r\njs /js/end ')).toBe(true);
  });

  it('reads requests cut into pieces anywhere, the body too', async () => {
    const port = await start(0);
    const all = 'PUT /slow/a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /js/b HTTP/1.1\r\nHost: h\r\n\r\n' + close;
    const out = await exchange(port, [...all].map((c) => Buffer.from(c, 'latin1')), 1);
    expect(bodies(out)).toEqual(['js /slow/a hello', 'js /js/b ', 'js /js/end ']);
  });

  it('hands the connection to node:http at the first request it declines, its bytes and the rest intact, after the answers owed', async () => {
    const port = await start();
    const out = await exchange(port, [
      'PUT /slow/1 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx',
      'POST /node/2 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbo',
      'dyPUT /node/3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /js/4 HTTP/1.1\r\nHost: h\r\n\r\n' + close,
    ], 5);
    // once node:http has the connection, it answers the rest (ours would have taken /js/4)
    expect(bodies(out)).toEqual(['js /slow/1 x', 'node POST /node/2 body', 'node PUT /node/3 abc', 'node GET /js/4 ', 'node GET /js/end ']);
  });

  it('leaves bad request lines and oversized heads to node:http, which answers as Go does', async () => {
    const port = await start();
    const bad = await exchange(port, ['GET /js/1 HTTP/1.1\r\nHost: h\r\n\r\nGET /js/a b c HTTP/1.1\r\nHost: h\r\n\r\n']);
    expect(bad).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*js \/js\/1 HTTP\/1\.1 400 Bad Request\r\nContent-Type: text\/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request$/);
    const big = `GET /js/2 HTTP/1.1\r\nHost: h\r\nX-Big: ${'b'.repeat(GO_MAX_HEADER_BYTES + 10)}\r\n\r\n`;
    const out = await exchange(port, [big]);
    expect(out).toBe('HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large');
    const long = await exchange(port, [`GET /js/3 HTTP/1.1\r\nHost: h\r\nX-Long: ${'l'.repeat(HEAD_BYTES_MAX)}\r\n\r\n${close}`]);
    expect(bodies(long)).toEqual(['node GET /js/3 ', 'node GET /js/end ']);
  });

  it('still answers a client that half-closes after its requests', async () => {
    const port = await start();
    const out = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.end('PUT /slow/1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n'));
      let o = '';
      s.on('data', (d: Buffer) => (o += d.toString()));
      s.on('close', () => resolve(o));
    });
    expect(bodies(out)).toEqual(['js /slow/1 ']);
  });

  it('stops serving a client that does not read its answers, and goes on once it does; a throwing handler costs only its connection', async () => {
    let calls = 0;
    const big = 'x'.repeat(512 * 1024);
    server = net.createServer((socket) => {
      // the client below may reset the socket (it closes while the last answer's bytes are in flight): serveHttp1 listens for that
      serveHttp1(socket, {
        handler: (req, res) => {
          if (req.url === '/throw') throw new Error('bug');
          calls++;
          res.end(200, { 'Content-Length': big.length }, big);
          return true;
        },
        keepAliveTimeoutMs: 72_000, handOff: (s) => s.destroy(),
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const n = 40;
    const s = net.connect(port, '127.0.0.1', () => s.write('GET /big HTTP/1.1\r\nHost: h\r\n\r\n'.repeat(n)));
    s.on('error', () => {}); // destroyed below, maybe with bytes unread
    s.pause();
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(n);
    let got = 0;
    await new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (calls === n && got >= n * big.length) resolve();
      });
      s.resume();
    });
    s.destroy();
    expect(await exchange(port, ['GET /throw HTTP/1.1\r\nHost: h\r\n\r\n'])).toBe('');
    expect(bodies(await exchange(port, [close.replace('/js/end', '/ok')])).map((b) => b.length)).toEqual([big.length]);
  });

  it("on the client port, close() lets answers being made finish, ours and node:http's, then ends the connections", async () => {
    let arrived = 0;
    let bothArrived: () => void = () => {};
    const both = new Promise<void>((r) => (bothArrived = r));
    const count = (): void => void (++arrived === 2 && bothArrived());
    const ours = handler(100);
    const l = await listenClient(new URL('http://127.0.0.1:0'), {
      http: (_req, res) => {
        count();
        setTimeout(() => res.end('node slow'), 100);
      },
      http1: (req, res) => {
        const taken = ours(req, res);
        if (taken) count();
        return taken;
      },
    });
    const one = (request: string): Promise<string> => exchange(l.address.port, [request]);
    const answers = Promise.all([one('GET /node HTTP/1.1\r\nHost: h\r\n\r\n'), one('PUT /slow/x HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\ny')]);
    await both;
    await l.close();
    expect((await answers).map((a) => bodies(a)[0])).toEqual(['node slow', 'js /slow/x y']);
  });

  it('a socket error (a client reset) ends its connection, not the process', async () => {
    let accepted: net.Socket | undefined;
    server = net.createServer((socket) => {
      accepted = socket;
      serveHttp1(socket, { handler: handler(0), keepAliveTimeoutMs: 72_000, handOff: (h) => h.destroy() });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const c = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    c.on('error', () => {});
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    while (accepted === undefined) await new Promise((r) => setTimeout(r, 5));
    // without a listener of serveHttp1's, emitting 'error' throws here
    expect(() => accepted!.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).not.toThrow();
    await closed;
    expect(accepted.destroyed).toBe(true);
  });
});
