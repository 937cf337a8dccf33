/*
 * Disk: the file operations the storage rooms below server/ need (today the WAL and the
 * snapshotter), as an interface so that production hands them Node's file system (platform/fs.ts
 * nodeDisk) and the seeded simulation an in-memory disk that loses what was not flushed at a crash
 * (test/sim/disk.ts). Paths are POSIX strings (pkg/path.ts); errors carry Node's `code` ('ENOENT',
 * 'EEXIST', ...) so callers can tell a missing file from a fault (isNotFound).
 *
 * DURABILITY CONTRACT (what survives a crash or power cut; the simulated disk drops everything else):
 *  - bytes written to a file are durable once datasync()/datasyncSync() on a handle of it returns, or
 *    when the write itself returns if the handle was opened 'dsync' (O_DSYNC: that write only);
 *  - preallocate() and extendSparse() return with the new size and bytes durable;
 *  - a directory entry created, renamed or removed (files and directories alike) is durable only after
 *    fsyncDir() of the directory holding it; a rename within one directory is atomic;
 *  - a write cut by a crash leaves each 512-byte sector of its range either old or new (never
 *    garbage): the WAL's torn-tail repair relies on exactly this.
 * Operational faults (EIO, ENOSPC) are passed through; they are fatal for the caller's writes.
 */
import { dirnamePath } from './path.js';

/**
 * How open() opens: 'read' an existing file read-only; 'readwrite' an existing one read-write;
 * 'dsync' an existing one read-write with O_DSYNC (each write durable when it returns); 'create' a
 * new or emptied file (created, or truncated to 0) read-write.
 */
export type OpenMode = 'read' | 'readwrite' | 'dsync' | 'create';

export interface DiskFile {
  /** Read up to `length` bytes at `position` into buf[offset..]; the number read (0 at the end). */
  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Write all of buf[offset, offset + length) at `position`. */
  write(buf: Uint8Array, offset: number, length: number, position: number): Promise<void>;
  /** The same write on the calling thread, blocking it for the disk's time (the WAL's inline save). */
  writeSync(buf: Uint8Array, offset: number, length: number, position: number): void;
  /** fdatasync: every byte written to this file so far is durable when it resolves. */
  datasync(): Promise<void>;
  /** fdatasync on the calling thread. */
  datasyncSync(): void;
  size(): Promise<number>;
  truncate(length: number): Promise<void>;
  /**
   * Make the file at least `bytes` long by writing zeros after its current end (no sparse hole, so
   * later overwrites need no block allocation), then datasync. Bytes already there are kept.
   */
  preallocate(bytes: number): Promise<void>;
  /** Make the file at least `bytes` long as a hole that reads as zeros (instant), then datasync. */
  extendSparse(bytes: number): Promise<void>;
  close(): Promise<void>;
}

/** Exclusive use of a directory by one process (see Disk.lock). */
export interface FileLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface Disk {
  open(file: string, mode: OpenMode): Promise<DiskFile>;
  /** A whole file's bytes, in a Buffer of the caller's own (nothing else holds it, as fs.readFile's). */
  readFile(file: string): Promise<Buffer>;
  /** rename(2): replaces `to` if it exists; durable after fsyncDir of both directories. */
  rename(from: string, to: string): Promise<void>;
  /** Remove a file (or with recursive a directory tree); with force a missing path is no error. */
  rm(target: string, opts?: { recursive?: boolean; force?: boolean }): Promise<void>;
  /** Names in a directory (unordered). */
  readdir(dir: string): Promise<string[]>;
  /** Create a directory, and with recursive its missing parents (no error if it exists); mode: its permission bits. */
  mkdir(dir: string, opts?: { recursive?: boolean; mode?: number }): Promise<void>;
  /** Make the entries created, renamed or removed in `dir` durable. */
  fsyncDir(dir: string): Promise<void>;
  /**
   * Take the lock file `file` (one process at a time; a holder that is gone, as after a crash, is
   * taken over); throws if another live holder has it.
   */
  lock(file: string): Promise<FileLock>;
}

/** True when err is a missing file or directory. */
export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

