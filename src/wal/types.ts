// Shared WAL types and errors (see ./index.ts for the model and format).
import type { Disk } from '../pkg/disk.js';
import type { Logger } from '../pkg/logger.js';

/** Stored in the metadata record of every segment. */
export interface WalMetadata {
  memberId: bigint;
  clusterId: bigint;
  /** The member's --name when the WAL was created (lets start-up refuse another member's data dir). */
  name?: string;
}

/** A raft snapshot point recorded in the log: the state itself lives in the backend. */
export interface WalSnapshotMarker {
  index: number;
  term: number;
}

/** fdatasync after the write, or one O_DSYNC write (write and flush in one system call). */
export type WalSyncMode = 'dsync' | 'fdatasync';

export interface WalOptions {
  logger?: Logger;
  /** Cut to a new segment once the current one reaches this size (etcd: 64,000,000). */
  segmentBytes?: number;
  syncMode?: WalSyncMode;
  /** The file system (default: Node's, platform/fs.ts nodeDisk; the simulation hands its own). */
  disk?: Disk;
}

export const DEFAULT_SEGMENT_BYTES = 64_000_000;

/** The log is damaged somewhere a torn write cannot explain: refuse to start. */
export class WalCorruptError extends Error {
  override name = 'WalCorruptError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`WAL corrupt: ${file} at offset ${offset}: ${reason}`);
  }
}

/** A snapshot file fails its checks (checksum, magic, layout, name): it cannot be loaded. */
export class SnapshotCorruptError extends Error {
  override name = 'SnapshotCorruptError';
  constructor(
    readonly reason: string,
    readonly file?: string,
  ) {
    super(`snapshot corrupt: ${file === undefined ? '' : `${file}: `}${reason}`);
  }
}

/** A domain outcome of open(): the caller's snapshot marker is not (or differently) in the log. */
export class WalSnapshotError extends Error {
  override name = 'WalSnapshotError';
  constructor(
    readonly code: 'not-found' | 'mismatch' | 'no-segment',
    message: string,
  ) {
    super(message);
  }
}
