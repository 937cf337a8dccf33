/*
 * The database half of a raft snapshot sent between members, as etcd does it (snapshot_merge.go,
 * snap/db.go, backend.go), with etcd 3.4's bbolt file as the database (server/etcd-db.ts), so members
 * of ours and of etcd exchange snapshots in both directions; a follower also takes our older LevelDB
 * image (backend/snapshot.ts, told apart by its magic) from a member not yet upgraded:
 *
 *   leader    a MsgSnap from raft is sent as a merged snapshot (mergedSnapshot): its metadata becomes
 *             this member's applied index, term and conf state, its data the v2 store, and the backend's
 *             dump, captured at that same moment, follows it on POST /raft/snapshot.
 *   follower  the bytes after the MsgSnap are saved before raft sees the message (saveSnapshotDb):
 *             <snap dir>/<index as %016x>.snap.db, checked as they arrive, temp file, fdatasync,
 *             rename, directory fsync. Once raft has persisted the snapshot (snap file, WAL marker, hard
 *             state), the server builds the new database beside the live one (prepareSnapshotDb) and
 *             swaps it in (Backend.reopen + backend/install.ts); then the .snap.db files up to it go.
 *   start-up  (openBackend, etcd's recoverSnapshotBackend) an interrupted swap is settled; when the newest
 *             raft snapshot is above the backend's consistent index (a crash before the swap finished),
 *             its .snap.db is installed before anything reads the backend. It must exist then: without
 *             it the member refuses to start, as etcd does.
 */
import {
  Backend, prepareRestore, prepareRestoreWith, recoverSwap, restoreEntries, snapshotMagic, swapInRestored, verifiedSnapshot, type BackendOptions, type StoreIo,
} from '../backend/index.js';
import { BoltDb, checkDb } from '../bbolt/index.js';
import { exists, readChunks, writeChunksDurable, type Disk } from '../pkg/disk.js';
import type { Logger } from '../pkg/logger.js';
import { joinPath } from '../pkg/path.js';
import type { LiveRevisions } from '../mvcc/index.js';
import type { ConfState, Message, Snapshot } from '../raft/types.js';
import { backendPathOf, snapDirOf, type ServerConfig } from './config.js';
import { backendEntriesOfEtcdDb, etcdDbStream } from './etcd-db.js';
import { ioOf } from './io.js';

type Dirs = Pick<ServerConfig, 'dataDir' | 'io'>;

function storeIo(cfg: Dirs): StoreIo {
  const io = ioOf(cfg);
  return { disk: io.disk, engines: io.engines };
}

const SNAP_DB = /^([0-9a-f]{16})\.snap\.db(\.tmp)?$/;

/** etcd's DBFilePath: `<snap dir>/<index as %016x>.snap.db`. */
export function snapDbPathOf(cfg: Dirs, index: number): string {
  return joinPath(snapDirOf(cfg), `${index.toString(16).padStart(16, '0')}.snap.db`);
}

/** What a leader's snapshot message is made of: the state applied here, all at one moment. */
export interface SnapshotSource {
  appliedIndex: number;
  term(index: number): number;
  confState: ConfState;
  /** The v2 store (raft snapshot data). */
  v2Data(): Uint8Array;
  backend: Backend;
  /** The key bucket from the key index, captured in the same step (mvcc KvStore.liveRevisions; none while a compaction deletes revisions). */
  live?: LiveRevisions | undefined;
}

/**
 * etcd's createMergedSnapshotMessage: raft's MsgSnap with its snapshot replaced by the applied state
 * now (index, term, conf state, v2 store) and the backend's dump as of now. Called synchronously
 * between applies, so the two describe the same state.
 */
export function mergedSnapshot(m: Message, s: SnapshotSource): { message: Message; db: AsyncIterable<Uint8Array>; dbBytes: number } {
  const index = s.appliedIndex;
  const snapshot: Snapshot = { data: s.v2Data(), metadata: { index, term: s.term(index), confState: s.confState } };
  return { message: { ...m, snapshot }, db: etcdDbStream(s.backend, s.live), dbBytes: s.backend.size() };
}

/**
 * Our LevelDB image is checked as it arrives; anything else is taken for etcd's bbolt file, checked
 * once whole (saveSnapshotDb). Passes the bytes through.
 */
