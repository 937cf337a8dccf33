// The client-port multiplexer: one listener per client URL serves gRPC (HTTP/2) and HTTP/1.1 (v2
// keys, /health, /version, /metrics, the /v3 JSON gateway), with or without TLS, as etcd's cmux does.
//
// Per connection, once: read the first bytes (after the TLS handshake, if any) and compare them with
// the HTTP/2 client preface, 24 bytes "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n". HTTP/1 requests differ at
// byte 0 or 1 ("GET", "PUT", "POST", "DELETE", "HEAD"), so the decision is made on the first packet;
// the bytes are pushed back (socket.unshift) and the socket is handed to grpc-js through
// server.createConnectionInjector() or to the HTTP/1 server by emitting 'connection' on it.
// Under TLS, ALPN offers h2 and http/1.1 and picks http/1.1 when the client offers it (curl, browsers)
// and h2 when it offers only h2 (grpc-go, grpc-js); the byte sniff still decides the route (a client
// that sends no ALPN gets whatever its first bytes say). An HTTP/2 connection then passes through
// h2-authority.ts, which lets Node's HTTP/2 take the URL authorities grpc-go sends.
import type * as grpc from '@grpc/grpc-js';
import { promises as dns } from 'node:dns';
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { screenHttp2 } from './h2-authority.js';
import { closeLikeCmux, firstLineVerdict } from './http1-line.js';
import { serveHttp1, type Http1Connection, type Http1Handler } from './http1/connection.js';
import { rejection, rememberPeerAddresses, tlsErrorText, type RejectionLog, type TlsOptions } from './tls.js';

export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** A connection that sends nothing for this long before we can route it is closed. */
export const SNIFF_TIMEOUT_MS = 30_000;
/** Backlog of pending TCP connections per listener. */
export const LISTEN_BACKLOG = 511;
/** How long close() lets in-flight gRPC calls finish before cancelling them. */
export const CLOSE_GRACE_MS = 1_000;

/** Anything that serves HTTP/1.1: a node request listener, an http.Server, or a FastifyInstance (after ready()). */
export type HttpHandler = http.RequestListener | http.Server | { server: http.Server };

/** An HTTP/2 connection served by something other than grpc-js (the JavaScript HTTP/2, platform/h2). */
export interface Http2Connection {
  /** GOAWAY: no new streams, the socket ended once the open ones are done. */
  shutdown(): void;
}

export interface ClientHandlers {
  /** Absent on HTTP-only listeners (--listen-metrics-urls): HTTP/2 connections are then closed. */
  grpcServer?: grpc.Server;
  /**
   * When given, HTTP/2 connections (plain and TLS, after the preface sniff) are handed to it instead
   * of grpc-js (the default: api/v3/h2-grpc.ts over platform/h2; grpc-js with ETCD_TS_HTTP2=node).
   */
  http2?: (socket: net.Socket) => Http2Connection;
  /**
   * When given, HTTP/1 connections are read by the JavaScript HTTP/1.1 (platform/http1), which
   * answers the requests this handler takes and hands the connection to `http` at the first it declines.
   */
  http1?: Http1Handler;
  http: HttpHandler;
}

export interface ClientListener {
  url: URL;
  address: { host: string; port: number };
  /** Stop accepting, end open connections (gRPC calls get CLOSE_GRACE_MS), resolve when closed. */
  close(): Promise<void>;
}

/** A listen failure, message in etcd's words: "listen tcp 127.0.0.1:2379: bind: address already in use". */
export class ListenError extends Error {}

const ERRNO_TEXT: Record<string, string> = {
  EADDRINUSE: 'address already in use', EACCES: 'permission denied',
  EADDRNOTAVAIL: 'cannot assign requested address', ENOTFOUND: 'no such host',
};

function httpServerOf(h: HttpHandler): http.Server {
  if (h instanceof http.Server) return h;
  if (typeof h === 'function') return http.createServer(h);
  return h.server;
}

function hostPort(url: URL): { host: string; port: number } {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { host, port };
}

const isUnix = (url: URL): boolean => url.protocol === 'unix:' || url.protocol === 'unixs:';

/**
 * The address to bind for a listen host, as Go's net.Listen picks it: an IP as is, a name resolved
 * preferring IPv4 ("localhost" → 127.0.0.1 even where ::1 resolves first), so that
 * `curl http://127.0.0.1:2379` reaches a member started with the default http://localhost:2379.
 */
export async function resolveListenHost(host: string): Promise<string> {
  if (host === '' || net.isIP(host) !== 0) return host;
  try {
    return (await dns.lookup(host, { family: 4 })).address;
  } catch {
    try {
      return (await dns.lookup(host)).address;
    } catch {
      throw new ListenError(`listen tcp: lookup ${host}: no such host`);
    }
  }
}

