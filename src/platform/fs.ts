/*
 * The durable-file helpers every storage room uses (the only place that knows which Node fs calls make
 * data survive a power cut). Contract:
 *  - a file's data is durable after datasync(fh) (fdatasync) or after a write through a handle opened
 *    with openDsync (O_DSYNC: the write returns once its range is on stable storage);
 *  - a new, renamed or removed directory entry is durable only after fsyncDir(dir);
 *  - preallocate(fh, bytes) really writes zeros up to `bytes` (not a sparse hole), so that later
 *    overwrites need no block allocation and fdatasync stays a pure data flush; extendSparse(fh,
 *    bytes) only sets the size (instant; the hole reads as zeros);
 *  - acquireLockFile(path) gives one process exclusive use of a directory (a file holding pid and
 *    process start time; stale if that process is gone); advisory, between our own processes.
 * Errors are passed through: an operational fault (EIO, ENOSPC) is fatal for the caller's writes.
 */
import { constants as fsConstants, fdatasyncSync, readFileSync, writeSync } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Disk, DiskFile, FileLock, OpenMode } from '../pkg/disk.js';
import { readFileZeroTail, ZERO_TAIL_MIN_BYTES } from './read-zero-tail.js';

export type { FileLock } from '../pkg/disk.js';

/** Zero-fill buffer size for preallocate (a named limit on the memory it holds). */
export const PREALLOCATE_CHUNK_BYTES = 1 << 20;
/** preallocate flushes every this many bytes, so a background fill never queues 64 MB at once. */
export const PREALLOCATE_FLUSH_BYTES = 8 << 20;
let zeroChunk: Buffer | undefined;

export async function datasync(fh: FileHandle): Promise<void> {
  await fh.datasync();
}

/** Open an existing file read-write with O_DSYNC: every write is durable when it returns. */
export async function openDsync(file: string): Promise<FileHandle> {
  return fsp.open(file, fsConstants.O_RDWR | fsConstants.O_DSYNC);
}

/** Open an existing file read-write (no sync flags). */
export async function openReadWrite(file: string): Promise<FileHandle> {
  return fsp.open(file, fsConstants.O_RDWR);
}

/** fsync a directory so that entries created, renamed or removed in it survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, fsConstants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** rename(from, to) then fsync the target directory (and the source one if different). */
export async function renameDurable(from: string, to: string): Promise<void> {
  await fsp.rename(from, to);
  await fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) await fsyncDir(path.dirname(from));
}

/**
 * Make the file at least `bytes` long by writing zeros after its current end, then fdatasync.
 * Bytes already in the file are left as they are.
 */
export async function preallocate(fh: FileHandle, bytes: number): Promise<void> {
  zeroChunk ??= Buffer.alloc(PREALLOCATE_CHUNK_BYTES);
  let pos = (await fh.stat()).size;
  let sinceFlush = 0;
  while (pos < bytes) {
    const n = Math.min(zeroChunk.length, bytes - pos);
    const { bytesWritten } = await fh.write(zeroChunk, 0, n, pos);
    pos += bytesWritten;
    sinceFlush += bytesWritten;
    if (sinceFlush >= PREALLOCATE_FLUSH_BYTES) {
      await fh.datasync();
      sinceFlush = 0;
    }
  }
  await fh.datasync();
}

/**
 * Make the file at least `bytes` long without writing (a sparse hole that reads as zeros), then
 * fdatasync. Instant, but a later write into the hole allocates blocks (metadata for the flush).
 */
export async function extendSparse(fh: FileHandle, bytes: number): Promise<void> {
  if ((await fh.stat()).size < bytes) await fh.truncate(bytes);
  await fh.datasync();
}

/** Cut the file to `length` bytes and zero-fill it back to `bytes` (durable when it returns). */
export async function truncateAndZeroFill(fh: FileHandle, length: number, bytes: number): Promise<void> {
  await fh.truncate(length);
  await preallocate(fh, bytes);
}

/** Write a whole file durably: to `<file>.tmp`, fdatasync, rename over `file`, fsync the directory. */
export async function writeFileDurable(file: string, data: Uint8Array): Promise<void> {
  await writeChunksDurable(file, [data], 0o666);
}

/**
 * Write a whole file durably from chunks (a large file never held in memory at once; a stream too): to
 * `<file>.tmp`, fdatasync, rename over `file`, fsync the directory. On error (the source's included)
 * the temp file is removed.
 */
