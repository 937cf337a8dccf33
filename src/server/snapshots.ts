/*
 * Raft snapshots of the applied state, every --snapshot-count applied entries: the backend is
 * committed (fsync) first, so the snapshot never claims more than the disk holds; then the snapshot
 * file, then its marker in the WAL; then the in-memory raft log is compacted (keeping
 * snapshotCatchUpEntries for slow followers) and WAL segments and older snapshot files are released.
 * Between snapshots, a member without peers trims its in-memory log on its own (trimAlone); once it
 * has a peer again, a snapshot is taken at once if the log was trimmed past the last one, so the
 * snapshot raft falls back on for a peer always covers the entries the log no longer has.
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
    const trimmedPastSnapshot = storage.snapshot().metadata.index < storage.firstIndex() - 1;
    if (applied - this.snapshotIndex > this.cfg.snapshotCount || (trimmedPastSnapshot && !isAlone(confState))) {
      await this.snapshot(applied, confState, storage);
    } else trimAlone(applied, confState, storage, this.cfg.snapshotCatchUpEntries);
  }

  /** A snapshot from the leader was installed: count from it; release the WAL and older snapshot files. */
  async installed(index: number): Promise<void> {
    this.snapshotIndex = index;
    await this.release(index);
  }

  private async snapshot(applied: number, confState: ConfState, storage: MemoryStorage): Promise<void> {
    await this.backend.commit({ sync: true });
    const snap = storage.createSnapshot(applied, confState, this.data());
    await this.boot.snapshotter.save(snap);
    await this.boot.wal.saveSnapshot({ index: snap.metadata.index, term: snap.metadata.term });
    this.snapshotIndex = applied;
    const compactIndex = applied - this.cfg.snapshotCatchUpEntries;
    if (compactIndex > storage.firstIndex()) storage.compact(compactIndex);
    await this.release(applied);
    this.logger.info({ index: applied, term: snap.metadata.term, compactIndex }, 'saved snapshot');
  }

  /** Releases the WAL segments before the snapshot at `index` and the snapshot files past SNAPSHOTS_KEPT. */
  private async release(index: number): Promise<void> {
    await this.boot.wal.releaseTo(index);
    this.recentIndexes.push(index);
    if (this.recentIndexes.length > SNAPSHOTS_KEPT) {
      await this.boot.snapshotter.releaseOlderThan(this.recentIndexes.shift()! + 1);
    }
  }

  async close(): Promise<void> {
    await this.boot.wal.close();
  }
}

/** One voter, no learner, no joint configuration: nobody to send entries to. */
export function isAlone(cs: ConfState): boolean {
  return cs.voters.length === 1 && cs.learners.length === 0 && cs.votersOutgoing.length === 0 && cs.learnersNext.length === 0;
}

/**
 * A member without peers (one voter, no learner) never sends a follower an entry, so it keeps only the
 * last `keep` to 2 x `keep` applied entries in memory instead of up to --snapshot-count of them (the
 * 100,000 entries of loading 100,000 keys of 256 bytes held ~40 MB). Nothing on disk changes: the WAL
 * keeps every entry since the last snapshot, so a restart replays as before. The raft snapshot then
 * lags the log's first index; maybeSnapshot takes a new one as soon as the member has a peer.
 */
export function trimAlone(applied: number, confState: ConfState, storage: MemoryStorage, keep: number): void {
  const upTo = Math.min(applied, storage.lastIndex()) - keep;
  if (isAlone(confState) && upTo - storage.firstIndex() >= keep) storage.compact(upTo);
}
