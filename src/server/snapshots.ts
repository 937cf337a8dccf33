/*
 * Raft snapshots of the applied state, every --snapshot-count applied entries: the backend is
 * committed (fsync) first, so the snapshot never claims more than the disk holds; then the snapshot
 * file, then its marker in the WAL; then the in-memory raft log is compacted (keeping
 * snapshotCatchUpEntries for slow followers) and WAL segments and older snapshot files are released.
 */
import type { Backend } from '../backend/index.js';
import type { Logger } from '../pkg/logger.js';
import type { MemoryStorage } from '../raft/index.js';
import type { ConfState } from '../raft/types.js';
import type { RaftBootstrap } from './bootstrap.js';
import type { ServerConfig } from './config.js';

/** Snapshot files kept (etcd's --max-snapshots default). */
export const SNAPSHOTS_KEPT = 5;

export class Snapshots {
  private snapshotIndex: number;
  private readonly recentIndexes: number[] = [];

  constructor(
    private readonly boot: RaftBootstrap,
    private readonly backend: Backend,
    private readonly cfg: ServerConfig,
    private readonly logger: Logger,
    appliedAtStart: number,
    /** The application state carried in the snapshot beside the backend (the v2 store). */
    private readonly data: () => Uint8Array = () => new Uint8Array(0),
  ) {
    this.snapshotIndex = appliedAtStart;
  }

  async maybeSnapshot(applied: number, confState: ConfState, storage: MemoryStorage): Promise<void> {
    if (applied - this.snapshotIndex <= this.cfg.snapshotCount) return;
    await this.backend.commit({ sync: true });
    const snap = storage.createSnapshot(applied, confState, this.data());
    await this.boot.snapshotter.save(snap);
    await this.boot.wal.saveSnapshot({ index: snap.metadata.index, term: snap.metadata.term });
    this.snapshotIndex = applied;
    const compactIndex = applied - this.cfg.snapshotCatchUpEntries;
    if (compactIndex > storage.firstIndex()) storage.compact(compactIndex);
    await this.boot.wal.releaseTo(applied);
    this.recentIndexes.push(applied);
    if (this.recentIndexes.length > SNAPSHOTS_KEPT) {
      await this.boot.snapshotter.releaseOlderThan(this.recentIndexes.shift()! + 1);
    }
    this.logger.info({ index: applied, term: snap.metadata.term, compactIndex }, 'saved snapshot');
  }

  async close(): Promise<void> {
    await this.boot.wal.close();
  }
}
