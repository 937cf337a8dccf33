// One client port, two protocols: real gRPC calls and real HTTP/1.1 requests on the same listener,
// in plain text and under TLS (certificates made by openssl in the test), plus the failure lines.
import * as grpc from '@grpc/grpc-js';
import fastify from 'fastify';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ListenError, listenClient, resolveListenHost, type ClientListener } from '../../../src/platform/listen.js';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TlsOptions } from '../../../src/platform/tls.js';
import { makeTestCerts, revokeClientCert, type TestCerts } from './certs.js';
import { ECHO_SERVICE, echoServer, grpcEcho, httpHandler, httpRequest } from './mux-fixture.js';
import { H2GrpcRouter } from '../../../src/api/v3/h2-grpc.js';

const LOCAL = new URL('http://127.0.0.1:0');
const LOCAL_TLS = new URL('https://127.0.0.1:0');

let certs: TestCerts;
const open: ClientListener[] = [];
const grpcServers: grpc.Server[] = [];

beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs.cleanup());
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
  for (const s of grpcServers.splice(0)) s.forceShutdown();
});

async function start(url: URL, tlsOptions?: TlsOptions): Promise<ClientListener> {
  const grpcServer = echoServer();
  grpcServers.push(grpcServer);
  const l = await listenClient(url, { grpcServer, http: httpHandler }, tlsOptions);
  open.push(l);
  return l;
}

function serverTls(clientCertAuth: boolean): TlsOptions {
  return {
    key: certs.key, cert: certs.cert, ca: certs.ca, requestCert: clientCertAuth, rejectUnauthorized: clientCertAuth,
    source: { certFile: certs.certFile, keyFile: certs.keyFile, trustedCaFile: certs.caFile, autoTls: false },
  };
}

describe('listenClient without TLS', () => {
  it('serves a gRPC call and an HTTP GET on the same port', async () => {
    const l = await start(LOCAL);
    const target = `127.0.0.1:${l.address.port}`;
    expect(await grpcEcho(target, grpc.credentials.createInsecure(), 'hi')).toBe('echo:hi');
    expect(await httpRequest(l.address.port, '/version')).toEqual({ status: 200, body: 'http:/version' });
  });

  it('serves a FastifyInstance (after ready()) as the HTTP/1 handler', async () => {
    const app = fastify();
    app.get('/version', async () => ({ etcdserver: '3.4.23' }));
    await app.ready();
    const grpcServer = echoServer();
    grpcServers.push(grpcServer);
    const l = await listenClient(LOCAL, { grpcServer, http: app });
    open.push(l);
    expect(await httpRequest(l.address.port, '/version')).toEqual({ status: 200, body: '{"etcdserver":"3.4.23"}' });
    expect(await grpcEcho(`127.0.0.1:${l.address.port}`, grpc.credentials.createInsecure(), 'f')).toBe('echo:f');
    await l.close();
    await app.close();
  });

  it('keeps HTTP/1 keep-alive connections and request bodies intact across many requests', async () => {
    const l = await start(LOCAL);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const big = 'x'.repeat(200_000);
    for (let i = 0; i < 20; i++) {
      const r = await httpRequest(l.address.port, `/v2/keys/k${i}`, { method: 'POST', body: `${i}:${big}`, agent });
      expect(r.body).toBe(`post:${big.length + String(i).length + 1}:${i}:${big}`);
    }
    agent.destroy();
  });

  it('routes a request whose first bytes arrive one at a time', async () => {
    const l = await start(LOCAL);
    const sock = net.connect(l.address.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const reply = new Promise<string>((resolve) => {
      let s = '';
      sock.on('data', (d) => (s += d.toString()));
      sock.on('end', () => resolve(s));
    });
    for (const part of ['P', 'U', 'T /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n']) {
      sock.write(part);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await reply).toContain('http:/slow');
    sock.destroy();
  });

  it('serves many gRPC calls and HTTP requests interleaved', async () => {
    const l = await start(LOCAL);
    const target = `127.0.0.1:${l.address.port}`;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0 ? grpcEcho(target, grpc.credentials.createInsecure(), `m${i}`) : httpRequest(l.address.port, `/p${i}`).then((r) => r.body),
      ),
    );
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? `echo:m${i}` : `http:/p${i}`)));
  });

  it('fails with etcd\'s line when the port is in use', async () => {
    const l = await start(LOCAL);
    const err = await listenClient(new URL(`http://127.0.0.1:${l.address.port}`), { grpcServer: echoServer(), http: httpHandler })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ListenError);
    expect((err as Error).message).toBe(`listen tcp 127.0.0.1:${l.address.port}: bind: address already in use`);
  });

  it('close() ends idle keep-alive connections and frees the port', async () => {
    const l = await start(LOCAL);
    const agent = new http.Agent({ keepAlive: true });
    await httpRequest(l.address.port, '/a', { agent });
    await l.close();
    const again = await start(new URL(`http://127.0.0.1:${l.address.port}`));
    expect(again.address.port).toBe(l.address.port);
    agent.destroy();
  });
});

