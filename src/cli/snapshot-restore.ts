// etcd's `snapshot restore` (clientv3/snapshot/v3_snapshot.go Restore) for a member of ours: from a
// bbolt snapshot (ours or etcd's), a data dir our member starts from as a member of a NEW cluster.
//
// What it writes, as etcd's restore: the snapshot's buckets as the backend (member/snap/db, LevelDB
// here) with the consistent index n = the number of members, the new members in place of the old
// ones; a WAL whose metadata holds the new member and cluster ids, with etcd's bootstrap entries (one
// ConfChangeAddNode per member, term 1, indexes 1..n) and the hard state {term 1, vote the first
// member, commit n}. etcd also writes a .snap at n holding the v2 store; ours rebuilds the v2 mirror
// of the members from those n entries at start, so none is needed. The file's sha256 trailer is
// checked before anything is written (etcd's restore has created member/snap/db by then).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Bucket, MetaKey, dbKey, restoreEntries } from '../backend/index.js';
import { BoltDb } from '../bbolt/index.js';
import type { Logger } from '../pkg/logger.js';
import { computeClusterId, encodeMember, type Member } from '../membership/index.js';
import { WAL } from '../wal/index.js';
import { advertiseMismatch } from './advertise-check.js';
import { bootstrapEntries, initialMembers } from '../server/bootstrap.js';
import { backendEntriesOfEtcdDb } from '../server/etcd-db.js';

export interface RestoreOptions {
  snapshotPath: string;
  name: string;
  /** Empty: `<name>.etcd`. */
  dataDir: string;
  /** Empty: `<data-dir>/member/wal`. */
  walDir: string;
  initialCluster: Map<string, string[]>;
  initialClusterToken: string;
  peerURLs: string[];
  skipHashCheck: boolean;
}

/** A refusal in etcd's words (etcdctl prints "Error: " and this). */
export class RestoreError extends Error {
  override name = 'RestoreError';
}

const SHA256_BYTES = 32;
/** Puts per LevelDB batch (10,000 cost 30% more CPU than 1000 at 1M keys; 300 the same). */
const RESTORE_BATCH_ENTRIES = 1000;

/** Go's %v of a []byte: "[1 2 3]". */
function goBytes(b: Uint8Array): string {
  return `[${[...b].join(' ')}]`;
}

/** The snapshot's database bytes, its sha256 trailer checked (etcd's saveDB, before anything is written). */
export async function readSnapshotFile(file: string, skipHashCheck: boolean): Promise<Buffer> {
  const bytes = await readFile(file);
  const hasHash = bytes.length % 512 === SHA256_BYTES;
  if (!hasHash && !skipHashCheck) throw new RestoreError('snapshot missing hash but --skip-hash-check=false');
  const db = hasHash ? bytes.subarray(0, bytes.length - SHA256_BYTES) : bytes;
  if (hasHash && !skipHashCheck) {
    const want = bytes.subarray(bytes.length - SHA256_BYTES);
    const got = createHash('sha256').update(db).digest();
    if (!got.equals(want)) throw new RestoreError(`expected sha256 ${goBytes(want)}, got ${goBytes(got)}`);
  }
  return db;
}

function u64(n: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** The backend's entries: the snapshot's, less its members and its consistent index, then the new ones. */
function* restoredEntries(db: BoltDb, members: readonly Member[]): Generator<Array<[Buffer, Buffer]>> {
  const ci = dbKey(Bucket.meta, MetaKey.consistentIndex);
  for (const chunk of backendEntriesOfEtcdDb(db, RESTORE_BATCH_ENTRIES, new Set([Bucket.members, Bucket.membersRemoved]))) {
    // the first byte first: the key bucket's keys are as long as this one (21 bytes)
    const at = chunk.findIndex(([k]) => k[0] === ci[0] && k.length === ci.length && k.equals(ci));
    if (at >= 0) chunk.splice(at, 1);
    yield chunk;
  }
  yield [
    ...members.map((m): [Buffer, Buffer] => [dbKey(Bucket.members, u64(m.id)), Buffer.from(encodeMember(m))]),
    [ci, u64(members.length)],
  ];
}

export async function restoreSnapshot(o: RestoreOptions, logger: Logger): Promise<void> {
  const members = initialMembers(o); // etcd's NewClusterFromURLsMap: as a new member's bootstrap makes them
  const self = members.find((m) => m.name === o.name);
  if (!self) throw new RestoreError(`couldn't find local name "${o.name}" in the initial cluster configuration`);
  const mismatch = advertiseMismatch(o.name, o.peerURLs, self.peerURLs);
  if (mismatch) throw new RestoreError(mismatch);
  const dataDir = o.dataDir || `${o.name}.etcd`;
  if (existsSync(dataDir)) throw new RestoreError(`data-dir "${dataDir}" exists`);
  const walDir = o.walDir || path.join(dataDir, 'member', 'wal');
  if (o.walDir && existsSync(walDir)) throw new RestoreError(`wal-dir "${walDir}" exists`);
  const snapDir = path.join(dataDir, 'member', 'snap');
  const where = { path: o.snapshotPath, 'wal-dir': walDir, 'data-dir': dataDir, 'snap-dir': snapDir };
  logger.info(where, 'restoring snapshot');
  const db = BoltDb.open(await readSnapshotFile(o.snapshotPath, o.skipHashCheck));
  const clusterId = computeClusterId(members.map((m) => m.id));
  try {
    await mkdir(snapDir, { recursive: true, mode: 0o700 });
    await restoreEntries(path.join(snapDir, 'db'), restoredEntries(db, members));
    const wal = await WAL.create(walDir, { memberId: self.id, clusterId, name: o.name }, { logger });
    const entries = bootstrapEntries(members);
    await wal.save({ term: 1, vote: (members[0] as Member).id, commit: entries.length }, entries, true);
    await wal.close();
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    if (o.walDir) await rm(walDir, { recursive: true, force: true });
    throw e;
  }
  logger.info(where, 'restored snapshot');
}
