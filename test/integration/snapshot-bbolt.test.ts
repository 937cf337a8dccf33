// Backups in etcd's format (issue 16): `etcdctl snapshot save` against a member of ours writes etcd
// 3.4's bbolt database; real etcdctl's `snapshot status` reads it (the revision ours serves, every
// key, the hash of its buckets), and real `etcdctl snapshot restore` + real etcd 3.4.23 serve exactly
// our keys (values, versions, create and mod revisions, leases) at our revision, and its history;
// also for a save taken while puts and deletes go on.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoltDb, etcdDbStatus } from '../../src/bbolt/index.js';
import { cleanup, ctlOk, freePort, startEtcd, startMember, tempDir, type Member } from './harness.js';

/** How many saves the member logged as streamed from its key index. */
const keyIndexSaves = (m: Member): number => m.logs().split('"keyBucket":"key index"').length - 1;

let ours: Member;
beforeAll(async () => {
  ours = await startMember();
}, 60_000);
afterAll(cleanup, 30_000);

interface Kvs {
  header: { revision: number };
  kvs?: Array<Record<string, unknown>>;
}

async function allKeys(m: Member, rev?: number): Promise<Kvs> {
  return JSON.parse(await ctlOk(m, ['get', '', '--from-key', '-w', 'json', ...(rev === undefined ? [] : ['--rev', String(rev)])])) as Kvs;
}

