// Self-signed certificates for --auto-tls and --peer-auto-tls, as etcd 3.4 makes them
// (pkg/transport SelfCert): an ECDSA P-521 key, a certificate signed with it by ecdsa-with-SHA512,
// subject and issuer O=etcd, a random 128-bit serial, valid from now for 365 days, key usage
// digitalSignature+keyEncipherment (critical), extended key usage serverAuth, basic constraints CA:FALSE
// (critical) and the listen hosts as subject alternative names (DNS names first, then IPs).
// Written to <dir>/cert.pem (0644) and <dir>/key.pem (0600, "EC PRIVATE KEY"), <dir> made 0700;
// both files already there are reused as they are.
//
// node:crypto makes the key and the signature; the certificate around them is a fixed DER shape,
// encoded here (a few tagged values), so that auto-tls needs neither the openssl command nor a
// dependency (@peculiar/x509 needs a global Reflect polyfill; node-forge signs RSA certificates only).
import { generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);
const VALIDITY_MS = 365 * 24 * 3600 * 1000;

// DER: tag, length, content.
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...c: Buffer[]): Buffer => der(0x30, ...c);

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const v of rest) {
    const groups = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) groups.unshift(0x80 | (x & 0x7f));
    out.push(...groups);
  }
  return der(0x06, Buffer.from(out));
}

/** A non-negative INTEGER from big-endian bytes, minimal as DER wants it. */
function uint(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  return der(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5), to the second. */
function time(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z'); // YYYYMMDDHHMMSSZ
  return d.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(s.slice(2))) : der(0x18, Buffer.from(s));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), der(0x04, value));
}

/** Host part of a URL's host ("host:port", "[v6]:port"), as Go's net.SplitHostPort gives it. */
export function hostOf(hostPort: string): string {
  const m = /^\[([^\]]*)\](?::\d*)?$/.exec(hostPort);
  if (m) return m[1]!;
  const colon = hostPort.lastIndexOf(':');
  return colon >= 0 && hostPort.indexOf(':') === colon ? hostPort.slice(0, colon) : hostPort;
}

/** An IP's bytes as Go puts them in a certificate: 4 for IPv4 (and IPv4-mapped IPv6), else 16. */
export function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  let s = ip.replace(/%.*$/, ''); // a zone is not part of the address
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = ipBytes(v4[1]!);
    s = `${s.slice(0, -v4[1]!.length)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const groups = (x: string | undefined): number[] => (x ? x.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const bytes = Buffer.from(all.flatMap((g) => [g >> 8, g & 0xff]));
  const mapped = bytes.subarray(0, 12).equals(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]));
  return mapped ? bytes.subarray(12) : bytes;
}

/** The subjectAltName value: DNS names, then IP addresses, each once, in the order given. */
export function sanExtension(hosts: string[]): Buffer {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const h of hosts.map(hostOf)) (net.isIP(h) ? ips : dns).add(h);
  return seq(...[...dns].map((d) => der(0x82, Buffer.from(d, 'latin1'))), ...[...ips].map((ip) => der(0x87, ipBytes(ip))));
}

/** A PEM certificate and its PEM ("EC PRIVATE KEY") key for these listen hosts ("host:port" each). */
export async function makeSelfSignedCert(hosts: string[], now = new Date()): Promise<{ cert: string; key: string }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'secp521r1' });
  const name = seq(der(0x31, seq(oid('2.5.4.10'), der(0x13, Buffer.from('etcd')))));
  const sigAlg = seq(oid('1.2.840.10045.4.3.4')); // ecdsa-with-SHA512
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // v3
    uint(randomBytes(16)),
    sigAlg,
    name,
    seq(time(notBefore), time(new Date(notBefore.getTime() + VALIDITY_MS))),
    name,
    (publicKey as KeyObject).export({ type: 'spki', format: 'der' }),
    der(0xa3, seq(
      extension('2.5.29.15', true, der(0x03, Buffer.from([5, 0xa0]))), // digitalSignature, keyEncipherment
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // serverAuth
      extension('2.5.29.19', true, seq()), // CA:FALSE
      extension('2.5.29.17', false, sanExtension(hosts)),
    )),
  );
  const signature = sign('sha512', tbs, privateKey);
  const certDer = seq(tbs, sigAlg, der(0x03, Buffer.from([0]), signature));
  const b64 = certDer.toString('base64').replace(/.{1,64}/g, '$&\n');
  const key = (privateKey as KeyObject).export({ type: 'sec1', format: 'pem' }) as string;
  return { cert: `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`, key };
}

/** Make (or reuse) <dir>/cert.pem and <dir>/key.pem; errors carry the path in the message. */
export async function selfCert(dir: string, hosts: string[]): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const have = await Promise.all([certFile, keyFile].map((f) => fsp.stat(f).then(() => true, () => false)));
  if (have.every(Boolean)) return { certFile, keyFile };
  const { cert, key } = await makeSelfSignedCert(hosts);
  await fsp.writeFile(certFile, cert, { mode: 0o644 });
  await fsp.writeFile(keyFile, key, { mode: 0o600 });
  await fsp.chmod(keyFile, 0o600); // an older key.pem keeps its mode through writeFile
  return { certFile, keyFile };
}
