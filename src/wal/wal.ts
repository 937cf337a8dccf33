// The WAL: appends records to the tail segment, one write and one flush per save (group commit).
import { isNotFound, renameDurable, truncateAndZeroFill, type Disk, type DiskFile, type FileLock } from '../pkg/disk.js';
import { failpoint } from '../pkg/failpoints.js';
import { InvariantError } from '../pkg/invariant.js';
import type { Logger } from '../pkg/logger.js';
import { dirnamePath, joinPath } from '../pkg/path.js';
import { nodeDisk } from '../platform/fs.js';
import type { Entry, HardState } from '../raft/types.js';
import { MARKERS_ONLY, readWal, replayWal, scanWal, usableMarkers, type ReadResult, type ScannedWal } from './reader.js';
import { RecordEncoder } from './record.js';
import { listSegments, searchIndex, segmentFileName, type SegmentName } from './segment.js';
import { DEFAULT_SEGMENT_BYTES, WalSnapshotError, type WalMetadata, type WalOptions, type WalSnapshotMarker, type WalSyncMode } from './types.js';
import { mark, Stage, TRACE_PUT } from '../pkg/put-trace.js';

const LOCK_FILE = '.lock';
const NEXT_SEGMENT_TMP = 'next.wal.tmp';

function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === 0n && hs.commit === 0;
}

interface Tail {
  fh: DiskFile;
  /** The same file opened with O_DSYNC (syncMode 'dsync'). */
  fhSync: DiskFile | undefined;
  offset: number;
}

interface WalState {
  disk: Disk;
  walDir: string;
  metadata: WalMetadata;
  segments: SegmentName[];
  tail: Tail;
  crc: number;
  lastIndex: number;
  hardState: HardState;
  lock: FileLock;
}

export class WAL {
  private readonly encoder: RecordEncoder;
  private readonly segmentBytes: number;
  private readonly syncMode: WalSyncMode;
  private readonly logger: Logger | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private unsynced = false;
  private failed: Error | undefined;
  private closed = false;
  private next: Promise<DiskFile> | undefined;
  /**
   * Told how long each flush took, in seconds: the O_DSYNC write, or the fdatasync after a plain
   * write (etcd_disk_wal_fsync_duration_seconds: the disk's part of a save, nothing queued before it).
   */
  observeSync: ((seconds: number) => void) | undefined;
  /** Bytes of records written so far (etcd's etcd_disk_wal_write_bytes_total). */
  bytesWritten = 0;

  private constructor(
    private readonly s: WalState,
    opts: WalOptions,
  ) {
    this.encoder = new RecordEncoder(s.crc);
    this.segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.syncMode = opts.syncMode ?? 'dsync';
    this.logger = opts.logger?.child({ room: 'wal' });
  }

