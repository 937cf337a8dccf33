// Reading a WAL back: verify every segment from the one holding `from`, replay its records.
import { isNotFound, type Disk } from '../pkg/disk.js';
import { joinPath } from '../pkg/path.js';
import { nodeDisk } from '../platform/fs.js';
import type { Entry, HardState } from '../raft/types.js';
import { decodeEntry, decodeMetadata, decodeSnapshot, decodeState, readU64, RecordType } from './record.js';
import { listSegments, scanSegment, searchIndex, type SegmentName, type SegmentScan } from './segment.js';
import { WalCorruptError, WalSnapshotError, type WalMetadata, type WalSnapshotMarker } from './types.js';

export interface ReadResult {
  segments: SegmentName[];
  /** Position (in `segments`) of the first segment read. */
  firstRead: number;
  /** The scan of the last segment (its tail may need repair) and its file size. */
  lastScan: SegmentScan;
  lastFileBytes: number;
  metadata: WalMetadata;
  hardState: HardState;
  entries: Entry[];
  /** The index of the last entry written (after conflicts) or of a later snapshot marker. */
  lastIndex: number;
  markers: WalSnapshotMarker[];
}


class Replay {
  metadata: WalMetadata | undefined;
  hardState: HardState = { term: 0, vote: 0n, commit: 0 };
  entries: Entry[] = [];
  lastIndex = 0;
  matched: boolean;
  markers: WalSnapshotMarker[] = [];

  constructor(
    readonly from: WalSnapshotMarker,
    readonly checkFrom: boolean,
  ) {
    this.matched = !checkFrom;
  }

  apply(file: string, firstIndex: number, scan: SegmentScan): void {
    // The segment was cut when the last index written was firstIndex - 1; its records go on from there.
    this.lastIndex = Math.max(0, firstIndex - 1);
    let sawMetadata = false;
    const list = scan.list;
    for (let i = 0; i < list.length; i++) {
      switch (list.type(i)) {
        case RecordType.Crc:
          break;
        case RecordType.Metadata:
          this.onMetadata(file, list.offset(i), decodeMetadata(list.payload(i)));
          sawMetadata = true;
          break;
        case RecordType.State:
          this.hardState = decodeState(list.payload(i));
          break;
        case RecordType.Snapshot:
          this.onMarker(decodeSnapshot(list.payload(i)));
          break;
        case RecordType.Entry: {
          // Entries up to the snapshot are only counted: decoding copies the data out, which for a
          // segment of 200,000 entries was a third of a restart's time (allocations and their GC).
          // An entry at or before the snapshot written after entries beyond it (a new leader
          // overwrote the uncommitted suffix, then committed and snapshotted) replaces them all.
          const index = readU64(list.buf, list.payloadStart(i)); // the entry's index, nothing else decoded
          if (index <= this.from.index) {
            this.lastIndex = index;
            this.entries.length = 0;
          } else this.onEntry(file, list.offset(i), decodeEntry(list.payload(i)));
          break;
        }
      }
    }
    if (!sawMetadata) throw new WalCorruptError(file, scan.end, 'segment has no metadata record');
  }

  private onMetadata(file: string, offset: number, m: WalMetadata): void {
    if (this.metadata && (this.metadata.memberId !== m.memberId || this.metadata.clusterId !== m.clusterId)) {
      throw new WalCorruptError(file, offset, 'metadata differs from the previous segments');
    }
    this.metadata = m;
  }

  private onMarker(m: WalSnapshotMarker): void {
    this.markers.push(m);
    if (m.index > this.lastIndex) this.lastIndex = m.index;
    if (this.checkFrom && m.index === this.from.index) {
      if (m.term !== this.from.term) {
        throw new WalSnapshotError('mismatch', `WAL snapshot marker at index ${m.index} has term ${m.term}, expected ${this.from.term}`);
      }
      this.matched = true;
    }
  }

  /** etcd's rule: an entry at an index already seen replaces that entry and everything after it. */
  /** An entry after the snapshot (the caller only counts those before it). */
  private onEntry(file: string, offset: number, e: Entry): void {
    this.lastIndex = e.index;
    const pos = e.index - this.from.index - 1;
    if (pos > this.entries.length) {
      const have = this.from.index + this.entries.length;
      throw new WalCorruptError(file, offset, `entry ${e.index} follows entry ${have} (gap in the log)`);
    }
    this.entries.length = pos;
    this.entries.push(e);
  }
}

/** Segments read and verified (every record's CRC, the chain between them), not yet replayed. */
export interface ScannedWal {
  walDir: string;
  segments: SegmentName[];
  /** Position (in `segments`) of the first segment read. */
  firstRead: number;
  /** Per segment from firstRead on: its path, its scan and its file size. */
  reads: { file: string; scan: SegmentScan; bytes: number }[];
}

