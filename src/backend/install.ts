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
import fsp from 'node:fs/promises';
import path from 'node:path';
import { failpoint } from '../pkg/failpoints.js';
import { fileExists, fsyncDir, renameDurable } from '../platform/fs.js';
import { restoreSnapshot } from './snapshot.js';

export const restorePathOf = (db: string): string => `${db}.restore`;
export const oldPathOf = (db: string): string => `${db}.old`;

/** The failpoints of the swap, in order (tests crash at each). */
export const SWAP_FAILPOINTS = ['backendBeforeSwap', 'backendAfterRenameOld', 'backendAfterRenameNew'] as const;

async function removeDir(dir: string): Promise<boolean> {
  if (!(await fileExists(dir))) return false;
  await fsp.rm(dir, { recursive: true, force: true });
  await fsyncDir(path.dirname(dir));
  return true;
}

/** fsync every file of a directory, then the directory (LevelDB leaves unsynced writes behind on close). */
async function syncDir(dir: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    const fh = await fsp.open(path.join(dir, name), 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  await fsyncDir(dir);
}

/** Step 1: builds the database of a snapshot image at `<db>.restore`, durably. The live `db` is untouched. */
export async function prepareRestore(db: string, image: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
  await prepareRestoreWith(db, (restore) => restoreSnapshot(restore, image));
}

/** prepareRestore with the new database made by `build` (given the path it must create). */
export async function prepareRestoreWith(db: string, build: (restorePath: string) => Promise<void>): Promise<void> {
  const restore = restorePathOf(db);
  await removeDir(restore);
  try {
    await build(restore);
    await syncDir(restore);
    await fsyncDir(path.dirname(restore));
  } catch (err) {
    await removeDir(restore);
    throw err;
  }
}

/** Steps 2-4: puts the prepared database in place of `db`. Nothing may have `db` open. */
export async function swapInRestored(db: string): Promise<void> {
  failpoint('backendBeforeSwap');
  await renameDurable(db, oldPathOf(db));
  failpoint('backendAfterRenameOld');
  await renameDurable(restorePathOf(db), db);
  failpoint('backendAfterRenameNew');
  await removeDir(oldPathOf(db));
}

/** What recoverSwap found and did. */
export type SwapRecovery = 'none' | 'finished' | 'rolled-back' | 'cleaned';

/** At start-up, before `db` is opened: settles an interrupted prepare or swap (see the top of this file). */
export async function recoverSwap(db: string): Promise<SwapRecovery> {
  const restore = restorePathOf(db);
  const old = oldPathOf(db);
  if (!(await fileExists(db))) {
    if (await fileExists(restore)) {
      await renameDurable(restore, db);
      await removeDir(old);
      return 'finished';
    }
    if (await fileExists(old)) {
      await renameDurable(old, db);
      return 'rolled-back';
    }
    return 'none';
  }
  const removedOld = await removeDir(old);
  const removedRestore = await removeDir(restore);
  return removedOld || removedRestore ? 'cleaned' : 'none';
}
