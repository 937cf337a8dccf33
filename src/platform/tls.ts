// TLS options for the client and peer listeners, from etcd's settings (cert/key, trusted CA,
// client-cert-auth, CRL, cipher suites, auto-tls), with etcd's semantics:
// - a trusted CA file alone also makes the listener require and verify client certificates (etcd's
//   TLSInfo.ServerConfig: RequireAndVerifyClientCert when TrustedCAFile != "" || ClientCertAuth);
// - auto-tls (no cert/key given): a self-signed certificate for the listen hosts is made once under
//   <data-dir>/fixtures/client (peer: fixtures/peer) and reused (self-cert.ts); given files win;
// - a refused handshake is logged as etcd logs it: "rejected connection", the remote address, the
//   server name asked for and the reason (rejectionLogger).
import { promises as fsp } from 'node:fs';
import type * as tls from 'node:tls';
import { selfCert } from './self-cert.js';

/** The TLS settings of one side (client or peer), as the configuration holds them. */
export interface TlsSettings {
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
  clientCertAuth: boolean;
  crlFile: string;
  autoTls: boolean;
  /** When set, a client certificate must be valid for this hostname. */
  allowedHostname: string;
}

/** Options for tls.createServer, plus the checks Node does not make itself. */
export interface TlsOptions {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer;
  crl?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
  ciphers?: string;
  allowedHostname?: string;
  /** Where the certificate came from, for the start-up log. */
  source: { certFile: string; keyFile: string; trustedCaFile: string; autoTls: boolean };
}

export class TlsError extends Error {}

/** Go/IANA cipher suite names (what etcd's --cipher-suites takes) → OpenSSL names. */
const CIPHERS: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
};

export function opensslCiphers(suites: string[]): string | undefined {
  if (suites.length === 0) return undefined;
  return suites.map((s) => {
    const name = CIPHERS[s];
    if (name === undefined) throw new TlsError(`unexpected TLS cipher suite ${JSON.stringify(s)}`);
    return name;
  }).join(':');
}

export async function readPem(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new TlsError(`open ${file}: ${why}`);
  }
}

/** The certificate files to use: the given ones, or auto-tls's (made on first use); undefined: no TLS. */
export async function certFiles(
  s: TlsSettings, autoTlsDir: string, hosts: string[],
): Promise<{ certFile: string; keyFile: string; auto: boolean } | undefined> {
  if (s.certFile !== '' && s.keyFile !== '') return { certFile: s.certFile, keyFile: s.keyFile, auto: false };
  if (!s.autoTls) return undefined;
  try {
    return { ...(await selfCert(autoTlsDir, hosts)), auto: true };
  } catch (e) {
    throw new TlsError(`auto-tls: cannot create a self-signed certificate in ${autoTlsDir}: ${(e as Error).message}`);
  }
}

/** Whether a listener with these settings requests and verifies client certificates (as etcd decides). */
export const verifiesClients = (s: TlsSettings): boolean => s.clientCertAuth || s.trustedCaFile !== '';

/** What etcd logs for a refused TLS connection. */
export interface Rejection {
  'remote-addr': string;
  'server-name': string;
  'ip-addresses'?: string[];
  'dns-names'?: string[];
  error: string;
}
export type RejectionLog = (r: Rejection) => void;

interface Peer {
  remoteAddress?: string;
  remotePort?: number;
  /** The TCP socket under a TLS socket: it keeps the address once the TLS socket is gone. */
  _parent?: Peer;
}
function addr(socket: Peer): string {
  const s = socket.remoteAddress === undefined && socket._parent ? socket._parent : socket;
  if (s.remoteAddress === undefined) return '';
  return s.remoteAddress.includes(':') ? `[${s.remoteAddress}]:${s.remotePort}` : `${s.remoteAddress}:${s.remotePort}`;
}

/** Make each connection read its peer address now, so a refusal after the socket is gone can say who. */
export function rememberPeerAddresses(server: tls.Server): void {
  server.prependListener('connection', (raw: { remoteAddress?: string }) => void raw.remoteAddress);
}

/** A TLS error's text without OpenSSL's source location ("peer did not return a certificate"). */
export const tlsErrorText = (e: Error & { reason?: string }): string => e.reason ?? e.message;

/** The log record for a refused connection (after the handshake, the client certificate's names). */
export function rejection(socket: tls.TLSSocket, error: string): Rejection {
  const servername = (socket as { servername?: string | false }).servername;
  const r: Rejection = { 'remote-addr': addr(socket as Peer), 'server-name': typeof servername === 'string' ? servername : '', error };
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (cert && Object.keys(cert).length > 0) {
    const names = (cert.subjectaltname ?? '').split(', ');
    r['ip-addresses'] = names.filter((n) => n.startsWith('IP Address:')).map((n) => n.slice(11));
    r['dns-names'] = names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4));
  }
  return r;
}

/**
 * Build server TLS options, or undefined when TLS is not configured (no cert/key and no auto-tls).
 * `autoTlsDir` is where auto-tls keeps its certificate (<data-dir>/fixtures/client or /peer);
 * `hosts` are the listen URLs' hosts ("host:port") the generated certificate must name.
 */
export async function buildTlsOptions(
  s: TlsSettings, autoTlsDir: string, hosts: string[], cipherSuites: string[] = [],
): Promise<TlsOptions | undefined> {
  const files = await certFiles(s, autoTlsDir, hosts);
  if (files === undefined) return undefined;
  const verify = verifiesClients(s);
  const opts: TlsOptions = {
    key: await readPem(files.keyFile),
    cert: await readPem(files.certFile),
    requestCert: verify,
    rejectUnauthorized: verify,
    source: { certFile: files.certFile, keyFile: files.keyFile, trustedCaFile: s.trustedCaFile, autoTls: files.auto },
  };
  if (s.trustedCaFile !== '') opts.ca = await readPem(s.trustedCaFile);
  if (s.crlFile !== '') opts.crl = await readPem(s.crlFile);
  const ciphers = opensslCiphers(cipherSuites);
  if (ciphers !== undefined) opts.ciphers = ciphers;
  if (s.allowedHostname !== '') opts.allowedHostname = s.allowedHostname;
  return opts;
}