/** Read and verify the segments from position `first` to the last. */
export async function scanWal(walDir: string, segments: SegmentName[], first: number, disk: Disk = nodeDisk): Promise<ScannedWal> {
  const reads: ScannedWal['reads'] = [];
  let previousCrc: number | undefined;
  for (let i = first; i < segments.length; i++) {
    const file = joinPath(walDir, segments[i]!.name);
    const buf = await disk.readFile(file);
    const scan = scanSegment(buf, file, previousCrc, i === segments.length - 1);
    reads.push({ file, scan, bytes: buf.length });
    previousCrc = scan.crc;
  }
  return { walDir, segments, firstRead: first, reads };
}

/**
 * Replay scanned segments from the one that may hold `from.index` (which must be among them). With
 * checkFrom, the marker `from` must be in the log.
 */
export function replayWal(scanned: ScannedWal, from: WalSnapshotMarker, checkFrom: boolean): ReadResult {
  const { segments } = scanned;
  const firstRead = checkFrom ? searchIndex(segments, from.index) : scanned.firstRead;
  if (firstRead < scanned.firstRead) throw new Error(`wal: replay from segment ${firstRead}, scanned from ${scanned.firstRead}`);
  if (firstRead < 0) throw new WalSnapshotError('no-segment', `no WAL segment in ${scanned.walDir} holds index ${from.index}`);
  const replay = new Replay(from, checkFrom);
  for (let i = firstRead; i < segments.length; i++) {
    const r = scanned.reads[i - scanned.firstRead]!;
    replay.apply(r.file, segments[i]!.index, r.scan);
  }
  if (!replay.matched) {
    throw new WalSnapshotError('not-found', `WAL snapshot marker (index ${from.index}, term ${from.term}) not found in ${scanned.walDir}`);
  }
  const last = scanned.reads[scanned.reads.length - 1]!;
  return {
    segments,
    firstRead,
    lastScan: last.scan,
    lastFileBytes: last.bytes,
    metadata: replay.metadata!,
    hardState: replay.hardState,
    entries: replay.entries,
    lastIndex: replay.lastIndex,
    markers: replay.markers,
  };
}

/**
 * Read and verify the segments from the one that may hold `from.index` to the last. Corruption
 * throws WalCorruptError; a torn tail of the last segment is reported in `lastScan`, not repaired.
 * With checkFrom, the marker `from` must be in the log ({0,0} is written when the WAL is created).
 */
export async function readWal(walDir: string, from: WalSnapshotMarker, checkFrom = true, disk: Disk = nodeDisk): Promise<ReadResult> {
  const segments = await listSegments(disk, walDir);
  if (segments.length === 0) throw new WalSnapshotError('no-segment', `no WAL segments in ${walDir}`);
  const firstRead = checkFrom ? searchIndex(segments, from.index) : 0;
  if (firstRead < 0) throw new WalSnapshotError('no-segment', `no WAL segment in ${walDir} holds index ${from.index}`);
  return replayWal(await scanWal(walDir, segments, firstRead, disk), from, checkFrom);
}

/** A `from` beyond any index: the replay only counts the entries (markers and the hard state are all it finds). */
export const MARKERS_ONLY: WalSnapshotMarker = { index: Number.MAX_SAFE_INTEGER, term: 0 };

/** The markers a restart can use (see WAL.snapshotMarkers): those at most the last hard state's commit. */
export function usableMarkers(r: ReadResult): WalSnapshotMarker[] {
  return r.markers.filter((m) => m.index <= r.hardState.commit);
}

/** Bytes read from the first segment to find its metadata record (CRC + metadata come first). */
export const METADATA_PROBE_BYTES = 4096;

/**
 * The metadata of the WAL in walDir without opening it (no lock, no repair), for start-up checks
 * made before any data is touched. undefined when there is no WAL there.
 */
export async function readWalMetadata(walDir: string, disk: Disk = nodeDisk): Promise<WalMetadata | undefined> {
  let segments: SegmentName[];
  try {
    segments = await listSegments(disk, walDir);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  if (segments.length === 0) return undefined;
  const file = joinPath(walDir, segments[0]!.name);
  const fh = await disk.open(file, 'read');
  try {
    const buf = Buffer.alloc(METADATA_PROBE_BYTES);
    const bytesRead = await fh.read(buf, 0, buf.length, 0);
    const scan = scanSegment(buf.subarray(0, bytesRead), file, undefined, true);
    for (let i = 0; i < scan.list.length; i++) if (scan.list.type(i) === RecordType.Metadata) return decodeMetadata(scan.list.payload(i));
    return undefined;
  } finally {
    await fh.close();
  }
}