/** A txn of `ops` (JSON gateway request ops) on `m`: its revision. */
async function txn(m: Member, ops: object[]): Promise<number> {
  const r = await fetch(`${m.clientUrl}/v3/kv/txn`, { method: 'POST', body: JSON.stringify({ success: ops }) });
  if (!r.ok) throw new Error(`txn: ${r.status} ${await r.text()}`);
  return Number(((await r.json()) as { header: { revision: string } }).header.revision);
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('etcdctl snapshot save from a member of ours', () => {
  it('is a bbolt file real etcdctl reads and real etcd restores to our data', async () => {
    for (let i = 0; i < 20; i++) await ctlOk(ours, ['put', `k${i}`, `v${i}`]);
    await ctlOk(ours, ['put', 'k1', 'again']);
    await ctlOk(ours, ['del', 'k2']);
    await ctlOk(ours, ['compact', '5']);
    const lease = (await ctlOk(ours, ['lease', 'grant', '900'])).split(' ')[1] as string;
    await ctlOk(ours, ['put', 'leased', 'x', `--lease=${lease}`]);
    await ctlOk(ours, ['role', 'add', 'r1']);
    const before = await allKeys(ours);

    const dir = await tempDir('it-bbolt-');
    const file = join(dir, 'ours.db');
    await ctlOk(ours, ['snapshot', 'save', file]);
    const status = JSON.parse(await ctlOk(ours, ['snapshot', 'status', file, '-w', 'json'])) as Record<string, number>;
    const bytes = await readFile(file);
    const mine = etcdDbStatus(BoltDb.open(bytes.subarray(0, -32)));
    expect(status).toEqual(mine);
    expect(status.revision).toBe(Number(before.header.revision));
    expect(status.totalKey).toBeGreaterThan(22);

    const peer = `http://127.0.0.1:${await freePort()}`;
    const dataDir = join(dir, 'restored');
    await ctlOk(ours, ['snapshot', 'restore', file, '--name', 'default', '--data-dir', dataDir,
      '--initial-cluster', `default=${peer}`, '--initial-advertise-peer-urls', peer]);
    const etcd = await startEtcd({ dataDir });
    const after = await allKeys(etcd);
    expect(after.header.revision).toEqual(before.header.revision);
    expect(after.kvs).toEqual(before.kvs);
    expect(await ctlOk(etcd, ['lease', 'list'])).toContain(lease);
    expect(await ctlOk(etcd, ['role', 'list'])).toBe('r1\n');
    expect((await ctlOk(etcd, ['get', 'k1', '--rev', '4'], {}).catch((e: Error) => e.message))).toMatch(/compacted/);
    // history and a tombstone, from the key index and a LevelDB snapshot (the log line may come after etcdctl exits)
    await expect.poll(() => keyIndexSaves(ours), { timeout: 5000 }).toBe(1);
  }, 90_000);

  it('is the same with no history left (one revision a key)', async () => {
    await ctlOk(ours, ['put', 'k3', 'again']);
    const rev = (await allKeys(ours)).header.revision;
    await ctlOk(ours, ['compact', String(rev), '--physical']); // one revision a key: the key index holds the bucket
    const before = await allKeys(ours);
    const dir = await tempDir('it-bbolt-live-');
    const file = join(dir, 'ours.db');
    await ctlOk(ours, ['snapshot', 'save', file]);
    await expect.poll(() => keyIndexSaves(ours), { timeout: 5000 }).toBe(2);
    const status = JSON.parse(await ctlOk(ours, ['snapshot', 'status', file, '-w', 'json'])) as Record<string, number>;
    expect(status).toEqual(etcdDbStatus(BoltDb.open((await readFile(file)).subarray(0, -32))));
    expect(status.revision).toBe(Number(before.header.revision));

    const peer = `http://127.0.0.1:${await freePort()}`;
    const dataDir = join(dir, 'restored');
    await ctlOk(ours, ['snapshot', 'restore', file, '--name', 'default', '--data-dir', dataDir,
      '--initial-cluster', `default=${peer}`, '--initial-advertise-peer-urls', peer]);
    const etcd = await startEtcd({ dataDir });
    const after = await allKeys(etcd);
    expect(after.header.revision).toEqual(before.header.revision);
    expect(after.kvs).toEqual(before.kvs);
    expect(after.kvs?.some((kv) => Number(kv.lease) !== 0)).toBe(true);
  }, 90_000);

  it('taken while puts and deletes go on, holds one revision: real etcd restored from it serves what ours served at it, history included', async () => {
    for (let t = 0; t < 30; t++) {
      const ops = [];
      for (let i = t * 100; i < t * 100 + 100; i++) ops.push({ request_put: { key: b64(`w/${i}`), value: b64(`first ${i}`) } });
      await txn(ours, ops);
    }
    const loaded = await txn(ours, Array.from({ length: 100 }, (_, i) => ({ request_put: { key: b64(`w/${i * 7}`), value: b64('second') } })));
    await txn(ours, Array.from({ length: 30 }, (_, i) => ({ request_delete_range: { key: b64(`w/${i * 97 + 1}`) } })));
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        const i = (n * 37) % 3000;
        await txn(ours, [{ request_put: { key: b64(`w/${i}`), value: b64(`during ${n}`) } }, { request_delete_range: { key: b64(`w/${(i + 500) % 3000}`) } }]);
        writes++;
      }
    })();
    while (writes < 20) await new Promise((r) => setTimeout(r, 10));
    const dir = await tempDir('it-bbolt-writes-');
    const file = join(dir, 'ours.db');
    const startRev = (await allKeys(ours)).header.revision;
    await ctlOk(ours, ['snapshot', 'save', file]);
    const writesAtEnd = writes;
    writing = false;
    await writer;
    const status = JSON.parse(await ctlOk(ours, ['snapshot', 'status', file, '-w', 'json'])) as Record<string, number>;
    const rev = status.revision!;
    expect(rev).toBeGreaterThanOrEqual(Number(startRev));
    expect(writes).toBeGreaterThan(writesAtEnd); // the puts went on after the save

    const peer = `http://127.0.0.1:${await freePort()}`;
    const dataDir = join(dir, 'restored');
    await ctlOk(ours, ['snapshot', 'restore', file, '--name', 'default', '--data-dir', dataDir,
      '--initial-cluster', `default=${peer}`, '--initial-advertise-peer-urls', peer]);
    const etcd = await startEtcd({ dataDir });
    for (const at of [rev, rev - 5, loaded]) {
      const want = await allKeys(ours, at);
      const got = await allKeys(etcd, at);
      expect(got.kvs?.length).toBeGreaterThan(2000);
      expect(got.kvs).toEqual(want.kvs);
    }
    expect((await allKeys(etcd)).header.revision).toBe(rev);
  }, 60_000);
});
