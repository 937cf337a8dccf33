/*
 * Replacing the backend's database with a snapshot's, so that a crash at any point leaves either the
 * old database or the new one. The database is the LevelDB directory `db`; the new one is built beside
 * it and swapped in by renames:
 *
 *   prepareRestore   1. `db.restore` ← the snapshot image (a leftover removed first), every file synced
 *   swapInRestored   2. `db` → `db.old`   3. `db.restore` → `db`   4. `db.old` removed
 *                    (each rename made durable by a directory fsync; no handle open on `db` meanwhile)
 *
 * recoverSwap(db) runs at start-up before the database is opened and settles what a crash left:
 *   `db` missing, `db.restore` present: crashed between 2 and 3; `db.restore` was complete before 2
 *     began, so the swap is finished (3, 4);
 *   `db` missing, only `db.old` present: cannot happen in the order above; `db.old` is put back;
 *   `db` present: `db.old` (crashed during 4) and `db.restore` (crashed during or after 1, the swap not
 *     begun: the old state stands) are removed. The server keeps the snapshot image until the swap is
 *     done and installs it again (etcd's recoverSnapshotBackend rule: see server/snapshot-db.ts).
 */
import { exists, removeDirDurable, renameDurable, type Disk } from '../pkg/disk.js';
import { dirnamePath } from '../pkg/path.js';
import { failpoint } from '../pkg/failpoints.js';
import { nodeDisk } from '../platform/fs.js';
import { levelEngines } from '../platform/level.js';
import type { Engines } from './engine.js';
import { restoreSnapshot } from './snapshot.js';

/** The files and the store the install works on (default: Node's file system and LevelDB). */
export interface StoreIo {
  disk: Disk;
  engines: Engines;
}

const nodeStoreIo: StoreIo = { disk: nodeDisk, engines: levelEngines };

export const restorePathOf = (db: string): string => `${db}.restore`;
export const oldPathOf = (db: string): string => `${db}.old`;

/** The failpoints of the swap, in order (tests crash at each). */
export const SWAP_FAILPOINTS = ['backendBeforeSwap', 'backendAfterRenameOld', 'backendAfterRenameNew'] as const;

/** Step 1: builds the database of a snapshot image at `<db>.restore`, durably. The live `db` is untouched. */
export async function prepareRestore(db: string, image: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, io: StoreIo = nodeStoreIo): Promise<void> {
  await prepareRestoreWith(db, (restore) => restoreSnapshot(restore, image, io.engines), io);
}

/** prepareRestore with the new database made by `build` (given the path it must create). */
export async function prepareRestoreWith(db: string, build: (restorePath: string) => Promise<void>, io: StoreIo = nodeStoreIo): Promise<void> {
  const restore = restorePathOf(db);
  await removeDirDurable(io.disk, restore);
  try {
    await build(restore);
    await io.engines.syncFiles(restore);
    await io.disk.fsyncDir(dirnamePath(restore));
  } catch (err) {
    await removeDirDurable(io.disk, restore);
    throw err;
  }
}

/** Steps 2-4: puts the prepared database in place of `db`. Nothing may have `db` open. */
export async function swapInRestored(db: string, io: StoreIo = nodeStoreIo): Promise<void> {
  failpoint('backendBeforeSwap');
  await renameDurable(io.disk, db, oldPathOf(db));
  failpoint('backendAfterRenameOld');
  await renameDurable(io.disk, restorePathOf(db), db);
  failpoint('backendAfterRenameNew');
  await removeDirDurable(io.disk, oldPathOf(db));
}

/** What recoverSwap found and did. */
export type SwapRecovery = 'none' | 'finished' | 'rolled-back' | 'cleaned';

/** At start-up, before `db` is opened: settles an interrupted prepare or swap (see the top of this file). */
export async function recoverSwap(db: string, io: StoreIo = nodeStoreIo): Promise<SwapRecovery> {
  const { disk } = io;
  const restore = restorePathOf(db);
  const old = oldPathOf(db);
  if (!(await exists(disk, db))) {
    if (await exists(disk, restore)) {
      await renameDurable(disk, restore, db);
      await removeDirDurable(disk, old);
      return 'finished';
    }
    if (await exists(disk, old)) {
      await renameDurable(disk, old, db);
      return 'rolled-back';
    }
    return 'none';
  }
  const removedOld = await removeDirDurable(disk, old);
  const removedRestore = await removeDirDurable(disk, restore);
  return removedOld || removedRestore ? 'cleaned' : 'none';
}
