// A snapshot between members, in one process: the leader's merged snapshot (applied state and the
// backend's dump of the same moment), the follower's .snap.db (verified on receipt), the install that
// replaces every store in place (reads held meanwhile, watchers carried on), and start-up after a crash
// at each step of it: the member comes back with the old state or the new one, never a mix.
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bucket, SWAP_FAILPOINTS, oldPathOf, restorePathOf, snapshotStream } from '../../../src/backend/index.js';
import { RaftCluster } from '../../../src/membership/index.js';
import { disableAllFailpoints, enableFailpoint, FailpointError } from '../../../src/pkg/failpoints.js';
import { createMetrics } from '../../../src/pkg/metrics.js';
import { MessageType, type ConfState, type Message, type Snapshot } from '../../../src/raft/types.js';
import type { EntryApplier } from '../../../src/server/apply.js';
import { backendPathOf, snapDirOf, type ServerConfig } from '../../../src/server/config.js';
import { mergedSnapshot, saveSnapshotDb, snapDbPathOf } from '../../../src/server/snapshot-db.js';
import { installSnapshot, type InstallTarget } from '../../../src/server/snapshot-install.js';
import type { Snapshots } from '../../../src/server/snapshots.js';
import { CLUSTER_VERSION_KEY, backendMembershipStore, openStores, type Stores } from '../../../src/server/stores.js';
import { V2Store } from '../../../src/v2store/index.js';
import { removeDir, tempDir, testConfig } from './helpers.js';

const B = (s: string): Buffer => Buffer.from(s);
const logger = pino({ level: 'silent' });
const conf: ConfState = { voters: [1n, 2n, 3n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
const LEADER_INDEX = 50;

let dir: string;
const opened: Stores[] = [];
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  disableAllFailpoints();
  for (const s of opened.splice(0)) await s.backend.close().catch(() => undefined);
  await removeDir(dir);
});

async function stores(cfg: ServerConfig, snapshot?: Snapshot): Promise<Stores> {
  await mkdir(snapDirOf(cfg), { recursive: true });
  const s = await openStores(cfg, snapshot, createMetrics());
  opened.push(s);
  return s;
}

/** A leader's state at raft index 50: a leased key, more keys, an alarm, a member, the cluster version, v2. */
async function leader(): Promise<{ msg: Message; db: AsyncIterable<Uint8Array>; backend: Stores['backend'] }> {
  const s = await stores(testConfig(`${dir}/leader`));
  s.lessor.grant(7n, 60, 0);
  s.kv.put(10, { key: B('leased'), value: B('x'), lease: 7n });
  for (let i = 0; i < 20; i++) s.kv.put(11 + i, { key: B(`k${i}`), value: B(`v${i}`) });
  s.alarms.activate({ memberId: 3n, alarm: 'NOSPACE' });
  backendMembershipStore(s.backend).putMember({ id: 3n, name: 'm3', peerURLs: ['http://127.0.0.1:3'], clientURLs: [], isLearner: false });
  s.backend.put(Bucket.cluster, CLUSTER_VERSION_KEY, B('3.4.0'));
  s.backend.setConsistentIndex(LEADER_INDEX);
  const v2 = new V2Store();
  v2.set('/from-leader', { value: 'v2' }, 0);
  const raftMsg: Message = { type: MessageType.MsgSnap, to: 2n, from: 1n, term: 2, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 } as unknown as Message;
  const { message, db } = mergedSnapshot(raftMsg, { appliedIndex: LEADER_INDEX, term: () => 2, confState: conf, v2Data: () => v2.save(), backend: s.backend });
  s.kv.put(60, { key: B('later'), value: B('not in the snapshot') }); // after the capture
  return { msg: message, db, backend: s.backend };
}

interface Follower {
  cfg: ServerConfig;
  s: Stores;
  target: InstallTarget;
  holds: Array<'held' | 'released'>;
  installed: number[];
}

/** A follower at raft index 5 with a key of its own. */
async function follower(): Promise<Follower> {
  const cfg = testConfig(`${dir}/follower`);
  const s = await stores(cfg);
  s.kv.put(5, { key: B('old'), value: B('state') });
  const holds: Follower['holds'] = [];
  const installed: number[] = [];
  const entries = { appliedIndex: 5, confState: { ...conf, voters: [2n] }, clusterVersion: '' } as unknown as EntryApplier;
  const target: InstallTarget = {
    cfg, logger, ...s, cluster: new RaftCluster(1n, 2n, backendMembershipStore(s.backend)), v2: new V2Store(), entries,
    snapshots: { installed: async (i: number) => void installed.push(i) } as unknown as Snapshots,
    holdReads: (until) => void holds.push(until ? 'held' : 'released'),
  };
  return { cfg, s, target, holds, installed };
}

function expectLeaderState(s: Stores): void {
  expect(s.kv.range(B('k'), B('l')).kvs).toHaveLength(20);
  expect(s.kv.range(B('old'), undefined).kvs).toHaveLength(0);
  expect(s.kv.range(B('later'), undefined).kvs).toHaveLength(0);
  expect(s.lessor.getLease(B('leased'))).toBe(7n);
  expect(s.alarms.has('NOSPACE')).toBe(true);
  expect(s.backend.consistentIndex()).toBe(LEADER_INDEX);
}

