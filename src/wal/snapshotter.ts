/*
 * Raft snapshot metadata files under <data-dir>/member/snap/, named %016x-%016x.snap (term-index) as
 * etcd names them. The format is ours (little-endian):
 *
 *   0   u32  crc32c of everything after it
 *   4   u32  magic 0x50414e53 ("SNAP")
 *   8   u64  index          16  u64  term
 *   24  conf state: four id lists (voters, learners, votersOutgoing, learnersNext), each a u32
 *       count followed by that many u64 ids, then u8 autoLeave
 *   ..  the rest: snapshot data (opaque: for our server a reference to a backend checkpoint)
 *
 * Files are written to <name>.tmp, fdatasync'ed, renamed into place and the directory fsync'ed (a
 * leftover .tmp is removed at load). A file that fails its check is renamed to <name>.broken (as
 * etcd does) and the next older one is tried.
 */
import { crc32c } from '../pkg/crc32c.js';
import { isNotFound, writeFileDurable, type Disk } from '../pkg/disk.js';
import type { Logger } from '../pkg/logger.js';
import { dirnamePath, joinPath } from '../pkg/path.js';
import { nodeDisk } from '../platform/fs.js';
import type { ConfState, NodeId, Snapshot } from '../raft/types.js';
import { readU64, writeU64 } from './record.js';
import { SnapshotCorruptError, type WalSnapshotMarker } from './types.js';

const MAGIC = 0x50414e53;

interface SnapName {
  term: number;
  index: number;
  name: string;
}

const hex16 = (n: number): string => n.toString(16).padStart(16, '0');

export function snapFileName(term: number, index: number): string {
  return `${hex16(term)}-${hex16(index)}.snap`;
}

function parseSnapName(name: string): SnapName | undefined {
  const m = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/.exec(name);
  return m ? { term: Number.parseInt(m[1]!, 16), index: Number.parseInt(m[2]!, 16), name } : undefined;
}

const idLists = (cs: ConfState): NodeId[][] => [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext];

export function encodeSnapFile(snap: Snapshot): Buffer {
  const cs = snap.metadata.confState;
  const idBytes = idLists(cs).reduce((n, l) => n + 4 + 8 * l.length, 0);
  const buf = Buffer.alloc(24 + idBytes + 1 + snap.data.length);
  buf.writeUInt32LE(MAGIC, 4);
  writeU64(buf, 8, snap.metadata.index);
  writeU64(buf, 16, snap.metadata.term);
  let p = 24;
  for (const list of idLists(cs)) {
    buf.writeUInt32LE(list.length, p);
    p += 4;
    for (const id of list) {
      buf.writeBigUInt64LE(id, p);
      p += 8;
    }
  }
  buf[p++] = cs.autoLeave ? 1 : 0;
  buf.set(snap.data, p);
  buf.writeUInt32LE(crc32c(buf.subarray(4)), 0);
  return buf;
}

/** Decodes a snapshot file; throws SnapshotCorruptError with the reason if it is damaged. */
export function decodeSnapFile(buf: Buffer): Snapshot {
  if (buf.length < 29) throw new SnapshotCorruptError(`file too short (${buf.length} bytes)`);
  if (crc32c(buf.subarray(4)) !== buf.readUInt32LE(0)) throw new SnapshotCorruptError('checksum mismatch');
  if (buf.readUInt32LE(4) !== MAGIC) throw new SnapshotCorruptError('not a snapshot file (bad magic)');
  const index = readU64(buf, 8);
  const term = readU64(buf, 16);
  let p = 24;
  const lists: NodeId[][] = [];
  for (let l = 0; l < 4; l++) {
    const n = buf.readUInt32LE(p);
    p += 4;
    if (p + 8 * n > buf.length) throw new SnapshotCorruptError('conf state overruns the file');
    const ids: NodeId[] = [];
    for (let i = 0; i < n; i++, p += 8) ids.push(buf.readBigUInt64LE(p));
    lists.push(ids);
  }
  const autoLeave = buf[p++] === 1;
  const confState: ConfState = { voters: lists[0]!, learners: lists[1]!, votersOutgoing: lists[2]!, learnersNext: lists[3]!, autoLeave };
  return { data: Uint8Array.prototype.slice.call(buf, p), metadata: { index, term, confState } };
}

