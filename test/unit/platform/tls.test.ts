// TLS options from etcd's settings, and auto-tls: a generated certificate that a real client accepts.
import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenClient } from '../../../src/platform/listen.js';
import { TlsError, buildTlsOptions, opensslCiphers, subjectAltNames, type TlsSettings } from '../../../src/platform/tls.js';
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
  it('names the listen hosts in the certificate', () => {
    expect(subjectAltNames(['127.0.0.1', 'localhost', '::1', '0.0.0.0', '[::2]'])).toBe('IP:127.0.0.1,DNS:localhost,IP:::1,IP:::2');
    expect(subjectAltNames(['0.0.0.0'])).toBe('DNS:localhost');
  });

  it('generates a self-signed certificate once, reuses it, and clients that trust it can connect', async () => {
    const autoDir = path.join(dir, 'fixtures', 'client');
    const o = await buildTlsOptions({ ...NONE, autoTls: true }, autoDir, ['127.0.0.1']);
    expect(o!.source.autoTls).toBe(true);
    const x509 = new X509Certificate(o!.cert);
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x509.subject).toContain('O=etcd');
    const again = await buildTlsOptions({ ...NONE, autoTls: true }, autoDir, ['127.0.0.1']);
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

  it('explains when the certificate cannot be made', async () => {
    const e = await buildTlsOptions({ ...NONE, autoTls: true }, '/sys/etcd-fixtures', ['127.0.0.1']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TlsError);
    expect((e as Error).message).toMatch(/^auto-tls: cannot create \/sys\/etcd-fixtures: /);
  });
});
