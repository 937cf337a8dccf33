// Moving a real etcd's data dir in (issue 16): our member started on a data dir etcd 3.4.23 wrote
// takes it over (bbolt → LevelDB, etcd's newest .snap and WAL entries after it → our WAL), keeps
// the member and cluster ids, serves the same keys and revisions, and keeps etcd's files aside.
// Both after a clean stop and after a kill -9 with writes after the last snapshot.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, startEtcd, startMember, type Member } from './harness.js';

afterAll(cleanup, 30_000);

interface Kvs {
  header: { revision: number; member_id: unknown; cluster_id: unknown };
  kvs?: Array<Record<string, unknown>>;
}

async function allKeys(m: Member): Promise<Kvs> {
  return JSON.parse(await ctlOk(m, ['get', '', '--from-key', '-w', 'json'])) as Kvs;
}

/** Writes spread over several etcd snapshots (--snapshot-count 10), a lease, a user, deletes, a compaction. */
async function write(etcd: Member): Promise<string> {
  const lease = (await ctlOk(etcd, ['lease', 'grant', '900'])).split(' ')[1] as string;
  const b64 = (x: string): string => Buffer.from(x).toString('base64');
  for (let i = 0; i < 25; i++) {
    const r = await fetch(`${etcd.clientUrl}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64(`k${i}`), value: b64(`v${i}`) }) });
    expect(r.status).toBe(200);
  }
  await ctlOk(etcd, ['put', 'leased', 'x', `--lease=${lease}`]);
  await ctlOk(etcd, ['del', 'k3']);
  await ctlOk(etcd, ['compact', '6']);
  await ctlOk(etcd, ['del', 'k1', 'k19']);
  await ctlOk(etcd, ['user', 'add', 'alice:pw']);
  await ctlOk(etcd, ['put', 'k0', 'last']);
  return lease;
}

async function takeOver(stopEtcd: (m: Member) => Promise<unknown>, etcdArgs: string[] = []): Promise<void> {
  const etcd = await startEtcd({ args: ['--snapshot-count', '10', ...etcdArgs] });
  const lease = await write(etcd);
  const before = await allKeys(etcd);
  const members = await ctlOk(etcd, ['member', 'list', '-w', 'json']);
  await stopEtcd(etcd);
  const snaps = (await readdir(join(etcd.dataDir, 'member', 'snap'))).filter((f) => f.endsWith('.snap'));
  expect(snaps.length).toBeGreaterThan(0);

  const ours = await startMember({ dataDir: etcd.dataDir });
  // etcd's entries after its last snapshot are replayed from its WAL
  expect(ours.logs()).toMatch(/"snapshotIndex":[1-9]\d*,"entries":[1-9]\d*,.*"msg":"taking over an etcd 3.4 data directory"/);
  const after = await allKeys(ours);
  expect(after.kvs).toEqual(before.kvs);
  expect(after.header.revision).toEqual(before.header.revision);
  expect(after.header.member_id).toEqual(before.header.member_id);
  expect(after.header.cluster_id).toEqual(before.header.cluster_id);
  const ml = JSON.parse(await ctlOk(ours, ['member', 'list', '-w', 'json'])) as { members: Array<{ ID: unknown }> };
  expect(ml.members.map((m) => m.ID)).toEqual((JSON.parse(members) as { members: Array<{ ID: unknown }> }).members.map((m) => m.ID));
  expect(await ctlOk(ours, ['lease', 'list'])).toContain(lease);
  expect(await ctlOk(ours, ['user', 'list'])).toBe('alice\n');
  expect(await ctlOk(ours, ['get', 'k2', '--rev', '5']).catch((e: Error) => e.message)).toMatch(/required revision has been compacted/);
  // still writable (v3 and v2: the v2 store restored from our snapshot file), and a restart is an ordinary restart of ours
  await ctlOk(ours, ['put', 'after', 'takeover']);
  const v2 = await fetch(`${ours.clientUrl}/v2/keys/v2after`, { method: 'PUT', body: 'value=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(v2.status).toBe(201);
  const v2members = (await (await fetch(`${ours.clientUrl}/v2/members`)).json()) as { members: Array<{ id: string }> };
  expect(v2members.members).toHaveLength(1);
  await ours.restart();
  expect(await ctlOk(ours, ['get', 'after', '--print-value-only'])).toBe('takeover\n');
  expect(ours.logs()).not.toContain('taking over');

  const aside = (await readdir(etcd.dataDir)).filter((f) => f.startsWith('member.etcd34-'));
  expect(aside).toHaveLength(1);
  const kept = join(etcd.dataDir, aside[0] as string);
  expect(existsSync(join(kept, 'snap', 'db'))).toBe(true);
  expect((await readdir(join(kept, 'wal'))).some((f) => f.endsWith('.wal'))).toBe(true);
  await ours.stop();
}

describe('taking over a data dir of etcd 3.4.23', () => {
  it('after a clean stop (SIGTERM)', () => takeOver((m) => m.stop()), 60_000);
  it('after a kill -9, replaying the entries after its last snapshot from its WAL', () =>
    // a 10 s batch interval: the writes since its last snapshot are in etcd's WAL only, not in its bbolt file
    takeOver((m) => m.kill(), ['--backend-batch-interval', '10s']), 60_000);
});