describe('a snapshot between members', () => {
  it('replaces every store in place; reads are held meanwhile; a watch on the old state carries on', async () => {
    const { msg, db } = await leader();
    expect(msg.snapshot!.metadata).toEqual({ index: LEADER_INDEX, term: 2, confState: conf });
    const f = await follower();
    const ws = f.s.kv.watchStream();
    ws.watch({ key: B('k0') });
    await saveSnapshotDb(f.cfg, LEADER_INDEX, db, logger);
    expect(existsSync(snapDbPathOf(f.cfg, LEADER_INDEX))).toBe(true);
    await installSnapshot(f.target, msg.snapshot!);
    expectLeaderState(f.s);
    expect(f.target.cluster.member(3n)?.name).toBe('m3');
    expect([f.target.entries.clusterVersion, f.target.entries.appliedIndex, f.target.entries.confState]).toEqual(['3.4.0', LEADER_INDEX, conf]);
    expect(f.target.v2.get('/from-leader', {}, 0).node?.value).toBe('v2');
    expect([f.holds, f.installed]).toEqual([['held', 'released'], [LEADER_INDEX]]);
    expect(existsSync(snapDbPathOf(f.cfg, LEADER_INDEX))).toBe(false);
    const r = await ws.next();
    expect(r?.events.map((e) => `${e.kv.key}=${e.kv.value}`)).toEqual(['k0=v0']);
    ws.close();
  });

  it('refuses a damaged database on receipt and leaves no file behind', async () => {
    const { db, backend } = await leader();
    const chunks: Uint8Array[] = [];
    for await (const c of db) chunks.push(c);
    const whole = Buffer.concat(chunks);
    const imageChunks: Uint8Array[] = [];
    for await (const c of snapshotStream(backend)) imageChunks.push(c);
    const cfg = testConfig(`${dir}/follower`);
    await mkdir(snapDirOf(cfg), { recursive: true });
    // etcd's bbolt file: both meta pages damaged, or cut short
    const bad = Buffer.from(whole);
    bad[16 + 20]! ^= 1;
    bad[4096 + 16 + 20]! ^= 1;
    await expect(saveSnapshotDb(cfg, 9, [bad] as unknown as AsyncIterable<Uint8Array>, logger)).rejects.toThrow(/checksum/);
    expect(await readdir(snapDirOf(cfg))).toEqual([]);
    await expect(saveSnapshotDb(cfg, 9, [whole.subarray(0, whole.length - 4096)] as unknown as AsyncIterable<Uint8Array>, logger)).rejects.toThrow(/truncated/);
    expect(await readdir(snapDirOf(cfg))).toEqual([]);
    // our older LevelDB image, checked as it arrives
    const image = Buffer.concat(imageChunks);
    image[image.length - 1]! ^= 1;
    await expect(saveSnapshotDb(cfg, 9, [image] as unknown as AsyncIterable<Uint8Array>, logger)).rejects.toThrow(/checksum/);
    expect(await readdir(snapDirOf(cfg))).toEqual([]);
  });

  it('a crash at any step of the install: the restart has the new state, or the old one while the swap had not begun', async () => {
    for (const point of ['prepared', ...SWAP_FAILPOINTS, 'applyAfterBackendSwap']) {
      const { msg, db } = await leader();
      const f = await follower();
      await saveSnapshotDb(f.cfg, LEADER_INDEX, db, logger);
      if (point === 'prepared') {
        // crashed while building db.restore (a partial one is left) or right after
        await mkdir(restorePathOf(backendPathOf(f.cfg)), { recursive: true });
        await writeFile(`${restorePathOf(backendPathOf(f.cfg))}/CURRENT`, 'partial');
      } else {
        enableFailpoint(point, 'panic');
        await expect(installSnapshot(f.target, msg.snapshot!)).rejects.toBeInstanceOf(FailpointError);
        disableAllFailpoints();
      }
      await f.s.backend.close().catch(() => undefined); // the process is gone
      if (point === 'prepared' || point === 'backendBeforeSwap') {
        // the swap had not begun: without the raft snapshot (a crash before it was durable) the old state stands
        const old = await stores(f.cfg, undefined);
        expect([old.backend.consistentIndex(), old.kv.range(B('old'), undefined).kvs.length], point).toEqual([5, 1]);
        await old.backend.close();
      }
      // with the raft snapshot durable (as it is before the install begins): the new state
      const again = await stores(f.cfg, msg.snapshot!);
      expectLeaderState(again);
      const db0 = backendPathOf(f.cfg);
      expect([existsSync(restorePathOf(db0)), existsSync(oldPathOf(db0)), existsSync(snapDbPathOf(f.cfg, LEADER_INDEX))], point).toEqual([false, false, false]);
      await again.backend.close();
      await removeDir(dir);
      dir = await tempDir();
    }
  });

  it('refuses to start when the raft snapshot is ahead of the backend and its database is missing', async () => {
    const { msg } = await leader();
    const f = await follower();
    await f.s.backend.close();
    await expect(stores(f.cfg, msg.snapshot!)).rejects.toThrow(/failed to find database snapshot file/);
  });
});
