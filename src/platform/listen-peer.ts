// The peer listener: HTTP/1.1 on each --listen-peer-urls, over TLS for https (etcd's peer server).
// Its streams are long-lived responses, so closing it ends every connection rather than waiting.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as tls from 'node:tls';
import { bind } from './listen.js';

export interface PeerListener {
  url: URL;
  address: { host: string; port: number };
  close(): Promise<void>;
}

/** An https peer listener's TLS: the server options, and etcd's checks past the handshake (peer-tls.ts). */
export interface PeerServerTls {
  options: https.ServerOptions;
  guard(server: tls.Server): void;
}

export async function listenPeer(url: URL, handler: http.RequestListener, secure?: PeerServerTls): Promise<PeerListener> {
  let server: http.Server;
  if (url.protocol === 'https:' || url.protocol === 'unixs:') {
    if (!secure) throw new Error(`--listen-peer-urls ${url.href} is https but no peer certificate is set (--peer-cert-file/--peer-key-file or --peer-auto-tls)`);
    const s = https.createServer(secure.options, handler);
    secure.guard(s);
    server = s;
  } else {
    server = http.createServer(handler);
  }
  server.keepAliveTimeout = 30_000;
  server.requestTimeout = 0; // a stream's GET stays open for as long as the peer reads it
  server.on('clientError', (_err, socket) => socket.destroy());
  const address = await bind(server, url);
  server.on('error', () => {});
  let closed: Promise<void> | undefined;
  return {
    url,
    address,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