function bindError(shown: string, e: NodeJS.ErrnoException): ListenError {
  return new ListenError(`listen ${shown}: bind: ${(e.code && ERRNO_TEXT[e.code]) || e.message}`);
}

/** Bind `server` to the URL's address (a unix socket path for unix:// and unixs://, as etcd). */
export async function bind(server: net.Server, url: URL): Promise<{ host: string; port: number }> {
  if (isUnix(url)) {
    const socketPath = url.host; // etcd: unix://localhost:2379 is the socket file "localhost:2379"
    const st = await fsp.lstat(socketPath).catch(() => undefined);
    if (st?.isSocket()) await fsp.unlink(socketPath); // a stale socket from a previous run
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(bindError(`unix ${socketPath}`, e)));
      server.listen({ path: socketPath, backlog: LISTEN_BACKLOG }, () => resolve());
    });
    return { host: socketPath, port: 0 };
  }
  const { host: name, port } = hostPort(url);
  const host = await resolveListenHost(name);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(bindError(`tcp ${host.includes(':') ? `[${host}]` : host}:${port}`, e)));
    server.listen({ host, port, backlog: LISTEN_BACKLOG }, () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  return { host: addr.address, port: addr.port };
}

/**
 * Read until the first bytes tell HTTP/2 from anything else, push them back, call `route`.
 * Once per connection; costs one extra 'readable' callback. Without TLS, anything else must start
 * with an HTTP/1 request line as etcd's cmux wants it (http1-line.ts), or is closed unanswered.
 */
export function sniffHttp2(socket: net.Socket, route: (isHttp2: boolean) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  let done = false;
  const finish = (isHttp2: boolean | undefined): void => {
    if (done) return;
    done = true;
    socket.removeListener('readable', onReadable);
    socket.removeListener('end', onEnd);
    socket.setTimeout(0);
    if (isHttp2 === undefined) {
      socket.destroy();
      return;
    }
    if (buf.length > 0) socket.unshift(buf);
    route(isHttp2);
  };
  const onReadable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const n = Math.min(buf.length, HTTP2_PREFACE.length);
    if (buf.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n))) {
      if (n === HTTP2_PREFACE.length) finish(true);
      return;
    }
    const verdict = socket instanceof tls.TLSSocket ? 'http1' : firstLineVerdict(buf);
    if (verdict === 'http1') finish(false);
    else if (verdict === 'refuse' && !done) {
      done = true; // as cmux: no listener takes it, no answer
      socket.removeListener('readable', onReadable);
      closeLikeCmux(socket, buf);
    }
  };
  const onEnd = (): void => finish(undefined);
  socket.on('readable', onReadable);
  socket.once('end', onEnd);
  socket.once('error', () => finish(undefined));
  socket.setTimeout(SNIFF_TIMEOUT_MS, () => finish(undefined));
}

/** ALPN: http/1.1 when offered (curl, browsers), h2 when it is all the client speaks (gRPC). */
function chooseAlpn({ protocols }: { protocols: string[] }): string | undefined {
  if (protocols.includes('http/1.1')) return 'http/1.1';
  if (protocols.includes('h2')) return 'h2';
  return protocols[0];
}

function clientCertAllowed(socket: tls.TLSSocket, allowedHostname: string | undefined): boolean {
  if (allowedHostname === undefined) return true;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return false;
  return tls.checkServerIdentity(allowedHostname, cert) === undefined;
}

function createRawServer(tlsOptions: TlsOptions | undefined, onSocket: (s: net.Socket) => void, onReject: RejectionLog): net.Server {
  if (tlsOptions === undefined) return net.createServer({ noDelay: true }, onSocket);
  const { source: _source, allowedHostname, ...secure } = tlsOptions;
  const server = tls.createServer({ ...secure, ALPNCallback: chooseAlpn, noDelay: true } as tls.TlsOptions);
  server.on('secureConnection', (s: tls.TLSSocket) => {
    if (!clientCertAllowed(s, allowedHostname)) {
      onReject(rejection(s, 'client certificate authentication failed'));
      s.destroy();
      return;
    }
    onSocket(s);
  });
  // a failed handshake concerns that client only; etcd logs it as "rejected connection"
  rememberPeerAddresses(server);
  server.on('tlsClientError', (e: Error, s: tls.TLSSocket) => onReject(rejection(s, tlsErrorText(e))));
  return server;
}

type Route = 'pending' | 'h2' | 'http1' | 'http1-js';

/** Open sockets of one listener and what they are doing, so close() can end each one gracefully. */
class Connections {
  readonly route = new Map<net.Socket, Route>();
  readonly busy = new Set<net.Socket>();
  /** Connections served by ClientHandlers.http2. */
  readonly h2 = new Set<Http2Connection>();
  /** Connections read by the JavaScript HTTP/1.1, not yet handed to node:http. */
  readonly http1 = new Map<net.Socket, Http1Connection>();
  closing = false;

  onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const socket = req.socket;
    if (!this.route.has(socket)) return; // another listener's connection
    this.busy.add(socket);
    res.once('close', () => {
      this.busy.delete(socket);
      if (this.closing) socket.end();
    });
  };

  /** Idle HTTP/1 and unrouted sockets end now; busy ones after their response; h2 is drained by grpc-js. */
  endIdle(): void {
    this.closing = true;
    for (const c of this.h2) c.shutdown();
    for (const c of this.http1.values()) c.shutdown();
    for (const [socket, route] of this.route) {
      if (route === 'pending') socket.destroy();
      else if (route === 'http1' && !this.busy.has(socket)) socket.end();
    }
  }
}

/**
 * Listen on one client URL (http, https, unix or unixs) and serve gRPC and HTTP/1.1 on it.
 * Rejects with ListenError when the port cannot be bound.
 */
export async function listenClient(
  url: URL, handlers: ClientHandlers, tlsOptions?: TlsOptions, opts: { onReject?: RejectionLog } = {},
): Promise<ClientListener> {
  const httpServer = httpServerOf(handlers.http);
  // grpc-js is loaded by whoever made the gRPC server (the client APIs' lazy chunk), not at start
  const insecure = handlers.grpcServer && grpcOf(await import('@grpc/grpc-js')).ServerCredentials.createInsecure();
  const injector = insecure && handlers.grpcServer?.createConnectionInjector(insecure);
  const conns = new Connections();
  httpServer.on('request', conns.onRequest);
  const onSocket = (socket: net.Socket): void => {
    if (conns.closing) {
      socket.destroy();
      return;
    }
    conns.route.set(socket, 'pending');
    socket.once('close', () => conns.route.delete(socket));
    socket.on('error', () => {}); // reported by whoever owns the socket after routing
    sniffHttp2(socket, (isHttp2) => {
      if (isHttp2 && handlers.http2 !== undefined) {
        conns.route.set(socket, 'h2');
        const c = handlers.http2(socket);
        conns.h2.add(c);
        socket.once('close', () => conns.h2.delete(c));
      } else if (isHttp2 && injector === undefined) {
        socket.destroy(); // an HTTP-only listener
      } else if (isHttp2) {
        // We decided by the bytes; tell node's http2 the protocol is h2 even if ALPN said otherwise.
        if (socket instanceof tls.TLSSocket && socket.alpnProtocol !== 'h2') {
          (socket as { alpnProtocol: string | false | null }).alpnProtocol = 'h2';
        }
        // the first request's :authority decides whether Node can take the socket as it is
        screenHttp2(socket, (s) => {
          conns.route.set(socket, 'h2');
          injector!.injectConnection(s);
        });
      } else if (handlers.http1 !== undefined) {
        conns.route.set(socket, 'http1-js');
        const toNode = (s: net.Socket): void => {
          conns.http1.delete(s);
          conns.route.set(s, 'http1');
          httpServer.emit('connection', s);
        };
        const c = serveHttp1(socket, { handler: handlers.http1, keepAliveTimeoutMs: httpServer.keepAliveTimeout, handOff: toNode });
        if (conns.route.get(socket) === 'http1-js') conns.http1.set(socket, c); // not handed off on its first bytes
        socket.once('close', () => conns.http1.delete(socket));
      } else {
        conns.route.set(socket, 'http1');
        httpServer.emit('connection', socket);
      }
    });
  };
  const server = createRawServer(tlsOptions, onSocket, opts.onReject ?? (() => {}));
  let address: { host: string; port: number };
  try {
    address = await bind(server, url);
  } catch (e) {
    httpServer.removeListener('request', conns.onRequest);
    injector?.destroy();
    throw e;
  }
  server.on('error', () => {}); // after listen, accept errors are transient
  let closed: Promise<void> | undefined;
  return {
    url,
    address,
    close: () => (closed ??= closeListener(server, injector, conns, () => httpServer.removeListener('request', conns.onRequest))),
  };
}

function closeListener(
  server: net.Server, injector: grpc.ConnectionInjector | undefined, conns: Connections, detach: () => void,
): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      clearTimeout(timer);
      detach();
      resolve();
    });
    injector?.drain(CLOSE_GRACE_MS);
    conns.endIdle();
    const timer = setTimeout(() => {
      injector?.destroy();
      for (const s of conns.route.keys()) s.destroy();
    }, CLOSE_GRACE_MS);
    timer.unref();
  });
}

/**
 * A CommonJS package's exports from import(): the default export in Node's loader and in esbuild's
 * chunks (the bundle), the namespace itself under tsx.
 */
function grpcOf(m: typeof import('@grpc/grpc-js')): typeof import('@grpc/grpc-js') {
  return (m as { default?: typeof m }).default ?? m;
}