export async function writeChunksDurable(file: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, mode = 0o600): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    const fh = await fsp.open(tmp, 'w', mode);
    try {
      for await (const c of chunks) await fh.writeFile(c); // each from the current position, written whole
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await renameDurable(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** Size of the reads of readChunks. */
export const READ_CHUNK_BYTES = 4 << 20;

/**
 * A file's bytes in chunks of up to READ_CHUNK_BYTES; nothing if it does not exist. With reuse, every
 * chunk is the same Buffer, valid only until the next one is asked for (no allocation per chunk).
 */
export async function* readChunks(file: string, reuse = false): AsyncGenerator<Buffer> {
  let fh: FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    let b = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    for (;;) {
      if (!reuse) b = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      const { bytesRead } = await fh.read(b, 0, b.length, null);
      if (bytesRead === 0) return;
      yield bytesRead === b.length ? b : b.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** True when `file` exists. */
export async function fileExists(file: string): Promise<boolean> {
  return fsp.access(file).then(
    () => true,
    () => false,
  );
}

/** Remove `file` and `<file>.tmp` (a write cut by a crash) if they exist; durable when it returns. */
export async function removeDurable(file: string): Promise<void> {
  const removed = await Promise.all([file, `${file}.tmp`].map((f) => fsp.unlink(f).then(() => true, ignoreMissing)));
  if (removed.includes(true)) await fsyncDir(path.dirname(file));
}

function ignoreMissing(err: unknown): false {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
  throw err;
}

export class LockedError extends Error {
  constructor(
    readonly file: string,
    readonly pid: number,
  ) {
    super(`${file} is locked by running process ${pid}`);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The kernel's start time of a process (Linux /proc), to tell a live holder from a reused pid. */
async function processStartTime(pid: number): Promise<string | undefined> {
  const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** Lock files this process holds (a second acquire of one of them is refused). */
const heldLocks = new Set<string>();

async function holderAlive(content: string): Promise<boolean> {
  const [pidText, started] = content.trim().split(' ');
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !processAlive(pid)) return false;
  const now = await processStartTime(pid);
  return started === undefined || now === undefined || now === started;
}

/**
 * Create `file` exclusively holding our pid and start time. If it exists and names a live process
 * (or this process already holds it), throw LockedError; if its holder is gone (a crash; or its pid
 * now belongs to another process, as after a container restart), take the lock over.
 */
export async function acquireLockFile(file: string): Promise<FileLock> {
  const key = path.resolve(file);
  if (heldLocks.has(key)) throw new LockedError(file, process.pid);
  heldLocks.add(key); // reserved before any await: a concurrent acquire in this process is refused
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await createLockFile(file)) {
        const release = async (): Promise<void> => {
          heldLocks.delete(key);
          await fsp.rm(file, { force: true });
        };
        return { path: file, release };
      }
      const content = await fsp.readFile(file, 'utf8').catch(() => '');
      if (await holderAlive(content)) throw new LockedError(file, Number.parseInt(content, 10));
      await fsp.rm(file, { force: true });
    }
    throw new Error(`could not acquire lock file ${file}`);
  } catch (err) {
    heldLocks.delete(key);
    throw err;
  }
}

/** false if the file already exists. */
async function createLockFile(file: string): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await fsp.open(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(`${process.pid} ${(await processStartTime(process.pid)) ?? ''}`.trim() + '\n');
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return true;
}

const OPEN_FLAGS: Record<OpenMode, string | number> = {
  read: 'r',
  readwrite: fsConstants.O_RDWR,
  dsync: fsConstants.O_RDWR | fsConstants.O_DSYNC,
  create: 'w+',
};

/** A Node FileHandle behind pkg/disk's DiskFile (the sync calls use its fd). */
class NodeDiskFile implements DiskFile {
  constructor(private readonly fh: FileHandle) {}

  async read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.read(buf, offset, length, position)).bytesRead;
  }

  async write(buf: Uint8Array, offset: number, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) done += (await this.fh.write(buf, offset + done, length - done, position + done)).bytesWritten;
  }

  writeSync(buf: Uint8Array, offset: number, length: number, position: number): void {
    let done = 0;
    while (done < length) done += writeSync(this.fh.fd, buf, offset + done, length - done, position + done);
  }

  datasync(): Promise<void> {
    return this.fh.datasync();
  }

  datasyncSync(): void {
    fdatasyncSync(this.fh.fd);
  }

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  truncate(length: number): Promise<void> {
    return this.fh.truncate(length);
  }

  preallocate(bytes: number): Promise<void> {
    return preallocate(this.fh, bytes);
  }

  extendSparse(bytes: number): Promise<void> {
    return extendSparse(this.fh, bytes);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Node's file system as pkg/disk's Disk (the contract above is the one it promises). */
export const nodeDisk: Disk = {
  async open(file: string, mode: OpenMode): Promise<DiskFile> {
    return new NodeDiskFile(await fsp.open(file, OPEN_FLAGS[mode], 0o600)); // etcd's PrivateFileMode
  },
  readFile: async (file) => ((await fsp.stat(file)).size >= ZERO_TAIL_MIN_BYTES ? readFileZeroTail(file) : fsp.readFile(file)),
  rename: (from, to) => fsp.rename(from, to),
  rm: (target, opts) => fsp.rm(target, opts),
  readdir: (dir) => fsp.readdir(dir),
  mkdir: async (dir, opts) => {
    await fsp.mkdir(dir, opts);
  },
  fsyncDir,
  lock: acquireLockFile,
};

/** A whole file, read synchronously (key files read once at start-up). */
export const readFileNow = (file: string): Buffer => readFileSync(file);
