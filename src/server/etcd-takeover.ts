// Taking over a data dir that etcd 3.4 wrote: our member started on it converts it in place and
// keeps etcd's files aside. Detected by member/snap/db being a bbolt FILE (ours is a LevelDB
// directory) and member/wal holding etcd's segments.
//
// The new member dir is built in <data-dir>/member.takeover: the bbolt buckets into LevelDB
// (etcd-db.ts, consistent index included), etcd's newest .snap the WAL has a record of as our
// snapshot file (its index, term and conf state; its data, etcd's v2 store JSON, as is when our v2
// store reads it, else a v2 store with only the membership mirror rebuilt from the database's members
// and cluster version: v2 keys written through etcd's v2 API then not carried over), and our WAL with the same member and
// cluster ids: a snapshot marker at that index, etcd's entries after it (their bytes are etcd's
// InternalRaftRequest / ConfChange, applied as they are; those at or below the database's
// consistent index are skipped by the backend as on any restart), and etcd's hard state. Then
// member/ is renamed to member.etcd34-<UTC time> and member.takeover to member/. A start that finds
// member.takeover left by a crash starts over (member/ still etcd's) or finishes the rename.
import { restoreEntries, type Engines } from '../backend/index.js';
import { BoltDb } from '../bbolt/index.js';
import { decodeConfChangeContext, idToHex } from '../membership/index.js';
import { exists, removeDirDurable, renameDurable, type Disk } from '../pkg/disk.js';
import type { Logger } from '../pkg/logger.js';
import { joinPath } from '../pkg/path.js';
import type { Entry, Snapshot } from '../raft/types.js';
import { V2Store, mirrorClusterVersion, mirrorMemberAdd, mirrorMemberAttributes } from '../v2store/index.js';
import { Snapshotter, WAL, readEtcdSnap, readEtcdWal } from '../wal/index.js';
import { backendEntriesOfEtcdDb } from './etcd-db.js';

const BOLT_MAGIC = 0xed0cdaed;
const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

/** True if <data-dir>/member is etcd's: member/snap/db a bbolt file (its first meta page's magic). */
export async function isEtcdDataDir(disk: Disk, dataDir: string): Promise<boolean> {
  const db = joinPath(dataDir, 'member', 'snap', 'db');
  const fh = await disk.open(db, 'read').catch(() => undefined); // a directory (ours) or none: not etcd's
  if (!fh) return false;
  try {
    if ((await fh.size()) < 4096) return false;
    const head = Buffer.alloc(20);
    await fh.read(head, 0, 20, 0);
    return head.readUInt32LE(16) === BOLT_MAGIC;
  } catch {
    return false;
  } finally {
    await fh.close();
  }
}

/** What a takeover touches: the member's disk and the store its backend is built in. */
export interface TakeoverIo {
  disk: Disk;
  engines: Engines;
}

/** Finishes or discards a takeover a crash interrupted; then takes over member/ if it is etcd's. */
export async function maybeTakeOverEtcdDataDir(io: TakeoverIo, dataDir: string, name: string, customWalDir: boolean, logger: Logger): Promise<void> {
  const { disk } = io;
  const memberDir = joinPath(dataDir, 'member');
  const tmpDir = joinPath(dataDir, 'member.takeover');
  if ((await exists(disk, tmpDir)) && !(await exists(disk, memberDir))) {
    await renameDurable(disk, tmpDir, memberDir);
    logger.warn({ dataDir }, 'finished taking over an etcd 3.4 data directory (interrupted after etcd\'s files were set aside)');
    return;
  }
  if (!(await isEtcdDataDir(disk, dataDir))) return;
  if (customWalDir) throw new Error('taking over an etcd 3.4 data directory with --wal-dir set is not supported: start once without --wal-dir');
  await takeOver(io, dataDir, name, logger);
}

