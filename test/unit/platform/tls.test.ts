// TLS options from etcd's settings, and auto-tls: a generated certificate that a real client accepts.
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenClient } from '../../../src/platform/listen.js';
import { hostOf, ipBytes } from '../../../src/platform/self-cert.js';
import { TlsError, buildTlsOptions, opensslCiphers, type TlsSettings } from '../../../src/platform/tls.js';
import { makeTestCerts, type TestCerts } from './certs.js';
import { echoServer, grpcEcho, httpHandler, httpRequest } from './mux-fixture.js';

const NONE: TlsSettings = { certFile: '', keyFile: '', trustedCaFile: '', clientCertAuth: false, crlFile: '', autoTls: false, allowedHostname: '' };

let certs: TestCerts;
let dir: string;
beforeAll(() => {
  certs = makeTestCerts();
  dir = mkdtempSync(path.join(os.tmpdir(), 'etcd-autotls-'));
});
afterAll(() => {
  certs.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('buildTlsOptions', () => {
  it('is undefined without cert/key and without auto-tls', async () => {
    expect(await buildTlsOptions(NONE, dir, ['127.0.0.1'])).toBeUndefined();
  });

  it('reads the files; client-cert-auth requests and verifies client certificates', async () => {
    const o = await buildTlsOptions(
      { ...NONE, certFile: certs.certFile, keyFile: certs.keyFile, trustedCaFile: certs.caFile, clientCertAuth: true }, dir, [],
    );
    expect(o!.cert.equals(certs.cert)).toBe(true);
    expect(o!.key.equals(certs.key)).toBe(true);
    expect(o!.ca!.equals(certs.ca)).toBe(true);
    expect(o!.requestCert).toBe(true);
    expect(o!.rejectUnauthorized).toBe(true);
    const plain = await buildTlsOptions({ ...NONE, certFile: certs.certFile, keyFile: certs.keyFile }, dir, []);
    expect(plain!.requestCert).toBe(false);
    // as etcd: a trusted CA file alone also requires and verifies client certificates
    const caOnly = await buildTlsOptions({ ...NONE, certFile: certs.certFile, keyFile: certs.keyFile, trustedCaFile: certs.caFile }, dir, []);
    expect([caOnly!.requestCert, caOnly!.rejectUnauthorized]).toEqual([true, true]);
  });

  it('fails with one line for a missing file', async () => {
    const e = await buildTlsOptions({ ...NONE, certFile: '/nonexist.crt', keyFile: certs.keyFile }, dir, []).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TlsError);
    expect((e as Error).message).toBe('open /nonexist.crt: no such file or directory');
  });

  it('maps etcd (Go) cipher suite names to OpenSSL names and refuses unknown ones', () => {
    expect(opensslCiphers([])).toBeUndefined();
    expect(opensslCiphers(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384']))
      .toBe('ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384');
    expect(() => opensslCiphers(['TLS_BOGUS'])).toThrow('unexpected TLS cipher suite "TLS_BOGUS"');
  });
});

describe('auto-tls', () => {
  it('takes the host of each listen URL host as Go\'s SplitHostPort does, and IPs as Go writes them', () => {
    expect(['127.0.0.1:2379', 'localhost:2380', '[::1]:2379', '[fe80::1%eth0]:1', 'nohost'].map(hostOf))
      .toEqual(['127.0.0.1', 'localhost', '::1', 'fe80::1%eth0', 'nohost']);
    expect(ipBytes('10.0.0.1').toString('hex')).toBe('0a000001');
    expect(ipBytes('::1').toString('hex')).toBe('00000000000000000000000000000001');
    expect(ipBytes('fe80::1:2').toString('hex')).toBe('fe800000000000000000000000010002');
    expect(ipBytes('::ffff:1.2.3.4').toString('hex')).toBe('01020304');
    expect(ipBytes('1::2:3.4.5.6').toString('hex')).toBe('00010000000000000000000203040506');
  });

  it('generates a self-signed certificate once, reuses it, and clients that trust it can connect', async () => {
    const autoDir = path.join(dir, 'fixtures', 'client');
    const hosts = ['127.0.0.1:0', 'localhost:2379', '[::1]:2379', '0.0.0.0:2379'];
    const o = await buildTlsOptions({ ...NONE, autoTls: true }, autoDir, hosts);
    expect(o!.source.autoTls).toBe(true);
    const x509 = new X509Certificate(o!.cert);
    // etcd's SelfCert: DNS names first, then IPs; O=etcd; one year; ECDSA P-521
    expect(x509.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:0.0.0.0');
    expect(x509.subject).toBe('O=etcd');
    expect(x509.issuer).toBe('O=etcd');
    expect(x509.ca).toBe(false);
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp521r1');
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(Date.parse(x509.validTo) - Date.parse(x509.validFrom)).toBe(365 * 24 * 3600 * 1000);
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // extended key usage: serverAuth
    expect(o!.key.toString()).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(statSync(path.join(autoDir, 'key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(autoDir).mode & 0o777).toBe(0o700);
    const again = await buildTlsOptions({ ...NONE, autoTls: true }, autoDir, hosts);
    expect(again!.cert.equals(o!.cert)).toBe(true);
    expect(readFileSync(path.join(autoDir, 'cert.pem')).equals(o!.cert)).toBe(true);

    const grpcServer = echoServer();
    const l = await listenClient(new URL('https://127.0.0.1:0'), { grpcServer, http: httpHandler }, o);
    try {
      expect((await httpRequest(l.address.port, '/x', { tls: { ca: o!.cert } })).body).toBe('http:/x');
      expect(await grpcEcho(`127.0.0.1:${l.address.port}`, grpc.credentials.createSsl(o!.cert), 'a')).toBe('echo:a');
    } finally {
      await l.close();
      grpcServer.forceShutdown();
    }
  });

  it('makes the certificate etcd 3.4.23 makes: same DER shape, field by field (openssl asn1parse)', async () => {
    const shape = (pem: Buffer): string => execFileSync('openssl', ['asn1parse'], { input: pem }).toString()
      .split('\n').map((l) => l.replace(/^\s*\d+:d=(\d+)\s+hl=\d+ l=\s*\d+/, 'd=$1').replace(/(\[HEX DUMP\]|prim:\s+(?:INTEGER|UTCTIME|OCTET STRING|BIT STRING)).*/, '$1')).join('\n');
    const etcds = readFileSync(new URL('../../fixtures/tls/etcd-3.4.23-auto-tls-cert.pem', import.meta.url));
    const o = await buildTlsOptions({ ...NONE, autoTls: true }, path.join(dir, 'shape'), ['localhost:2379', '127.0.0.1:2379']);
    expect(shape(o!.cert)).toBe(shape(etcds));
    expect(new X509Certificate(o!.cert).subjectAltName).toBe(new X509Certificate(etcds).subjectAltName);
  });

  it('uses the given files when there are some (etcd ignores auto-tls then)', async () => {
    const o = await buildTlsOptions({ ...NONE, autoTls: true, certFile: certs.certFile, keyFile: certs.keyFile }, path.join(dir, 'unused'), ['127.0.0.1:1']);
    expect(o!.cert.equals(certs.cert)).toBe(true);
    expect(o!.source.autoTls).toBe(false);
  });

  it('explains when the certificate cannot be made', async () => {
    const e = await buildTlsOptions({ ...NONE, autoTls: true }, '/sys/etcd-fixtures', ['127.0.0.1']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TlsError);
    expect((e as Error).message).toMatch(/^auto-tls: cannot create a self-signed certificate in \/sys\/etcd-fixtures: /);
  });
});
