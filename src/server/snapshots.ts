/*
 * Raft snapshots of the applied state, every --snapshot-count applied entries: the backend is
 * committed (fsync) first, so the snapshot never claims more than the disk holds; then the snapshot
 * file, then its marker in the WAL; then the in-memory raft log is compacted (keeping
 * snapshotCatchUpEntries for slow followers) and WAL segments and older snapshot files are released.
 * Between snapshots, a member without peers trims its in-memory log on its own (trimAlone).
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
    if (applied - this.snapshotIndex > this.cfg.snapshotCount) await this.snapshot(applied, confState, storage);
    else trimAlone(applied, confState, storage, this.cfg.snapshotCatchUpEntries);
  }

  private async snapshot(applied: number, confState: ConfState, storage: MemoryStorage): Promise<void> {
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

/**
 * A member without peers (one voter, no learner) never sends a follower an entry, so it keeps only the
 * last `keep` to 2 x `keep` applied entries in memory instead of up to --snapshot-count of them (the
 * 100,000 entries of loading 100,000 keys of 256 bytes held ~40 MB). Nothing on disk changes: the WAL
 * keeps every entry since the last snapshot, so a restart replays as before. The raft snapshot then
 * lags the log's first index: a leader that gains a peer must take a snapshot before it sends the peer
 * anything (there is no member add yet; see docs/architecture.md).
 */
export function trimAlone(applied: number, confState: ConfState, storage: MemoryStorage, keep: number): void {
  const alone = confState.voters.length === 1 && confState.learners.length === 0 && confState.votersOutgoing.length === 0 && confState.learnersNext.length === 0;
  const upTo = Math.min(applied, storage.lastIndex()) - keep;
  if (alone && upTo - storage.firstIndex() >= keep) storage.compact(upTo);
}
