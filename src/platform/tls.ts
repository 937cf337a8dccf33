// TLS options for the client and peer listeners, from etcd's settings (cert/key, trusted CA,
// client-cert-auth, CRL, cipher suites, auto-tls).
//
// auto-tls: like etcd, a self-signed ECDSA P-256 certificate valid for one year is written to
// <data-dir>/fixtures/client/{cert,key}.pem (peer: fixtures/peer) and reused on later starts. Node's
// crypto can make keys but not X.509 certificates, so it is made by the `openssl` command (present on
// every distribution etcd runs on); without openssl, auto-tls fails with one clear line.
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

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

async function readPem(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new TlsError(`open ${file}: ${why}`);
  }
}

/** subjectAltName entries for the hosts a certificate must cover. */
export function subjectAltNames(hosts: string[]): string {
  const names = new Set<string>();
  for (const raw of hosts) {
    const h = raw.replace(/^\[(.*)\]$/, '$1'); // URL.hostname keeps IPv6 brackets
    if (h === '' || h === '0.0.0.0' || h === '::') continue;
    names.add(net.isIP(h) ? `IP:${h}` : `DNS:${h}`);
  }
  if (names.size === 0) names.add('DNS:localhost');
  return [...names].join(',');
}

/**
 * Write (or reuse) a self-signed certificate for `hosts` in `dir`; returns the file paths.
 * Throws TlsError when openssl is missing or fails.
 */
export async function selfSignedCert(dir: string, hosts: string[]): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const have = await Promise.all([certFile, keyFile].map((f) => fsp.access(f).then(() => true, () => false)));
  if (have.every(Boolean)) return { certFile, keyFile };
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 }).catch((e: Error) => {
    throw new TlsError(`auto-tls: cannot create ${dir}: ${e.message}`);
  });
  const args = [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '365', '-subj', '/O=etcd',
    '-addext', `subjectAltName=${subjectAltNames(hosts)}`,
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
  ];
  try {
    await execFileAsync('openssl', args, { timeout: 30_000 });
    await fsp.chmod(keyFile, 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    const why = err.code === 'ENOENT' ? 'openssl not found on PATH' : (err.stderr ?? err.message).trim().split('\n')[0];
    throw new TlsError(`auto-tls: cannot generate a self-signed certificate in ${dir}: ${why}`);
  }
  return { certFile, keyFile };
}

/**
 * Build server TLS options, or undefined when TLS is not configured (no cert/key and no auto-tls).
 * `autoTlsDir` is where auto-tls keeps its certificate (<data-dir>/fixtures/client or /peer);
 * `hosts` are the listen hosts the generated certificate must name.
 */
export async function buildTlsOptions(
  s: TlsSettings, autoTlsDir: string, hosts: string[], cipherSuites: string[] = [],
): Promise<TlsOptions | undefined> {
  let certFile = s.certFile;
  let keyFile = s.keyFile;
  const haveFiles = certFile !== '' && keyFile !== '';
  if (!haveFiles) {
    if (!s.autoTls) return undefined;
    ({ certFile, keyFile } = await selfSignedCert(autoTlsDir, hosts));
  }
  const opts: TlsOptions = {
    key: await readPem(keyFile),
    cert: await readPem(certFile),
    requestCert: s.clientCertAuth,
    rejectUnauthorized: s.clientCertAuth,
    source: { certFile, keyFile, trustedCaFile: s.trustedCaFile, autoTls: !haveFiles },
  };
  if (s.trustedCaFile !== '') opts.ca = await readPem(s.trustedCaFile);
  if (s.crlFile !== '') opts.crl = await readPem(s.crlFile);
  const ciphers = opensslCiphers(cipherSuites);
  if (ciphers !== undefined) opts.ciphers = ciphers;
  if (s.allowedHostname !== '') opts.allowedHostname = s.allowedHostname;
  return opts;
}
