// Peer TLS pieces with certificates made here by openssl (fails, never skips, without it): an https
// server built from peerTlsOptions().server + guard() and an https.Agent from .client.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerTlsOptions, type PeerTlsSettings } from '../../../src/platform/peer-tls.js';
import type { Rejection } from '../../../src/platform/tls.js';
import { issue, makeCa } from './certs.js';

let dir: string;
const f = (name: string): string => path.join(dir, name);
const NONE: PeerTlsSettings = {
  certFile: '', keyFile: '', trustedCaFile: '', clientCertAuth: false, crlFile: '', autoTls: false,
  allowedHostname: '', allowedCn: '', skipClientSanVerification: false,
};
const PEER_EXT = 'extendedKeyUsage=serverAuth,clientAuth\n';

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'etcd-peer-tls-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'stranger-ca');
  issue(dir, 'member1', '/CN=member1', `subjectAltName=IP:127.0.0.1\n${PEER_EXT}`);
  issue(dir, 'member2', '/CN=member2', `subjectAltName=IP:127.0.0.1,DNS:localhost\n${PEER_EXT}`);
  issue(dir, 'far', '/CN=member2', `subjectAltName=IP:10.9.9.9\n${PEER_EXT}`); // an address we do not come from
  issue(dir, 'named', '/CN=member2', `subjectAltName=DNS:localhost\n${PEER_EXT}`); // localhost resolves to 127.0.0.1
  issue(dir, 'stranger', '/CN=member2', `subjectAltName=IP:127.0.0.1\n${PEER_EXT}`, 'stranger-ca');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const member = (name: string, extra: Partial<PeerTlsSettings> = {}): PeerTlsSettings => ({
  ...NONE, certFile: f(`${name}.crt`), keyFile: f(`${name}.key`), trustedCaFile: f('ca.crt'), clientCertAuth: true, ...extra,
});

/** A peer https server of `settings`; returns its port and the refusals it logged. */
async function peerServer(settings: PeerTlsSettings): Promise<{ port: number; rejected: Rejection[]; close(): void }> {
  const rejected: Rejection[] = [];
  const p = await peerTlsOptions(settings, { autoTlsDir: f('auto-server'), hosts: ['127.0.0.1:0'], onReject: (r) => rejected.push(r) });
  const server = https.createServer(p.server!, (_req, res) => res.end('raft'));
  p.guard(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, rejected, close: () => server.close() };
}

/** GET / through an Agent built from `settings` (the dialling member's own peer settings). */
async function dial(port: number, settings: PeerTlsSettings, autoDir = 'auto-client'): Promise<string> {
  const p = await peerTlsOptions(settings, { autoTlsDir: f(autoDir), hosts: ['127.0.0.1:0'], onReject: () => {} });
  const agent = new https.Agent({ ...p.client!, keepAlive: false });
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('peer TLS', () => {
  it('is absent without certificates or auto-tls (guard still installable)', async () => {
    const p = await peerTlsOptions(NONE, { autoTlsDir: f('none'), hosts: [], onReject: () => {} });
    expect([p.server, p.client, p.auto]).toEqual([undefined, undefined, false]);
  });

  it('server requests and verifies client certificates; client presents its own and trusts the CA', async () => {
    const p = await peerTlsOptions(member('member1'), { autoTlsDir: f('x'), hosts: [], onReject: () => {} });
    expect(p.server).toMatchObject({ requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    expect(p.client).toMatchObject({ rejectUnauthorized: true });
    expect(p.client!.ca).toEqual(readFileSync(f('ca.crt')));
    const s = await peerServer(member('member1'));
    try {
      expect(await dial(s.port, member('member2'))).toBe('raft');
      expect(s.rejected).toEqual([]);
    } finally {
      s.close();
    }
  });

  it('refuses a stranger\'s certificate and a client without one, and logs who and why', async () => {
    const s = await peerServer(member('member1'));
    try {
      await expect(dial(s.port, member('stranger'))).rejects.toThrow();
      const noCert = await peerTlsOptions(member('member2'), { autoTlsDir: f('x'), hosts: [], onReject: () => {} });
      const agent = new https.Agent({ ca: noCert.client!.ca, keepAlive: false }); // trusts the server, presents nothing
      await expect(new Promise((resolve, reject) => {
        https.get({ host: '127.0.0.1', port: s.port, agent }, resolve).on('error', reject);
      })).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 50));
      expect(s.rejected).toHaveLength(2);
      for (const r of s.rejected) {
        expect(r['remote-addr']).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(r.error).not.toBe(''); // under TLS 1.3 Node often only sees the client hang up after the alert
      }
    } finally {
      s.close();
    }
  });

  it('--peer-cert-allowed-cn: another CN is refused after the handshake, the allowed one served', async () => {
    const s = await peerServer(member('member1', { allowedCn: 'member3' }));
    try {
      await expect(dial(s.port, member('member2'))).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(s.rejected).toEqual([{
        'remote-addr': expect.stringMatching(/^127\.0\.0\.1:/), 'server-name': '', error: 'client certificate authentication failed',
        'ip-addresses': ['127.0.0.1'], 'dns-names': ['localhost'],
      }]);
    } finally {
      s.close();
    }
    const ok = await peerServer(member('member1', { allowedCn: 'member2' }));
    try {
      expect(await dial(ok.port, member('member2'))).toBe('raft');
    } finally {
      ok.close();
    }
  });

  it('a client certificate must name the address it comes from (etcd checkSAN), unless skipped', async () => {
    const s = await peerServer(member('member1'));
    try {
      await expect(dial(s.port, member('far'))).rejects.toThrow();
      expect(s.rejected.map((r) => r.error)).toEqual(['x509: certificate is valid for 10.9.9.9, not 127.0.0.1']);
      expect(await dial(s.port, member('named'))).toBe('raft'); // DNS:localhost resolves to 127.0.0.1
    } finally {
      s.close();
    }
    const skip = await peerServer(member('member1', { skipClientSanVerification: true }));
    try {
      expect(await dial(skip.port, member('far'))).toBe('raft');
    } finally {
      skip.close();
    }
  });

  it('the client refuses a server whose certificate its CA did not sign', async () => {
    const s = await peerServer({ ...member('stranger'), trustedCaFile: f('stranger-ca.crt'), clientCertAuth: false });
    try {
      await expect(dial(s.port, member('member2'))).rejects.toThrow(/self-signed|unable to verify|certificate/);
    } finally {
      s.close();
    }
  });

  it('--peer-auto-tls: certificates under the fixtures dir, and the client does not verify the peer (as etcd)', async () => {
    const s = await peerServer({ ...NONE, autoTls: true });
    try {
      expect(readFileSync(f('auto-server/cert.pem'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
      const p = await peerTlsOptions({ ...NONE, autoTls: true }, { autoTlsDir: f('auto-client'), hosts: ['127.0.0.1:1'], onReject: () => {} });
      expect([p.auto, p.client!.rejectUnauthorized, p.server!.requestCert]).toEqual([true, false, false]);
      expect(await dial(s.port, { ...NONE, autoTls: true })).toBe('raft');
    } finally {
      s.close();
    }
  });
});
