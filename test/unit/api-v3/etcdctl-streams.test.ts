// Streaming RPCs with the real etcdctl 3.4: watch, lease keep-alive --once, snapshot save
// (the saved file must be the backend image followed by its sha256, as etcd sends it), txn.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtcdServerFacade } from '../../../src/server/facade.js';
import type { TxnRequest__Output } from '../../../src/pb/etcdserverpb/TxnRequest.js';
import { FakeWatchStream, fakeFacade, header, startServer, type Running } from './harness.js';

const ETCDCTL = '/usr/bin/etcdctl';
// etcdctl refuses a snapshot whose size minus the 32-byte digest is not a multiple of 512
// ("sha256 checksum not found"): backend images are page-aligned.
const image = Buffer.from(Array.from({ length: 136 * 512 }, (_, i) => i % 251));
// From 32 MiB the member hashes on a worker thread (api/v3/maintenance.ts): a larger image, in 1 MiB chunks.
const large = Buffer.alloc(40 * 1024 * 1024 + 512);
for (let i = 0; i < large.length; i += 4096) large.writeUInt32LE(i, i);
let served = image;
let lastTxn: TxnRequest__Output | undefined;

const facade: Partial<EtcdServerFacade> = {
  openWatchStream: (sink) => {
    const s = new FakeWatchStream(sink);
    const watch = s.watch.bind(s);
    s.watch = (spec) => {
      const r = watch(spec);
      setTimeout(() => {
        sink.send({
          watchId: spec.watchId,
          revision: 42,
          compactRevision: 0,
          events: [
            { type: 'PUT', kv: { key: spec.key, value: Buffer.from('bar'), create_revision: 42, mod_revision: 42, version: 1 } },
            { type: 'DELETE', kv: { key: spec.key, mod_revision: 43 } },
          ],
        });
      }, 10);
      return r;
    };
    return s;
  },
  leaseKeepAlive: async (r) => ({ header: header(), ID: r.ID, TTL: 57 }),
  snapshot: async () => ({
    size: served.length,
    chunks: (async function* () {
      for (let at = 0; at < served.length; at += 1024 * 1024) yield served.subarray(at, at + 1024 * 1024);
    })(),
  }),
  txn: async (r) => {
    lastTxn = r;
    return { header: header(44), succeeded: false, responses: [{ response_range: { header: header(44), kvs: [], count: 0 } }] };
  },
};

let srv: Running;
let dir: string;
beforeAll(async () => {
  srv = await startServer(fakeFacade(facade));
  dir = await mkdtemp(join(tmpdir(), 'api-v3-'));
});
afterAll(async () => {
  await srv.stop();
  await rm(dir, { recursive: true, force: true });
});

const env = { ...process.env, ETCDCTL_API: '3' };

function etcdctl(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(ETCDCTL, ['--endpoints', srv.address, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

describe('etcdctl 3.4 streams against proto/', () => {
  it('watch prints PUT and DELETE events', async () => {
    const child = spawn(ETCDCTL, ['--endpoints', srv.address, 'watch', 'foo'], { env });
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('DELETE\nfoo\n\n')) resolve();
        });
        child.on('exit', () => reject(new Error(`etcdctl exited: ${out}`)));
      });
    } finally {
      child.kill('SIGTERM');
    }
    expect(out).toBe('PUT\nfoo\nbar\nDELETE\nfoo\n\n'); // a DELETE prints its (empty) value line
  });

  it('lease keep-alive --once prints the renewed TTL', async () => {
    const out = await etcdctl(['lease', 'keep-alive', '--once', '694d7a2b0c1f3e4d']);
    expect(out.trim()).toBe('lease 694d7a2b0c1f3e4d keepalived with TTL(57)');
  });

  it('snapshot save writes the image followed by its sha256', async () => {
    const file = join(dir, 'snap.db');
    await etcdctl(['snapshot', 'save', file]);
    const saved = await readFile(file);
    expect(saved.equals(Buffer.concat([image, createHash('sha256').update(image).digest()]))).toBe(true);
  });

  it('snapshot save of a large image: its sha256 from the worker thread', async () => {
    served = large;
    try {
      const file = join(dir, 'large.db');
      await etcdctl(['snapshot', 'save', file]);
      const saved = await readFile(file);
      expect(saved.length).toBe(large.length + 32);
      expect(saved.equals(Buffer.concat([large, createHash('sha256').update(large).digest()]))).toBe(true);
    } finally {
      served = image;
    }
  });

  it('txn sends compares and ops with etcd field numbers', async () => {
    const out = await etcdctl(['txn', '-w', 'json'], 'mod("k") = "5"\n\nput k v\n\nget k\n\n');
    expect(lastTxn!.compare).toEqual([
      { result: 'EQUAL', target: 'MOD', key: Buffer.from('k'), range_end: Buffer.alloc(0), target_union: 'mod_revision', mod_revision: '5' },
    ]);
    expect(lastTxn!.success[0]).toMatchObject({ request: 'request_put', request_put: { key: Buffer.from('k'), value: Buffer.from('v') } });
    expect(lastTxn!.failure[0]).toMatchObject({ request: 'request_range', request_range: { key: Buffer.from('k') } });
    expect(out).toContain('"responses":[{"Response":{"ResponseRange":{"header":{"cluster_id":15118495548433857066,');
  });
});