/** rename(from, to) then fsync the target directory (and the source one if different). */
export async function renameDurable(disk: Disk, from: string, to: string): Promise<void> {
  await disk.rename(from, to);
  await disk.fsyncDir(dirnamePath(to));
  if (dirnamePath(from) !== dirnamePath(to)) await disk.fsyncDir(dirnamePath(from));
}

/** Write a whole file durably: to `<file>.tmp`, datasync, rename over `file`, fsync the directory. */
export async function writeFileDurable(disk: Disk, file: string, data: Uint8Array): Promise<void> {
  await writeChunksDurable(disk, file, [data]);
}

/** Cut the file to `length` bytes and zero-fill it back to `bytes` (durable when it returns). */
export async function truncateAndZeroFill(fh: DiskFile, length: number, bytes: number): Promise<void> {
  await fh.truncate(length);
  await fh.preallocate(bytes);
}

/** True when `file` (or a directory) exists. */
export async function exists(disk: Disk, file: string): Promise<boolean> {
  try {
    return (await disk.readdir(dirnamePath(file))).includes(file.slice(file.lastIndexOf('/') + 1));
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Remove `file` and `<file>.tmp` (a write cut by a crash) if they exist; durable when it returns. */
export async function removeDurable(disk: Disk, file: string): Promise<void> {
  const found = await Promise.all([file, `${file}.tmp`].map((f) => exists(disk, f)));
  if (!found.includes(true)) return;
  await disk.rm(file, { force: true });
  await disk.rm(`${file}.tmp`, { force: true });
  await disk.fsyncDir(dirnamePath(file));
}

/** Remove a directory tree if it exists, durably; true when there was one. */
export async function removeDirDurable(disk: Disk, dir: string): Promise<boolean> {
  if (!(await exists(disk, dir))) return false;
  await disk.rm(dir, { recursive: true, force: true });
  await disk.fsyncDir(dirnamePath(dir));
  return true;
}

/**
 * Write a whole file durably from chunks (never held whole in memory): to `<file>.tmp`, datasync,
 * rename over `file`, fsync the directory. On error (the source's included) the temp file is removed.
 */
export async function writeChunksDurable(disk: Disk, file: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    const fh = await disk.open(tmp, 'create');
    try {
      let pos = 0;
      for await (const c of chunks) {
        await fh.write(c, 0, c.length, pos);
        pos += c.length;
      }
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await renameDurable(disk, tmp, file);
  } catch (err) {
    await disk.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Size of the reads of readChunks. */
export const READ_CHUNK_BYTES = 4 << 20;

/**
 * A file's bytes in chunks of up to READ_CHUNK_BYTES; nothing if it does not exist. With reuse, every
 * chunk is the same Buffer, valid only until the next one is asked for.
 */
export async function* readChunks(disk: Disk, file: string, reuse = false): AsyncGenerator<Buffer> {
  let fh: DiskFile;
  try {
    fh = await disk.open(file, 'read');
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  try {
    const size = await fh.size();
    let pos = 0;
    let b = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, Math.max(1, size)));
    while (pos < size) {
      if (!reuse) b = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, size - pos));
      const n = await fh.read(b, 0, Math.min(b.length, size - pos), pos);
      if (n === 0) return;
      pos += n;
      yield n === b.length ? b : b.subarray(0, n);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Buffers known to hold only zeros from an offset to their end (a reader that found those bytes zero
 * while reading the file, and left the zero-filled buffer's pages untouched there: platform/
 * read-zero-tail.ts). A reader of the buffer may skip checking them, and reading them would fault in
 * every page of a region nothing wrote (a WAL segment's unwritten half).
 */
const zeroTails = new WeakMap<Uint8Array, number>();

/** Records that buf[from, buf.length) is all zeros. */
export function markZeroTail(buf: Uint8Array, from: number): void {
  zeroTails.set(buf, from);
}

/** The offset from which `buf` is known to be all zeros (buf.length when nothing is known). */
export function knownZeroFrom(buf: Uint8Array): number {
  return zeroTails.get(buf) ?? buf.length;
}
