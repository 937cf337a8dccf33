// TLS for the peer URLs (raft traffic between members), from --peer-cert-file, --peer-key-file,
// --peer-trusted-ca-file, --peer-client-cert-auth, --peer-cert-allowed-cn,
// --peer-cert-allowed-hostname, --peer-crl-file, --peer-auto-tls and
// --experimental-peer-skip-client-san-verification, as etcd 3.4 applies them:
// - server: our certificate; a client certificate is required and verified against the peer CA when
//   --peer-client-cert-auth or --peer-trusted-ca-file is given; then, past the handshake, the client
//   certificate's CN must be the allowed CN (or its names the allowed hostname), and its IP or DNS
//   SANs must name the address the connection comes from (etcd's checkSAN, unless skipped); a
//   revoked certificate (CRL) is refused. Each refusal is logged as etcd logs it ("rejected
//   connection", remote address, the certificate's names, the reason).
// - client (the https Agent that dials peers): presents our certificate, trusts the peer CA (the
//   system's when none is given) and checks the peer's name; with --peer-auto-tls it does not verify
//   the peer's certificate at all (etcd's InsecureSkipVerify for self-signed certificates).
import { promises as dns } from 'node:dns';
import type * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ipBytes } from './self-cert.js';
import { certFiles, opensslCiphers, readPem, rejection, rememberPeerAddresses, tlsErrorText, verifiesClients, type RejectionLog, type TlsSettings } from './tls.js';

export interface PeerTlsSettings extends TlsSettings {
  /** --peer-cert-allowed-cn */
  allowedCn: string;
  /** --experimental-peer-skip-client-san-verification */
  skipClientSanVerification: boolean;
}

export interface PeerTlsEnv {
  /** Where --peer-auto-tls keeps its certificate: <data-dir>/fixtures/peer. */
  autoTlsDir: string;
  /** The --listen-peer-urls hosts ("host:port"), named by a generated certificate. */
  hosts: string[];
  /** --cipher-suites (Go names). */
  cipherSuites?: string[];
  /** Called for each refused peer connection (log it at warn as "rejected connection"). */
  onReject: RejectionLog;
}

export interface PeerTls {
  /** Options for https.createServer on the peer URLs; absent when peer TLS is not configured. */
  server?: https.ServerOptions;
  /** Options for the https.Agent that dials peers; absent when peer TLS is not configured. */
  client?: https.AgentOptions;
  /**
   * Call once on the peer https server, right after creating it: connections are handed to the
   * HTTP layer only after etcd's post-handshake checks pass; refusals (handshake ones too) are
   * reported to onReject.
   */
  guard(server: tls.Server): void;
  /** The certificate was generated (--peer-auto-tls). */
  auto: boolean;
}

interface Checks {
  allowedCn: string;
  allowedHostname: string;
  checkSan: boolean;
}

/** Build the peer TLS pieces; throws TlsError (one line) for unreadable files or bad cipher names. */
export async function peerTlsOptions(cfg: PeerTlsSettings, env: PeerTlsEnv): Promise<PeerTls> {
  const files = await certFiles(cfg, env.autoTlsDir, env.hosts);
  const checks: Checks = { allowedCn: cfg.allowedCn, allowedHostname: cfg.allowedHostname, checkSan: !cfg.skipClientSanVerification };
  const guard = (server: tls.Server): void => guardServer(server, checks, env.onReject);
  if (files === undefined) return { guard, auto: false };
  const key = await readPem(files.keyFile);
  const cert = await readPem(files.certFile);
  const ca = cfg.trustedCaFile !== '' ? { ca: await readPem(cfg.trustedCaFile) } : {};
  const ciphers = opensslCiphers(env.cipherSuites ?? []);
  const common = { key, cert, ...ca, minVersion: 'TLSv1.2' as const, ...(ciphers ? { ciphers } : {}) };
  const verify = verifiesClients(cfg);
  return {
    server: { ...common, requestCert: verify, rejectUnauthorized: verify, ...(cfg.crlFile !== '' ? { crl: await readPem(cfg.crlFile) } : {}) },
    client: { ...common, rejectUnauthorized: !files.auto },
    guard,
    auto: files.auto,
  };
}

function guardServer(server: tls.Server, checks: Checks, onReject: RejectionLog): void {
  const downstream = server.listeners('secureConnection') as ((s: tls.TLSSocket) => void)[];
  server.removeAllListeners('secureConnection');
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    void checkPeer(socket, checks).then((why) => {
      if (why === undefined) {
        for (const l of downstream) l.call(server, socket);
      } else {
        onReject(rejection(socket, why));
        socket.destroy();
      }
    });
  });
  rememberPeerAddresses(server);
  server.on('tlsClientError', (e: Error, socket: tls.TLSSocket) => onReject(rejection(socket, tlsErrorText(e))));
}

/** Why etcd would refuse this (handshaken) peer connection, or undefined. */
async function checkPeer(socket: tls.TLSSocket, checks: Checks): Promise<string | undefined> {
  const cert = socket.getPeerCertificate();
  const present = cert !== null && Object.keys(cert).length > 0;
  if (checks.allowedCn !== '' || checks.allowedHostname !== '') {
    // etcd's VerifyPeerCertificate: the CN exactly, or the certificate valid for the hostname
    const cn = present ? [cert.subject?.CN ?? []].flat().at(-1) : undefined;
    const ok = !present ? false : checks.allowedCn !== ''
      ? cn === checks.allowedCn
      : tls.checkServerIdentity(checks.allowedHostname, cert) === undefined;
    if (!ok) return 'client certificate authentication failed';
  }
  if (!present || !checks.checkSan) return undefined;
  return checkSan(cert, socket.remoteAddress ?? '');
}

/** etcd's checkCertSAN: the client certificate's IP SANs, or else its DNS SANs, must name `remote`. */
export async function checkSan(cert: tls.PeerCertificate, remote: string): Promise<string | undefined> {
  const names = (cert.subjectaltname ?? '').split(', ');
  const ips = names.filter((n) => n.startsWith('IP Address:')).map((n) => n.slice(11));
  const dnsNames = names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4));
  if (ips.length === 0 && dnsNames.length === 0) return undefined;
  const host = remote.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  const hostBytes = net.isIP(host) ? ipBytes(host) : undefined;
  if (hostBytes && ips.some((ip) => ipBytes(ip).equals(hostBytes))) return undefined;
  if (dnsNames.length === 0) return `x509: certificate is valid for ${ips.join(', ')}, not ${host}`;
  if (await hostInDns(host, dnsNames)) return undefined;
  return `tls: ${JSON.stringify(host)} does not match any of DNSNames [${dnsNames.map((n) => JSON.stringify(n)).join(' ')}]`;
}

/** The address's reverse names match a SAN (wildcards too), or a SAN resolves to the address. */
async function hostInDns(host: string, dnsNames: string[]): Promise<boolean> {
  const wildcards = dnsNames.filter((n) => n.startsWith('*.')).map((n) => n.slice(1));
  const exact = dnsNames.filter((n) => !n.startsWith('*.'));
  const reverse = await dns.reverse(host).catch(() => [] as string[]);
  for (const name of reverse.map((n) => n.replace(/\.$/, ''))) {
    if (exact.includes(name) || wildcards.some((w) => name.endsWith(w))) return true;
  }
  for (const name of exact) {
    const addrs = await dns.lookup(name, { all: true }).catch(() => []);
    if (addrs.some((a) => a.address === host)) return true;
  }
  return false;
}
