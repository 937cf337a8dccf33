// Random bytes and malformed requests to the peer port (plaintext and mutual TLS): random byte
// streams, and HTTP requests to the rafthttp paths with random bodies, without headers, with another
// cluster id, and with this cluster's id but a member id nobody has. The member must keep serving,
// log the rejects, and its data must not change.
import { connect as netConnect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRng } from '../../src/pkg/rng.js';
import { makeCerts, type Certs } from './certs.js';
import { startCluster } from './cluster-harness.js';
import { cleanup, httpsText, tempDir, type ProbeTls } from './harness.js';

afterAll(cleanup);

const PATHS = ['/raft', '/raft/stream/message/1', '/raft/stream/msgappv2/2', '/raft/snapshot', '/raft/probing', '/members', '/members/promote/3', '/version', '/leases', '/leases/internal', '/x'];

/** One request; resolves with the status, or the error's code (a refused request is fine, a hang is not). */
function send(url: string, tls: ProbeTls | undefined, method: string, headers: Record<string, string>, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const opts = { method, headers, timeout: 3000, ...(tls ? { ...tls, rejectUnauthorized: false } : {}) };
    const req = (tls ? httpsRequest : httpRequest)(url, opts, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
      res.on('error', () => resolve(String(res.statusCode)));
      // a stream the member accepted stays open: that is an answer too
      setTimeout(() => {
        req.destroy();
        resolve(String(res.statusCode));
      }, 500);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end(body);
  });
}

/** Random bytes on a raw connection (TLS: after a handshake with the client certificate, or none at all). */
function rawBytes(port: number, tls: ProbeTls | undefined, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = tls ? tlsConnect({ port, host: '127.0.0.1', ...tls, rejectUnauthorized: false }) : netConnect(port, '127.0.0.1');
    const done = () => {
      s.destroy();
      resolve();
    };
    s.on(tls ? 'secureConnect' : 'connect', () => s.write(bytes));
    s.on('error', done);
    s.on('close', done);
    s.resume();
    setTimeout(done, 500);
  });
}

async function fuzz(peerUrl: string, clusterIdHex: string, tls: ProbeTls | undefined, seed: number): Promise<Set<string>> {
  const rng = seededRng(BigInt(seed));
  const bytes = (max: number) => Buffer.from(Array.from({ length: Math.floor(rng() * max) }, () => Math.floor(rng() * 256)));
  const port = Number(new URL(peerUrl).port);
  const answers = new Set<string>();
  for (let i = 0; i < 12; i++) await rawBytes(port, tls, bytes(4096));
  if (tls) for (let i = 0; i < 4; i++) await rawBytes(port, undefined, bytes(2048)); // not even a handshake
  const headerSets: Array<Record<string, string>> = [
    {},
    { 'X-Etcd-Cluster-ID': 'deadbeef', 'X-Server-From': '1234', 'X-Server-Version': '3.4.23', 'X-Min-Cluster-Version': '3.0.0' },
    { 'X-Etcd-Cluster-ID': clusterIdHex, 'X-Server-From': 'abcdef0123', 'X-Server-Version': '3.4.23', 'X-Min-Cluster-Version': '3.0.0', 'X-Raft-To': '99' },
    { 'X-Etcd-Cluster-ID': clusterIdHex, 'X-Server-From': 'zz', 'X-Server-Version': 'junk' },
  ];
  for (let i = 0; i < 48; i++) {
    let path = PATHS[Math.floor(rng() * PATHS.length)]!;
    let method = rng() < 0.6 ? 'POST' : rng() < 0.5 ? 'GET' : 'PUT';
    const h = headerSets[i % headerSets.length]!;
    // this cluster's id from a member nobody has: random raft messages, snapshots, and streams
    if (i % 12 === 2) [path, method] = ['/raft', 'POST'];
    else if (i % 12 === 6) [path, method] = ['/raft/snapshot', 'POST'];
    else if (i % 12 === 10) [path, method] = [`/raft/stream/${rng() < 0.5 ? 'message' : 'msgappv2'}/abcdef0123`, 'GET'];
    answers.add(await send(`${peerUrl}${path}`, tls, method, { ...h, 'Content-Type': 'application/protobuf' }, method === 'GET' ? Buffer.alloc(0) : bytes(8192)));
  }
  return answers;
}

function probeTls(c: Certs): ProbeTls {
  return { ca: readFileSync(c.caCert), cert: readFileSync(c.clientCert), key: readFileSync(c.clientKey) };
}

async function api(clientUrl: string, tls: ProbeTls | undefined, path: string, body: object): Promise<Record<string, unknown>> {
  const text = tls ? await httpsText(`${clientUrl}${path}`, tls, 'POST', JSON.stringify(body)) : await (await fetch(`${clientUrl}${path}`, { method: 'POST', body: JSON.stringify(body) })).text();
  return JSON.parse(text) as Record<string, unknown>;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('random input on the peer port', () => {
  for (const useTls of [false, true]) {
    it(`${useTls ? 'over mutual TLS' : 'plaintext'}: the member keeps serving, logs the rejects, and no data changes`, async () => {
      const certs = useTls ? makeCerts(await tempDir('peer-fuzz-')) : undefined;
      const tls = certs ? probeTls(certs) : undefined;
      const [m] = await startCluster(['ours'], { certs, token: 'peer-fuzz' });
      for (let i = 0; i < 5; i++) await api(m!.clientUrl, tls, '/v3/kv/put', { key: b64(`f${i}`), value: b64(`v${i}`) });
      const all = { key: b64('\0'), range_end: b64('\0') };
      const before = await api(m!.clientUrl, tls, '/v3/kv/range', all);
      const clusterIdHex = BigInt((before.header as { cluster_id: string }).cluster_id).toString(16);

      const answers = await fuzz(m!.peerUrl, clusterIdHex, tls, useTls ? 2 : 1);

      expect(m!.alive()).toBe(true);
      const after = await api(m!.clientUrl, tls, '/v3/kv/range', all);
      expect(after.kvs).toEqual(before.kvs);
      expect((after.header as { revision: string }).revision).toBe((before.header as { revision: string }).revision);
      const put = await api(m!.clientUrl, tls, '/v3/kv/put', { key: b64('after'), value: b64('fuzz') });
      expect(Number((put.header as { revision: string }).revision)).toBe(Number((before.header as { revision: string }).revision) + 1);
      // refused, not ignored: another cluster's id, and bodies that are no raft message, are logged
      const logs = m!.logs();
      expect(logs).toMatch(/request cluster ID mismatch/);
      expect(logs).toMatch(/failed to unmarshal Raft message/);
      expect(logs).toMatch(/failed to find remote peer in cluster/);
      expect([...answers].some((a) => /^4\d\d$/.test(a))).toBe(true);
    }, 90_000);
  }
});
