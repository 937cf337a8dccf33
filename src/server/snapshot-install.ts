/*
 * A follower takes the leader's snapshot (etcd's applySnapshot). When this runs, raft has persisted the
 * snapshot (snap file, WAL marker, the hard state committing it) and its database is in the .snap.db
 * saved when it arrived (snapshot-db.ts). Order:
 *   1. the new database is built beside the live one; local reads are still served from the old state;
 *   2. local reads are held; the backend's database is swapped (crash-safe: backend/install.ts); the
 *      lessor is recovered from it, then MVCC rebuilt (keys re-attach to leases; watchers carry on),
 *      then alarms, membership and the cluster version; the v2 store comes from the snapshot's data;
 *      the applied index and conf state become the snapshot's; reads go on;
 *   3. the .snap.db files up to it, WAL segments and older snapshot files are released.
 * A failure is fatal: the restart settles what was left (snapshot-db.ts openBackend).
 */
import type { RaftCluster } from '../membership/index.js';
import { failpoint } from '../pkg/failpoints.js';
import type { Logger } from '../pkg/logger.js';
import type { Snapshot } from '../raft/types.js';
import type { V2Store } from '../v2store/index.js';
import type { EntryApplier } from './apply.js';
import type { ServerConfig } from './config.js';
import { prepareSnapshotDb, removeSnapshotDbs, swapSnapshotDb } from './snapshot-db.js';
import type { Snapshots } from './snapshots.js';
import { loadMembership, type Stores } from './stores.js';

/** The member's state a snapshot replaces, and where local reads wait meanwhile. */
export interface InstallTarget extends Omit<Stores, 'tokens'> {
  cfg: Pick<ServerConfig, 'dataDir'>;
  logger: Logger;
  cluster: RaftCluster;
  v2: V2Store;
  entries: EntryApplier;
  snapshots: Snapshots;
  /** Local reads wait for `until` (undefined: they go on). */
  holdReads(until: Promise<void> | undefined): void;
}

export async function installSnapshot(t: InstallTarget, snap: Snapshot): Promise<void> {
  const { index, term } = snap.metadata;
  t.logger.info({ appliedIndex: t.entries.appliedIndex, incomingSnapshotIndex: index, incomingSnapshotTerm: term }, 'applying snapshot');
  await prepareSnapshotDb(t.cfg, index);
  let release = (): void => undefined;
  t.holdReads(new Promise<void>((resolve) => (release = resolve)));
  try {
    await t.kv.restore(async () => {
      await swapSnapshotDb(t.cfg, t.backend);
      failpoint('applyAfterBackendSwap');
      // the lessor before MVCC, which re-attaches keys to their leases (etcd's order)
      await t.leaseStore.reload();
      t.lessor.recover();
    });
    await t.alarms.load();
    await t.auth.reload();
    const membership = await loadMembership(t.backend);
    t.cluster.recover(membership.members, membership.removed);
    t.entries.clusterVersion = membership.clusterVersion;
    if (snap.data.length > 0) t.v2.restore(snap.data);
    t.entries.appliedIndex = index;
    t.entries.confState = snap.metadata.confState;
  } finally {
    t.holdReads(undefined);
    release();
  }
  await removeSnapshotDbs(t.cfg, index); // not above: a later snapshot's may have arrived meanwhile
  await t.snapshots.installed(index);
  t.logger.info({ appliedIndex: index, appliedTerm: term, consistentIndex: t.backend.consistentIndex(), revision: t.kv.rev() }, 'applied snapshot');
}