async function* checkedAsItArrives(db: AsyncIterable<Uint8Array>, kind: { bbolt: boolean }): AsyncGenerator<Uint8Array> {
  const it = (async function* () {
    yield* db; // an async iterable, or in tests an array
  })();
  let head = Buffer.alloc(0);
  const held: Uint8Array[] = [];
  while (head.length < snapshotMagic.length) {
    const r = await it.next();
    if (r.done) break;
    held.push(r.value);
    head = Buffer.concat([head, r.value]);
  }
  const rest = (async function* () {
    yield* held;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  kind.bbolt = !head.subarray(0, snapshotMagic.length).equals(snapshotMagic);
  yield* kind.bbolt ? rest : verifiedSnapshot(rest);
}

/** etcd's bbolt file at `file`, checked as bbolt's Tx.Check would (throws when it is not one). */
async function openBoltFile(disk: Disk, file: string): Promise<BoltDb> {
  const db = BoltDb.open(await disk.readFile(file));
  const problems = checkDb(db);
  if (problems.length > 0) throw new Error(`database snapshot ${file} is damaged: ${problems.slice(0, 3).join('; ')}`);
  return db;
}

/** Saves the database that came with a MsgSnap (verified); resolves with its size. */
export async function saveSnapshotDb(cfg: Dirs, index: number, db: AsyncIterable<Uint8Array>, logger: Logger): Promise<number> {
  const file = snapDbPathOf(cfg, index);
  let bytes = 0;
  const kind = { bbolt: false };
  const counted = async function* (): AsyncGenerator<Uint8Array> {
    for await (const c of checkedAsItArrives(db, kind)) {
      bytes += c.length;
      yield c;
    }
  };
  const { disk } = ioOf(cfg);
  await writeChunksDurable(disk, file, counted());
  if (kind.bbolt) {
    try {
      await openBoltFile(disk, file);
    } catch (err) {
      await disk.rm(file, { force: true });
      throw err;
    }
  }
  logger.info({ path: file, bytes, format: kind.bbolt ? 'bbolt' : 'leveldb-image' }, 'saved database snapshot to disk');
  return bytes;
}

/** Builds the database of the snapshot at `index` beside the live one (db.restore): the slow half of an install. */
export async function prepareSnapshotDb(cfg: Dirs, index: number): Promise<void> {
  const file = snapDbPathOf(cfg, index);
  const { disk } = ioOf(cfg);
  if (!(await exists(disk, file))) throw new Error(`failed to find database snapshot file ${file}`);
  const head = Buffer.alloc(snapshotMagic.length);
  const fh = await disk.open(file, 'read');
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  if (head.equals(snapshotMagic)) {
    await prepareRestore(backendPathOf(cfg), readChunks(disk, file), storeIo(cfg));
    return;
  }
  const db = await openBoltFile(disk, file);
  const io = storeIo(cfg);
  await prepareRestoreWith(backendPathOf(cfg), (restore) => restoreEntries(restore, backendEntriesOfEtcdDb(db), io.engines), io);
}

/** Swaps the prepared database in; `backend` is reopened on it. */
export function swapSnapshotDb(cfg: Dirs, backend: Backend): Promise<void> {
  return backend.reopen(() => swapInRestored(backendPathOf(cfg), storeIo(cfg)));
}

/** Removes the .snap.db files at or below `upTo`, and with `tmp` the leftovers of interrupted receives. */
export async function removeSnapshotDbs(cfg: Dirs, upTo: number, tmp = false): Promise<void> {
  const dir = snapDirOf(cfg);
  const { disk } = ioOf(cfg);
  let removed = 0;
  for (const name of await disk.readdir(dir).catch(() => [] as string[])) {
    const m = SNAP_DB.exec(name);
    if (!m || (m[2] ? !tmp : Number.parseInt(m[1]!, 16) > upTo)) continue;
    await disk.rm(joinPath(dir, name), { force: true });
    removed++;
  }
  if (removed > 0) await disk.fsyncDir(dir);
}

/** Opens the backend at start-up, installing the snapshot's database first when the backend is behind it. */
export async function openBackend(cfg: Dirs, snapshot: Snapshot | undefined, opts: BackendOptions & { logger: Logger }): Promise<Backend> {
  const dbPath = backendPathOf(cfg);
  const logger = opts.logger.child({ room: 'server' });
  const recovered = await recoverSwap(dbPath, storeIo(cfg));
  if (recovered !== 'none') logger.warn({ path: dbPath, recovered }, 'settled a backend swap interrupted by a crash');
  const io = ioOf(cfg);
  const backend = await Backend.open(dbPath, { engines: io.engines, clock: io.clock, ...opts });
  const index = snapshot?.metadata.index ?? 0;
  if (index > backend.consistentIndex()) {
    logger.info({ snapshotIndex: index, consistentIndex: backend.consistentIndex() }, 'installing the database of the raft snapshot (the backend is behind it)');
    try {
      await prepareSnapshotDb(cfg, index);
      await swapSnapshotDb(cfg, backend);
    } catch (err) {
      await backend.close();
      throw err;
    }
  }
  await removeSnapshotDbs(cfg, backend.consistentIndex(), true);
  return backend;
}