async function takeOver(io: TakeoverIo, dataDir: string, name: string, logger: Logger): Promise<void> {
  const { disk } = io;
  const memberDir = joinPath(dataDir, 'member');
  const tmpDir = joinPath(dataDir, 'member.takeover');
  const walNames = (await disk.readdir(joinPath(memberDir, 'wal'))).filter((f) => f.endsWith('.wal')).sort();
  if (walNames.length === 0) throw new Error(`etcd data directory ${dataDir} has a database but no WAL in member/wal`);
  const wal = readEtcdWal(await Promise.all(walNames.map((f) => disk.readFile(joinPath(memberDir, 'wal', f)))), walNames);
  const snap = await newestEtcdSnap(disk, joinPath(memberDir, 'snap'), wal.snapshots, logger);
  const db = BoltDb.open(await disk.readFile(joinPath(memberDir, 'snap', 'db')));
  const from = snap?.metadata.index ?? 0;
  const entries: Entry[] = wal.entries.filter((e) => e.index > from).map((e) => ({ index: e.index, term: e.term, type: e.type, data: e.data }));
  const lastIndex = entries.at(-1)?.index ?? from;
  logger.info(
    { dataDir, memberId: idToHex(wal.metadata.nodeId), clusterId: idToHex(wal.metadata.clusterId), walSegments: walNames.length, snapshotIndex: from,
      entries: entries.length, commit: wal.hardState.commit, tornBytes: wal.tornBytes },
    'taking over an etcd 3.4 data directory',
  );
  if (entries.length > 0 && (entries[0] as Entry).index !== from + 1) throw new Error(`etcd WAL does not continue its snapshot at ${from}: first entry ${(entries[0] as Entry).index}`);

  await removeDirDurable(disk, tmpDir);
  await disk.mkdir(joinPath(tmpDir, 'snap'), { recursive: true, mode: 0o700 });
  await restoreEntries(joinPath(tmpDir, 'snap', 'db'), backendEntriesOfEtcdDb(db), io.engines);
  if (snap) await new Snapshotter(joinPath(tmpDir, 'snap'), logger, disk).save({ ...snap, data: v2DataOf(snap, db, logger) });
  const ours = await WAL.create(joinPath(tmpDir, 'wal'), { memberId: wal.metadata.nodeId, clusterId: wal.metadata.clusterId, name }, { logger, disk });
  if (snap) await ours.saveSnapshot({ index: snap.metadata.index, term: snap.metadata.term });
  const hs = { ...wal.hardState, commit: Math.min(Math.max(wal.hardState.commit, from), lastIndex) };
  await ours.save(hs, entries, true);
  await ours.close();
  await disk.fsyncDir(tmpDir);
  await disk.fsyncDir(joinPath(tmpDir, 'snap'));

  const aside = joinPath(dataDir, `member.etcd34-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await renameDurable(disk, memberDir, aside);
  await renameDurable(disk, tmpDir, memberDir);
  logger.info({ dataDir, keptAside: aside }, 'took over the etcd 3.4 data directory; etcd\'s original files are kept aside until removed by the operator');
}

/** etcd's newest .snap the WAL has a record of and that passes its crc (etcd's snapshotter.LoadNewestAvailable). */
async function newestEtcdSnap(disk: Disk, snapDir: string, recorded: Array<{ index: number; term: number }>, logger: Logger): Promise<Snapshot | undefined> {
  const names = (await disk.readdir(snapDir)).filter((f) => SNAP_NAME.test(f)).sort().reverse();
  for (const f of names) {
    const m = SNAP_NAME.exec(f) as RegExpExecArray;
    const term = Number.parseInt(m[1] as string, 16);
    const index = Number.parseInt(m[2] as string, 16);
    if (!recorded.some((r) => r.index === index && r.term === term)) continue;
    try {
      return readEtcdSnap(await disk.readFile(joinPath(snapDir, f)));
    } catch (e) {
      logger.warn({ file: f, err: (e as Error).message }, 'skipping an unreadable etcd snapshot file');
    }
  }
  return undefined;
}

/** etcd's v2 store as is if our v2 store reads it, else one with only the membership mirror. */
function v2DataOf(snap: Snapshot, db: BoltDb, logger: Logger): Uint8Array {
  try {
    V2Store.recover(snap.data);
    return snap.data;
  } catch (e) {
    logger.info({ reason: (e as Error).message }, "etcd's v2 store in its snapshot is not readable here: only the v2 membership mirror is rebuilt, from the database");
    return v2MirrorOf(db);
  }
}

/** Our v2 store with the membership mirror of the database's members and cluster version. */
function v2MirrorOf(db: BoltDb): Uint8Array {
  const v2 = new V2Store();
  for (const e of db.bucket('members')?.entries() ?? []) {
    const { member } = decodeConfChangeContext(e.value);
    const idHex = idToHex(member.id);
    mirrorMemberAdd(v2, idHex, { peerURLs: member.peerURLs, isLearner: member.isLearner }, 0);
    if (member.name || member.clientURLs.length > 0) mirrorMemberAttributes(v2, idHex, { name: member.name, clientURLs: member.clientURLs }, 0);
  }
  for (const e of db.bucket('cluster')?.entries() ?? []) {
    if (e.key.toString() === 'clusterVersion') mirrorClusterVersion(v2, e.value.toString(), 0);
  }
  return v2.save();
}