  /** True if walDir holds at least one segment file. */
  static async exists(walDir: string, disk: Disk = nodeDisk): Promise<boolean> {
    try {
      return (await listSegments(disk, walDir)).length > 0;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Create a new WAL: the first segment (CRC, metadata, snapshot marker {0,0}) is written and
   * extended to segmentBytes (sparse, so that a new member starts at once) in `<walDir>.tmp`, which
   * is then renamed to walDir (an existing walDir without segments is replaced; one with segments is
   * an error). The new directory entries are fsync'ed up to walDir's grandparent (member/ in data-dir),
   * the segment's own entry in the temp directory before the rename.
   */
  static async create(walDir: string, metadata: WalMetadata, opts: WalOptions = {}): Promise<WAL> {
    const disk = opts.disk ?? nodeDisk;
    if (await WAL.exists(walDir, disk)) throw new Error(`WAL already exists in ${walDir}`);
    const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const tmpDir = `${walDir}.tmp`;
    await disk.rm(tmpDir, { recursive: true, force: true });
    await disk.mkdir(tmpDir, { recursive: true });
    const name = segmentFileName(0, 0);
    const enc = new RecordEncoder(0, 256);
    enc.crcRecord(0);
    enc.metadata(metadata);
    enc.snapshot({ index: 0, term: 0 });
    const fh = await disk.open(joinPath(tmpDir, name), 'create');
    try {
      await fh.write(enc.bytes(), 0, enc.length, 0);
      await fh.extendSparse(segmentBytes); // instant bootstrap; later segments are zero-filled
    } finally {
      await fh.close();
    }
    await disk.fsyncDir(tmpDir); // the segment's entry, before the directory is renamed into place
    await disk.rm(walDir, { recursive: true, force: true });
    await renameDurable(disk, tmpDir, walDir);
    await disk.fsyncDir(dirnamePath(dirnamePath(walDir)));
    const lock = await disk.lock(joinPath(walDir, LOCK_FILE));
    const tail = await openTail(disk, joinPath(walDir, name), enc.length, opts);
    const hardState = { term: 0, vote: 0n, commit: 0 };
    opts.logger?.child({ room: 'wal' }).info({ walDir, segmentBytes }, 'created WAL');
    return new WAL({ disk, walDir, metadata, segments: [{ seq: 0, index: 0, name }], tail, crc: enc.crc, lastIndex: 0, hardState, lock }, opts);
  }

  /**
   * Open an existing WAL: verify every record from the segment holding `from` on, repair a torn tail
   * of the last segment (logged), and return what the log holds after `from`.
   */
  static async open(
    walDir: string,
    from: WalSnapshotMarker,
    opts: WalOptions = {},
  ): Promise<{ wal: WAL; metadata: WalMetadata; hardState: HardState; entries: Entry[] }> {
    return WAL.openWith(walDir, opts, (disk) => readWal(walDir, from, true, disk));
  }

  /**
   * A restart's open, reading the log once: snapshotMarkers, then open from the marker `choose`
   * answers for them (the snapshot it loaded), without reading and verifying every segment twice
   * (for a 64 MB segment half written, ~8,000 page faults and the CRC of 31 MB each time). Every
   * segment is verified, the chain between them too, under the WAL's lock.
   *
   * `spare`: the segments' bytes as read, up to each one's last record (pages already resident),
   * for the caller to reuse (the key index's value arena): nothing returned refers to them (entries
   * hold copies of their data), and Disk.readFile's buffers are the caller's own.
   */
  static async openAtChosen(
    walDir: string,
    choose: (markers: WalSnapshotMarker[]) => Promise<WalSnapshotMarker>,
    opts: WalOptions = {},
  ): Promise<{ wal: WAL; metadata: WalMetadata; hardState: HardState; entries: Entry[]; spare: Buffer[] }> {
    let scanned: ScannedWal | undefined;
    const opened = await WAL.openWith(walDir, opts, async (disk) => {
      const segments = await listSegments(disk, walDir);
      if (segments.length === 0) throw new WalSnapshotError('no-segment', `no WAL segments in ${walDir}`);
      scanned = await scanWal(walDir, segments, 0, disk);
      const from = await choose(usableMarkers(replayWal(scanned, MARKERS_ONLY, false)));
      return replayWal(scanned, from, true);
    });
    const spare = scanned!.reads.map((r) => r.scan.list.buf.subarray(0, r.scan.end));
    return { ...opened, spare };
  }

  private static async openWith(
    walDir: string,
    opts: WalOptions,
    read: (disk: Disk) => Promise<ReadResult>,
  ): Promise<{ wal: WAL; metadata: WalMetadata; hardState: HardState; entries: Entry[] }> {
    const disk = opts.disk ?? nodeDisk;
    const lock = await disk.lock(joinPath(walDir, LOCK_FILE));
    try {
      await removeTmpFiles(disk, walDir);
      const r = await read(disk);
      const last = r.segments[r.segments.length - 1]!;
      const file = joinPath(walDir, last.name);
      const { end, tail: kind, reason } = r.lastScan;
      if (kind !== 'clean') {
        const fh = await disk.open(file, 'readwrite');
        try {
          await truncateAndZeroFill(fh, end, Math.max(end, opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES));
        } finally {
          await fh.close();
        }
        opts.logger?.child({ room: 'wal' }).warn({ file, offset: end, droppedBytes: r.lastFileBytes - end, reason }, 'repaired torn WAL tail');
      }
      const tail = await openTail(disk, file, end, opts);
      const state: WalState = { disk, walDir, metadata: r.metadata, segments: r.segments, tail, crc: r.lastScan.crc, lastIndex: r.lastIndex, hardState: { ...r.hardState }, lock };
      return { wal: new WAL(state, opts), metadata: r.metadata, hardState: r.hardState, entries: r.entries };
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /**
   * The snapshot markers a restart can use: every marker in the log (read without repair) whose
   * index is at most the last hard state's commit, {0,0} included. For Snapshotter.loadNewestAvailable.
   */
  static async snapshotMarkers(walDir: string, disk: Disk = nodeDisk): Promise<WalSnapshotMarker[]> {
    // Every segment is read (checkFrom false); `from` beyond any index makes the replay only count
    // the entries instead of decoding them: markers and the hard state are all this needs.
    return usableMarkers(await readWal(walDir, MARKERS_ONLY, false, disk));
  }

  /** The index of the last entry saved (or of a later snapshot marker). */
  get lastIndex(): number {
    return this.s.lastIndex;
  }

  /**
   * Append the entries, then the hard state, in one write; with mustSync, durable when the promise
   * resolves. An entry at an index already written replaces it and everything after it (on read).
   * `inline`: make the write (and flush) on the calling thread, blocking it for the disk's time,
   * instead of in the thread pool. Only worth it when the caller has nothing to do meanwhile: on a
   * 2-core machine the two thread hand-offs of a pool write cost a lone client's put more than the
   * wait they let the event loop use (see server/raft-node.ts, where it is decided).
   */
  save(hardState: HardState | undefined, entries: Entry[], mustSync = true, inline = false): Promise<void> {
    const hs = hardState && !isEmptyHardState(hardState) ? hardState : undefined;
    if (!hs && entries.length === 0) return Promise.resolve();
    return this.run(false, async () => {
      if (TRACE_PUT) mark(Stage.walEncode);
      this.checkEntries(entries);
      this.encoder.reset();
      for (const e of entries) this.encoder.entry(e);
      if (hs) this.encoder.state(hs);
      await this.append(mustSync, inline);
      if (entries.length > 0) this.s.lastIndex = entries[entries.length - 1]!.index;
      if (hs) this.s.hardState = { ...hs };
      await this.cutIfFull();
    });
  }

  /** Append a snapshot marker (the snapshot's state is in the backend) and flush it. */
  saveSnapshot(marker: WalSnapshotMarker): Promise<void> {
    return this.run(false, async () => {
      this.encoder.reset();
      this.encoder.snapshot(marker);
      await this.append(true);
      if (marker.index > this.s.lastIndex) this.s.lastIndex = marker.index;
      await this.cutIfFull();
    });
  }

  /** Remove the segments wholly before the one that may hold `index` (that one is kept). */
  releaseTo(index: number): Promise<void> {
    return this.run(false, async () => {
      const keep = searchIndex(this.s.segments, index);
      if (keep <= 0) return;
      const gone = this.s.segments.slice(0, keep);
      for (const seg of gone) await this.s.disk.rm(joinPath(this.s.walDir, seg.name));
      await this.s.disk.fsyncDir(this.s.walDir);
      this.s.segments = this.s.segments.slice(keep);
      this.logger?.info({ released: gone.map((g) => g.name), index }, 'released WAL segments');
    });
  }

  /** Flush writes saved with mustSync=false. */
  sync(): Promise<void> {
    return this.run(false, () => this.flush());
  }

  /** Flush what is pending (unless a write failed) and release the files. */
  close(): Promise<void> {
    return this.run(true, async () => {
      this.closed = true;
      const next = await this.next?.catch(() => undefined);
      await next?.close();
      if (!this.failed) await this.flush();
      await this.s.tail.fh.close();
      await this.s.tail.fhSync?.close();
      await this.s.lock.release();
    });
  }

  /** Serialize operations; after a write fault every later operation fails (the fault is fatal). */
  private run<T>(evenIfFailed: boolean, op: () => Promise<T>): Promise<T> {
    const p = this.chain.then(async () => {
      if (this.closed) throw new Error('WAL is closed');
      if (this.failed && !evenIfFailed) throw this.failed;
      try {
        return await op();
      } catch (err) {
        this.failed ??= err as Error;
        throw err;
      }
    });
    this.chain = p.catch(() => undefined);
    return p;
  }

  /**
   * Broken invariants (raft hands entries in order, each save continues the chain of the last):
   * stop rather than write a gap. A compare per entry, nothing allocated unless one fails.
   */
  private checkEntries(entries: Entry[]): void {
    const s = this.s;
    if (this.encoder.crc !== s.crc) throw new InvariantError('wal', `save: the encoder's CRC chain ${this.encoder.crc} is not the log's ${s.crc}`);
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    if (first < 1 || first > s.lastIndex + 1) throw new InvariantError('wal', `save: entry ${first} does not follow last index ${s.lastIndex}`);
    for (let i = 1; i < entries.length; i++) {
      const e = entries[i]!;
      const prev = entries[i - 1]!;
      if (e.index !== prev.index + 1 || e.term < prev.term) {
        throw new InvariantError('wal', `save: entry ${e.index} (term ${e.term}) does not follow entry ${prev.index} (term ${prev.term})`);
      }
    }
  }

  /** One positioned write of the encoded records; then a flush unless mustSync is false. */
  private async append(mustSync: boolean, inline = false): Promise<void> {
    const t = this.s.tail;
    const n = this.encoder.length;
    const write = (fh: DiskFile): Promise<void> | void => (inline ? fh.writeSync(this.encoder.buf, 0, n, t.offset) : fh.write(this.encoder.buf, 0, n, t.offset));
    failpoint('walBeforeWrite');
    if (TRACE_PUT) mark(Stage.walWrite);
    if (mustSync && this.syncMode === 'dsync' && !this.unsynced && t.fhSync) {
      const started = performance.now();
      await write(t.fhSync);
      this.observeSync?.((performance.now() - started) / 1000);
      failpoint('walAfterWrite');
    } else {
      await write(t.fh);
      this.unsynced = true;
      failpoint('walAfterWrite');
      if (mustSync) {
        const started = performance.now();
        await (inline ? this.flushSync() : this.flush());
        this.observeSync?.((performance.now() - started) / 1000);
      }
    }
    failpoint('walAfterSync');
    if (TRACE_PUT) mark(Stage.walDone);
    t.offset += n;
    this.bytesWritten += n;
    this.s.crc = this.encoder.crc;
  }

  private flushSync(): void {
    if (!this.unsynced) return;
    this.s.tail.fh.datasyncSync();
    this.unsynced = false;
  }

  private async flush(): Promise<void> {
    if (!this.unsynced) return;
    await this.s.tail.fh.datasync();
    this.unsynced = false;
  }

  /** Start preparing the next segment at half of this one; cut when this one is full. */
  private async cutIfFull(): Promise<void> {
    if (!this.next && this.s.tail.offset >= this.segmentBytes / 2) this.prepareNext();
    if (this.s.tail.offset >= this.segmentBytes) await this.cut();
  }

  /** Start preallocating the next segment as a temp file, in the background (awaited by the cut). */
  private prepareNext(): void {
    const file = joinPath(this.s.walDir, NEXT_SEGMENT_TMP);
    const p = (async () => {
      const fh = await this.s.disk.open(file, 'create');
      try {
        await fh.preallocate(this.segmentBytes);
      } catch (err) {
        await fh.close();
        throw err;
      }
      return fh;
    })();
    p.catch(() => undefined); // surfaced when the cut awaits it
    this.next = p;
  }

  /**
   * Seal the tail and continue in a new segment: its first records (CRC of the chain so far,
   * metadata, hard state) are written and flushed while it is still a temp file, then it is renamed
   * into place and the directory flushed, so a segment is never visible half-initialized.
   */
  private async cut(): Promise<void> {
    await this.flush();
    if (!this.next) this.prepareNext();
    const fh = await this.next!;
    this.next = undefined;
    const last = this.s.segments[this.s.segments.length - 1]!;
    const seg = { seq: last.seq + 1, index: this.s.lastIndex + 1, name: segmentFileName(last.seq + 1, this.s.lastIndex + 1) };
    const enc = this.encoder;
    enc.reset();
    enc.crcRecord(this.s.crc);
    enc.metadata(this.s.metadata);
    if (!isEmptyHardState(this.s.hardState)) enc.state(this.s.hardState);
    await fh.write(enc.buf, 0, enc.length, 0);
    await fh.datasync();
    failpoint('walCutBeforeRename');
    const file = joinPath(this.s.walDir, seg.name);
    await renameDurable(this.s.disk, joinPath(this.s.walDir, NEXT_SEGMENT_TMP), file);
    const old = this.s.tail;
    this.s.tail = { fh, fhSync: this.syncMode === 'dsync' ? await this.s.disk.open(file, 'dsync') : undefined, offset: enc.length };
    this.s.crc = enc.crc;
    this.s.segments.push(seg);
    await old.fh.close();
    await old.fhSync?.close();
    this.logger?.info({ segment: seg.name }, 'cut WAL segment');
  }
}

async function openTail(disk: Disk, file: string, offset: number, opts: WalOptions): Promise<Tail> {
  const fh = await disk.open(file, 'readwrite');
  const fhSync = (opts.syncMode ?? 'dsync') === 'dsync' ? await disk.open(file, 'dsync') : undefined;
  return { fh, fhSync, offset };
}

async function removeTmpFiles(disk: Disk, walDir: string): Promise<void> {
  for (const name of await disk.readdir(walDir)) {
    if (name.endsWith('.tmp')) await disk.rm(joinPath(walDir, name), { force: true });
  }
}