export class Snapshotter {
  private readonly logger: Logger | undefined;
  private dirReady = false;

  constructor(
    private readonly snapDir: string,
    logger?: Logger,
    private readonly disk: Disk = nodeDisk,
  ) {
    this.logger = logger?.child({ room: 'wal', component: 'snapshotter' });
  }

  /** Durably write the snapshot (an empty one, index 0, is ignored as etcd does). */
  /** Told each save's encoding time and total time in seconds (etcd's snap save histograms). */
  observeSave: ((marshalSeconds: number, totalSeconds: number) => void) | undefined;

  async save(snap: Snapshot): Promise<void> {
    if (snap.metadata.index === 0) return;
    const started = performance.now();
    if (!this.dirReady) {
      // A directory made here is durable only once its parent is fsync'ed (once per Snapshotter).
      await this.disk.mkdir(this.snapDir, { recursive: true });
      await this.disk.fsyncDir(dirnamePath(this.snapDir));
      this.dirReady = true;
    }
    const marshalStarted = performance.now();
    const bytes = encodeSnapFile(snap);
    const marshalSeconds = (performance.now() - marshalStarted) / 1000;
    await writeFileDurable(this.disk, joinPath(this.snapDir, snapFileName(snap.metadata.term, snap.metadata.index)), bytes);
    this.observeSave?.(marshalSeconds, (performance.now() - started) / 1000);
  }

  /**
   * The newest snapshot that loads cleanly and, if walMarkers is given, whose (index, term) is one of
   * them. Damaged files are renamed to .broken and skipped. undefined if there is none.
   */
  async loadNewestAvailable(walMarkers?: WalSnapshotMarker[]): Promise<Snapshot | undefined> {
    await this.removeTmpFiles();
    for (const s of await this.list()) {
      if (walMarkers && !walMarkers.some((m) => m.index === s.index && m.term === s.term)) continue;
      const file = joinPath(this.snapDir, s.name);
      try {
        const snap = decodeSnapFile(await this.disk.readFile(file));
        if (snap.metadata.index !== s.index || snap.metadata.term !== s.term) throw new SnapshotCorruptError('file name does not match its contents', s.name);
        return snap;
      } catch (err) {
        this.logger?.warn({ file, err: (err as Error).message }, 'snapshot file is damaged; renamed to .broken');
        await this.disk.rename(file, `${file}.broken`);
      }
    }
    return undefined;
  }

  /** Remove snapshot files whose index is below `index`. */
  async releaseOlderThan(index: number): Promise<void> {
    let removed = 0;
    for (const s of await this.list()) {
      if (s.index >= index) continue;
      await this.disk.rm(joinPath(this.snapDir, s.name), { force: true });
      removed++;
    }
    if (removed > 0) await this.disk.fsyncDir(this.snapDir);
  }

  /** Leftovers of a save interrupted by a crash (`<name>.snap.tmp`). */
  private async removeTmpFiles(): Promise<void> {
    const names = await this.disk.readdir(this.snapDir).catch(() => [] as string[]);
    for (const name of names) if (name.endsWith('.snap.tmp')) await this.disk.rm(joinPath(this.snapDir, name), { force: true });
  }

  /** Snapshot files, newest (highest index, then term) first. */
  private async list(): Promise<SnapName[]> {
    let names: string[];
    try {
      names = await this.disk.readdir(this.snapDir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const snaps = names.map(parseSnapName).filter((s): s is SnapName => s !== undefined);
    return snaps.sort((a, b) => b.index - a.index || b.term - a.term);
  }
}
