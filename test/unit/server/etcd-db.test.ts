// Our backend as etcd's bbolt file and back (server/etcd-db.ts), against a snapshot real etcd 3.4.23
// wrote (test/fixtures/bbolt/etcd34.db): read into a LevelDB backend of ours and written out again,
// every bucket holds etcd's exact keys and values (members in etcd's hex keys and JSON included),
// so the hash etcdctl snapshot status prints is etcd's.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Backend, Bucket, restoreEntries, restorePathOf } from '../../../src/backend/index.js';
import { KvStore } from '../../../src/mvcc/index.js';
import { backendPathOf, snapDirOf } from '../../../src/server/config.js';
import { prepareSnapshotDb, snapDbPathOf } from '../../../src/server/snapshot-db.js';
import { BoltDb, checkDb, etcdDbStatus } from '../../../src/bbolt/index.js';
import { loadMembership } from '../../../src/server/stores.js';
import { backendEntriesOfEtcdDb, etcdDbImage } from '../../../src/server/etcd-db.js';
import { removeDir, tempDir, testConfig } from './helpers.js';

const fixture = readFileSync(fileURLToPath(new URL('../../fixtures/bbolt/etcd34.db', import.meta.url)));
const etcdDb = BoltDb.open(fixture.subarray(0, fixture.length - 32));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

function contents(db: BoltDb): string[] {
  const out: string[] = [];
  for (const b of db.root().entries()) {
    out.push(b.key.toString());
    for (const e of db.childBucket(b.value).entries()) out.push(`  ${e.key.toString('hex')}=${e.value.toString('hex')}`);
  }
  return out;
}

describe("etcd's database file and our backend", () => {
  it("reads etcd's file into our backend and writes it back with etcd's exact buckets, keys and values", async () => {
    const dir = await tempDir();
    dirs.push(dir);
    await restoreEntries(path.join(dir, 'db'), backendEntriesOfEtcdDb(etcdDb));
    const backend = await Backend.open(path.join(dir, 'db'));
    try {
      const { members, removed, clusterVersion } = await loadMembership(backend);
      expect(members.map((m) => [m.name, m.peerURLs, m.id.toString(16)])).toEqual([['fx', ['http://127.0.0.1:23801'], 'bdae9bbc11dd390d']]);
      expect(removed).toEqual([]);
      expect(clusterVersion).toBe('3.4.0');
      backend.put(Bucket.membersRemoved, Buffer.from('000000000000abcd', 'hex'), Buffer.alloc(0));
      const image = await etcdDbImage(backend);
      const ours = BoltDb.open(Buffer.concat(image.chunks));
      expect(checkDb(ours)).toEqual([]);
      const want = contents(etcdDb);
      want.splice(want.indexOf('members_removed') + 1, 0, `  ${Buffer.from('abcd').toString('hex')}=${Buffer.from('removed').toString('hex')}`);
      expect(contents(ours)).toEqual(want);
      backend.del(Bucket.membersRemoved, Buffer.from('000000000000abcd', 'hex'));
      const again = BoltDb.open(Buffer.concat((await etcdDbImage(backend)).chunks));
      expect({ ...etcdDbStatus(again), totalSize: 0 }).toEqual({ ...etcdDbStatus(etcdDb), totalSize: 0 });
    } finally {
      await backend.close();
    }
  });

  it("installs the database of a raft snapshot sent by etcd (its bbolt file as a .snap.db)", async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const cfg = testConfig(dir);
    await mkdir(snapDirOf(cfg), { recursive: true });
    await writeFile(snapDbPathOf(cfg, 7), fixture.subarray(0, fixture.length - 32));
    await prepareSnapshotDb(cfg, 7);
    const backend = await Backend.open(restorePathOf(backendPathOf(cfg)));
    try {
      const kv = await KvStore.open(backend);
      expect(kv.range(Buffer.from('k1'), undefined).kvs[0]?.value.toString()).toBe('value 1');
      expect(kv.range(Buffer.from('k3'), undefined).kvs).toEqual([]);
      expect((await loadMembership(backend)).members.map((m) => m.name)).toEqual(['fx']);
    } finally {
      await backend.close();
    }
  });

  it('writes all ten buckets of an empty backend', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const backend = await Backend.open(path.join(dir, 'db'));
    try {
      const db = BoltDb.open(Buffer.concat((await etcdDbImage(backend)).chunks));
      expect([...db.root().entries()].map((e) => e.key.toString())).toEqual([
        'alarm', 'auth', 'authRoles', 'authUsers', 'cluster', 'key', 'lease', 'members', 'members_removed', 'meta',
      ]);
    } finally {
      await backend.close();
    }
  });
});