describe('listenClient, other listeners', () => {
  it('binds a name as Go does, preferring IPv4 (localhost → 127.0.0.1)', async () => {
    expect(await resolveListenHost('localhost')).toBe('127.0.0.1');
    expect(await resolveListenHost('::1')).toBe('::1');
    await expect(resolveListenHost('no-such-host.invalid')).rejects.toThrow('listen tcp: lookup no-such-host.invalid: no such host');
  });

  it('serves gRPC and HTTP on a unix socket (unix://name:port is the socket file, as in etcd)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'etcd-unix-'));
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const l = await start(new URL('unix://localhost:2379'));
      expect(l.address.host).toBe('localhost:2379');
      const sock = path.join(dir, 'localhost:2379');
      expect(await grpcEcho(`unix:${sock}`, grpc.credentials.createInsecure(), 'u')).toBe('echo:u');
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ socketPath: sock, path: '/health' }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(b));
        }).on('error', reject);
      });
      expect(body).toBe('http:/health');
    } finally {
      process.chdir(cwd);
      await Promise.all(open.splice(0).map((l) => l.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a gRPC server, serves HTTP and closes HTTP/2 connections (metrics listener)', async () => {
    const l = await listenClient(LOCAL, { http: httpHandler });
    open.push(l);
    expect((await httpRequest(l.address.port, '/metrics')).body).toBe('http:/metrics');
    await expect(grpcEcho(`127.0.0.1:${l.address.port}`, grpc.credentials.createInsecure(), 'x')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});

describe('listenClient with a JavaScript HTTP/2 (ETCD_TS_HTTP2=js)', () => {
  /** The echo service over api/v3/h2-grpc.ts; the names of the client certificates it saw. */
  async function startJs(url: URL, tlsOptions?: TlsOptions): Promise<{ l: ClientListener; peers: string[] }> {
    const peers: string[] = [];
    const router = new H2GrpcRouter(1 << 20);
    router.addService(ECHO_SERVICE, {
      echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        peers.push(String(call.getAuthContext().sslPeerCertificate?.subject?.CN ?? '(none)'));
        cb(null, Buffer.concat([Buffer.from('js:'), call.request]));
      },
    });
    const grpcServer = echoServer(); // present, and passed by: the JavaScript HTTP/2 takes the connections
    grpcServers.push(grpcServer);
    const l = await listenClient(url, { grpcServer, http: httpHandler, http2: (socket) => router.serve(socket) }, tlsOptions);
    open.push(l);
    return { l, peers };
  }

  it('takes the HTTP/2 connections, plain and TLS (its client certificate seen by the call), HTTP/1 as before', async () => {
    const plain = await startJs(LOCAL);
    expect(await grpcEcho(`127.0.0.1:${plain.l.address.port}`, grpc.credentials.createInsecure(), 'hi')).toBe('js:hi');
    expect(await httpRequest(plain.l.address.port, '/version')).toEqual({ status: 200, body: 'http:/version' });
    const secure = await startJs(LOCAL_TLS, serverTls(true));
    const creds = grpc.credentials.createSsl(certs.ca, certs.clientKey, certs.clientCert);
    expect(await grpcEcho(`127.0.0.1:${secure.l.address.port}`, creds, 'tls')).toBe('js:tls');
    expect([plain.peers, secure.peers]).toEqual([['(none)'], ['client']]);
  });

  it('close() sends GOAWAY to its HTTP/2 connections and frees the port', async () => {
    const { l } = await startJs(LOCAL);
    const c = http2.connect(`http://127.0.0.1:${l.address.port}`);
    c.on('error', () => {});
    await new Promise((r) => c.once('remoteSettings', r));
    const goaway = new Promise<number>((r) => c.once('goaway', (code: number) => r(code)));
    await l.close();
    expect(await goaway).toBe(0);
    c.destroy();
  });
});

describe('listenClient with TLS', () => {
  it('serves gRPC (ALPN h2) and HTTPS GET on the same port', async () => {
    const l = await start(LOCAL_TLS, serverTls(false));
    const target = `127.0.0.1:${l.address.port}`;
    expect(await grpcEcho(target, grpc.credentials.createSsl(certs.ca), 'secure')).toBe('echo:secure');
    const r = await httpRequest(l.address.port, '/health', { tls: { ca: certs.ca } });
    expect(r).toEqual({ status: 200, body: 'http:/health' });
  });

  it('picks http/1.1 by ALPN when the client offers both, h2 when it offers only h2', async () => {
    const l = await start(LOCAL_TLS, serverTls(false));
    const alpn = async (protocols: string[]) => {
      const s = tls.connect({ host: '127.0.0.1', port: l.address.port, ca: certs.ca, ALPNProtocols: protocols });
      await new Promise((r, j) => { s.once('secureConnect', r); s.once('error', j); });
      const p = s.alpnProtocol;
      s.destroy();
      return p;
    };
    expect(await alpn(['h2', 'http/1.1'])).toBe('http/1.1');
    expect(await alpn(['h2'])).toBe('h2');
  });

  it('routes by the first bytes a TLS client that offers no ALPN: HTTP/2 (preface) and HTTP/1.1', async () => {
    const l = await start(LOCAL_TLS, serverTls(false));
    const connect = (): tls.TLSSocket => tls.connect({ host: '127.0.0.1', port: l.address.port, ca: certs.ca, servername: 'localhost' });
    const session = http2.connect(`https://127.0.0.1:${l.address.port}`, { createConnection: connect });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': '/test.Echo/Echo', 'content-type': 'application/grpc', te: 'trailers' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.end(Buffer.from([0, 0, 0, 0, 1, 0x61]));
        req.resume();
      });
      expect(status).toBe(200);
    } finally {
      session.destroy();
    }
    const raw = connect();
    raw.end('GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const text = await new Promise<string>((resolve) => {
      let t = '';
      raw.on('data', (c: Buffer) => (t += c.toString()));
      raw.on('end', () => resolve(t));
    });
    expect(text).toMatch(/^HTTP\/1\.1 200 [\s\S]*http:\/plain$/);
  });

  it('with client-cert-auth, refuses clients without a certificate and serves those with one', async () => {
    const l = await start(LOCAL_TLS, serverTls(true));
    const target = `127.0.0.1:${l.address.port}`;
    await expect(httpRequest(l.address.port, '/health', { tls: { ca: certs.ca } })).rejects.toThrow();
    await expect(grpcEcho(target, grpc.credentials.createSsl(certs.ca), 'x')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    const withCert = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    expect((await httpRequest(l.address.port, '/health', { tls: withCert })).body).toBe('http:/health');
    const creds = grpc.credentials.createSsl(certs.ca, certs.clientKey, certs.clientCert);
    expect(await grpcEcho(target, creds, 'y')).toBe('echo:y');
  });

  it('with an allowed hostname, refuses a client certificate issued for another name', async () => {
    const l = await start(LOCAL_TLS, { ...serverTls(true), allowedHostname: 'other.example' });
    const withCert = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    await expect(httpRequest(l.address.port, '/health', { tls: withCert })).rejects.toThrow();
    const ok = await start(LOCAL_TLS, { ...serverTls(true), allowedHostname: 'client.example' });
    expect((await httpRequest(ok.address.port, '/health', { tls: withCert })).body).toBe('http:/health');
  });

  it('with a CRL, refuses a revoked client certificate', async () => {
    const crl = revokeClientCert(certs);
    const l = await start(LOCAL_TLS, { ...serverTls(true), crl });
    const withCert = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    await expect(httpRequest(l.address.port, '/health', { tls: withCert })).rejects.toThrow();
    const creds = grpc.credentials.createSsl(certs.ca, certs.clientKey, certs.clientCert);
    await expect(grpcEcho(`127.0.0.1:${l.address.port}`, creds, 'r')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});
