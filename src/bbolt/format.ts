// bbolt's on-disk layout (go.etcd.io/bbolt v1.3.6, as etcd 3.4 writes it), little-endian throughout.
//
// Every page starts with a 16-byte header: id u64, flags u16, count u16, overflow u32 (a page of
// n*pageSize bytes has overflow n-1). Pages 0 and 1 are meta pages; the header is followed by the
// meta: magic u32 0xED0CDAED, version u32 2, pageSize u32, flags u32, root bucket {root u64,
// sequence u64}, freelist page u64, pgid u64 (pages in the file), txid u64, checksum u64 (FNV-64a
// of the 56 bytes before it). A branch page has `count` elements {pos u32, ksize u32, pgid u64}, a
// leaf page {flags u32, pos u32, ksize u32, vsize u32}; `pos` counts from the element itself to its
// key (a leaf's value follows its key). A leaf element with flags 1 is a bucket: its value is
// {root u64, sequence u64}, and when root is 0 an inline page (header and leaf elements) follows.
// A freelist page lists `count` free page ids (u64 each); count 0xFFFF means the first u64 holds it.

export const PAGE_HEADER_BYTES = 16;
export const ELEMENT_BYTES = 16;
export const BUCKET_HEADER_BYTES = 16;
export const META_BYTES = 64;

export const PageFlag = { branch: 0x01, leaf: 0x02, meta: 0x04, freelist: 0x10 } as const;
export const BUCKET_LEAF_FLAG = 0x01;

export const MAGIC = 0xed0cdaed;
export const VERSION = 2;
/** The page size etcd 3.4 uses on Linux amd64 (os.Getpagesize()): the only one this room reads or writes. */
export const ETCD_PAGE_BYTES = 4096;
/** bbolt keeps a bucket inline in its parent's leaf while its page would take at most this share. */
export const INLINE_DIVISOR = 4;

export class BoltFormatError extends Error {
  override name = 'BoltFormatError';
}

export interface PageHeader {
  id: bigint;
  flags: number;
  count: number;
  overflow: number;
}

export function readPageHeader(buf: Buffer, off: number): PageHeader {
  return {
    id: buf.readBigUInt64LE(off),
    flags: buf.readUInt16LE(off + 8),
    count: buf.readUInt16LE(off + 10),
    overflow: buf.readUInt32LE(off + 12),
  };
}

export function writePageHeader(buf: Buffer, off: number, h: PageHeader): void {
  buf.writeBigUInt64LE(h.id, off);
  buf.writeUInt16LE(h.flags, off + 8);
  buf.writeUInt16LE(h.count, off + 10);
  buf.writeUInt32LE(h.overflow, off + 12);
}

export interface Meta {
  pageSize: number;
  flags: number;
  root: bigint;
  sequence: bigint;
  freelist: bigint;
  pgid: bigint;
  txid: bigint;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = (1n << 64n) - 1n;

/** FNV-1a, 64 bits (Go's hash/fnv New64a). */
export function fnv64a(data: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (const b of data) h = ((h ^ BigInt(b)) * FNV_PRIME) & U64;
  return h;
}

/** The meta at `off` (just after a page header); throws BoltFormatError when it is not a valid one. */
export function readMeta(buf: Buffer, off: number): Meta {
  if (buf.length < off + META_BYTES) throw new BoltFormatError('bbolt: file too small for a meta page');
  if (buf.readUInt32LE(off) !== MAGIC) throw new BoltFormatError('bbolt: invalid database (bad magic)');
  const version = buf.readUInt32LE(off + 4);
  if (version !== VERSION) throw new BoltFormatError(`bbolt: version mismatch (file has ${version}, etcd 3.4's bbolt writes ${VERSION})`);
  if (buf.readBigUInt64LE(off + 56) !== fnv64a(buf.subarray(off, off + 56))) throw new BoltFormatError('bbolt: checksum error in meta page');
  return {
    pageSize: buf.readUInt32LE(off + 8),
    flags: buf.readUInt32LE(off + 12),
    root: buf.readBigUInt64LE(off + 16),
    sequence: buf.readBigUInt64LE(off + 24),
    freelist: buf.readBigUInt64LE(off + 32),
    pgid: buf.readBigUInt64LE(off + 40),
    txid: buf.readBigUInt64LE(off + 48),
  };
}

/** Writes `m` at `off` with its checksum. */
export function writeMeta(buf: Buffer, off: number, m: Meta): void {
  buf.writeUInt32LE(MAGIC, off);
  buf.writeUInt32LE(VERSION, off + 4);
  buf.writeUInt32LE(m.pageSize, off + 8);
  buf.writeUInt32LE(m.flags, off + 12);
  buf.writeBigUInt64LE(m.root, off + 16);
  buf.writeBigUInt64LE(m.sequence, off + 24);
  buf.writeBigUInt64LE(m.freelist, off + 32);
  buf.writeBigUInt64LE(m.pgid, off + 40);
  buf.writeBigUInt64LE(m.txid, off + 48);
  buf.writeBigUInt64LE(fnv64a(buf.subarray(off, off + 56)), off + 56);
}
