// Writing a bbolt file from scratch, bottom-up: every bucket's entries arrive in ascending key order,
// leaf pages are cut as they fill (a larger element gets a page of its own with overflow pages),
// then branch levels above them; a small bucket without sub-buckets stays inline in its parent's
// leaf as bbolt keeps it (at most a quarter page). Pages 0 and 1 are the meta pages; like etcd 3.4
// on Linux (NoFreelistSync) no freelist page is written, and every page is reachable.
//
// The layout depends only on the sizes of the keys and values (and on the first key of each leaf),
// so a file can be streamed: a first pass with `{ dry: true }` lays out nothing and gives the root
// and page count (meta()), a second pass over the same entries hands the pages out in file order as
// they fill (takeChunks()) after metaPages(root, pgid). Entries from an EntrySource are written by
// it straight into their page (no Buffer per entry).
import {
  BUCKET_HEADER_BYTES,
  BUCKET_LEAF_FLAG,
  BoltFormatError,
  ELEMENT_BYTES,
  ETCD_PAGE_BYTES,
  INLINE_DIVISOR,
  PAGE_HEADER_BYTES,
  PageFlag,
  writeMeta,
  writePageHeader,
} from './format.js';

const NO_FREELIST = 0xffffffffffffffffn;
/** txids of meta pages 0 and 1 (the newer one is used). */
const META_TXIDS = [2n, 3n] as const;

/**
 * Entries written into their page by their owner: entry `i` has a key of keyBytes(i) bytes and a
 * value of valueBytes(i) bytes; write(i, dst, at) puts the key then the value at dst[at..] (every
 * byte of both: the page is not cleared before). The
 * owner adds them in ascending key order (not checked here).
 */
export interface EntrySource {
  keyBytes(i: number): number;
  valueBytes(i: number): number;
  write(i: number, dst: Buffer, at: number): void;
  /** The key alone (the first key of a page, for the branch above it). */
  writeKey(i: number, dst: Buffer, at: number): void;
}

/**
 * A leaf element: its key is `klen` bytes of `key` from `koff` (a view without a Buffer of its own)
 * and its value `value`; or, with `src`, entry `idx` of src (key and value written by it).
 */
interface Element {
  key: Buffer;
  koff: number;
  klen: number;
  value: Buffer;
  vlen: number;
  flags: number;
  src: EntrySource | null;
  idx: number;
}

const NO_BYTES = Buffer.alloc(0);

interface ChildRef {
  key: Buffer;
  pgid: bigint;
}

/** Pages are laid out in blocks of this size (a larger page gets a block of its own). */
const BLOCK_BYTES = 1 << 20;

export interface WriterOptions {
  /** Lay nothing out: only count pages (the first pass of a streamed file). */
  dry?: boolean;
  /** The meta pages are not part of `chunks` (the caller sends metaPages() first). */
  streamed?: boolean;
}

/**
 * Builds one file; the caller reads `chunks` (file order) after finish(), or, streamed, takes the
 * pages written so far with takeChunks() as it goes.
 */
export class BoltWriter {
  readonly pageSize = ETCD_PAGE_BYTES;
  /** The file: the meta pages, then the blocks of pages (views of their written part). */
  chunks: Buffer[] = [];
  private nextPgid = 2n;
  private readonly metaPages = Buffer.alloc(2 * ETCD_PAGE_BYTES);
  private block = Buffer.alloc(0);
  private blockUsed = 0;
  private done = false;
  private rootPgid = 0n;
  private readonly dry: boolean;

  constructor(opts: WriterOptions = {}) {
    this.dry = opts.dry === true;
    if (!this.dry && opts.streamed !== true) this.chunks.push(this.metaPages);
  }

  /** The root page and the page count, once finished (what the meta pages hold). */
  meta(): { root: bigint; pgid: bigint } {
    if (!this.done) throw new Error('bbolt writer not finished');
    return { root: this.rootPgid, pgid: this.nextPgid };
  }

  /** The two meta pages of a file whose root bucket is at page `root` and that has `pgid` pages. */
  static metaPages(root: bigint, pgid: bigint): Buffer {
    const out = Buffer.alloc(2 * ETCD_PAGE_BYTES);
    fillMeta(out, root, pgid);
    return out;
  }

  /** The blocks of pages closed since the last call (file order). */
  takeChunks(): Buffer[] {
    const out = this.chunks;
    this.chunks = [];
    return out;
  }

  /** A new bucket (top-level, nested or the root); fill it, then give it to its parent (or finish). */
  bucket(): BucketBuilder {
    return new BucketBuilder(this);
  }

  /** Ends the file with `root` as the root bucket (its entries should be buckets). Returns the file size. */
  finish(root: BucketBuilder): number {
    if (this.done) throw new Error('bbolt writer already finished');
    this.rootPgid = root.finishTree();
    this.done = true;
    this.closeBlock();
    fillMeta(this.metaPages, this.rootPgid, this.nextPgid);
    return Number(this.nextPgid) * this.pageSize;
  }

  /** Lays the first `count` of `elements` (`bytes` with the header) out as one page (with overflow pages when needed) and appends it; its id. */
  writePage(flags: number, elements: readonly Element[] | readonly ChildRef[], count: number, bytes: number): bigint {
    const pages = Math.max(1, Math.ceil(bytes / this.pageSize));
    const id = this.nextPgid;
    this.nextPgid += BigInt(pages);
    if (this.dry) return id;
    const buf = this.take(pages * this.pageSize);
    buf.fill(0, layoutPage(buf, id, flags, elements, count)); // the block is not cleared: the page's unused tail
    writePageHeader(buf, 0, { id, flags, count, overflow: pages - 1 });
    return id;
  }

  /**
   * `n` bytes at the end of the file so far (the next page's place), not cleared: a new block's
   * memory is not zeroed (~25 ms a 164 MB file, and memory reused from the last save rather than
   * fresh pages to fault in); writePage writes every byte of its pages.
   */
  private take(n: number): Buffer {
    if (this.blockUsed + n > this.block.length) {
      this.closeBlock();
      this.block = Buffer.allocUnsafeSlow(Math.max(n, BLOCK_BYTES));
    }
    const out = this.block.subarray(this.blockUsed, this.blockUsed + n);
    this.blockUsed += n;
    return out;
  }

  private closeBlock(): void {
    if (this.blockUsed > 0) this.chunks.push(this.block.subarray(0, this.blockUsed));
    this.block = Buffer.alloc(0);
    this.blockUsed = 0;
  }
}

function fillMeta(pages: Buffer, root: bigint, pgid: bigint): void {
  for (const [i, txid] of META_TXIDS.entries()) {
    const off = i * ETCD_PAGE_BYTES;
    writePageHeader(pages, off, { id: BigInt(i), flags: PageFlag.meta, count: 0, overflow: 0 });
    writeMeta(pages, off + PAGE_HEADER_BYTES, { pageSize: ETCD_PAGE_BYTES, flags: 0, root, sequence: 0n, freelist: NO_FREELIST, pgid, txid });
  }
}

function elementBytes(e: Element | ChildRef): number {
  return 'vlen' in e ? ELEMENT_BYTES + e.klen + e.vlen : ELEMENT_BYTES + e.key.length;
}

/**
 * Copies src[from, from + len) to dst at `at`: short runs byte by byte, a whole buffer by
 * TypedArray.set (Buffer.copy makes a view per call, which costs more than the copy at these sizes).
 */
function copyBytes(src: Buffer, from: number, len: number, dst: Buffer, at: number): void {
  if (len <= 32) {
    for (let i = 0; i < len; i++) dst[at + i] = src[from + i] as number;
  } else if (from === 0 && len === src.length) {
    dst.set(src, at);
  } else {
    dst.set(src.subarray(from, from + len), at);
  }
}

/** v (below 2^32) little-endian at b[at..] (writeUInt32LE's checks cost more than the stores: four a leaf element). */
function u32le(b: Buffer, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = v >>> 24;
}

/** Whether key a (`alen` bytes of `a` from `aoff`) sorts after key b, byte-wise as bbolt compares them. */
function keyAfter(a: Buffer, aoff: number, alen: number, b: Buffer, boff: number, blen: number): boolean {
  const n = Math.min(alen, blen);
  for (let i = 0; i < n; i++) {
    const x = a[aoff + i] as number;
    const y = b[boff + i] as number;
    if (x !== y) return x > y;
  }
  return alen > blen;
}

/**
 * The first `count` elements, then their keys (and values) in the same order; `pos` counts from each
 * element. Every byte up to the returned end is written (the header's are writePageHeader's).
 */
function layoutPage(buf: Buffer, id: bigint, flags: number, elements: readonly (Element | ChildRef)[], count: number): number {
  if (count > 0xffff) throw new BoltFormatError(`bbolt: too many elements for page ${id}`);
  let data = PAGE_HEADER_BYTES + count * ELEMENT_BYTES;
  for (let i = 0; i < count; i++) {
    const el = PAGE_HEADER_BYTES + i * ELEMENT_BYTES;
    if (flags === PageFlag.branch) {
      const c = elements[i] as ChildRef;
      buf.writeUInt32LE(data - el, el);
      buf.writeUInt32LE(c.key.length, el + 4);
      buf.writeBigUInt64LE(c.pgid, el + 8);
      copyBytes(c.key, 0, c.key.length, buf, data);
      data += c.key.length;
    } else {
      const l = elements[i] as Element;
      const vlen = l.vlen;
      u32le(buf, el, l.flags);
      u32le(buf, el + 4, data - el);
      u32le(buf, el + 8, l.klen);
      u32le(buf, el + 12, vlen);
      if (l.src !== null) {
        l.src.write(l.idx, buf, data);
        data += l.klen + vlen;
        continue;
      }
      copyBytes(l.key, l.koff, l.klen, buf, data);
      data += l.klen;
      copyBytes(l.value, 0, vlen, buf, data);
      data += vlen;
    }
  }
  return data;
}

/**
 * One bucket being written: put() and putBucket() in strictly ascending key order, then finish()
 * for its value in the parent (or BoltWriter.finish for the root).
 */
export class BucketBuilder {
  /**
   * Elements not yet on a page, the first pendingCount (all of them while the bucket may still be
   * inline). Counted, not emptied: an emptied array gives up its storage and grows it again for the
   * next page (two passes over 40,000 leaves at 1M keys).
   */
  private readonly pending: Element[] = [];
  private pendingCount = 0;
  private pendingBytes = PAGE_HEADER_BYTES;
  private paged = false;
  private hasBuckets = false;
  private leaves: ChildRef[] = [];
  private last: Element | undefined;
  /** putEntry's elements whose page is written, for reuse: the first spareCount. */
  private readonly spare: Element[] = [];
  private spareCount = 0;
  private finished = false;

  constructor(private readonly w: BoltWriter) {}

  put(key: Buffer, value: Buffer): void {
    this.add({ key, koff: 0, klen: key.length, value, vlen: value.length, flags: 0, src: null, idx: 0 });
  }

  /** put() of the key `src[keyOffset..]` (no view made of it): the bytes are read when its page is laid out. */
  putFrom(src: Buffer, keyOffset: number, value: Buffer): void {
    this.add({ key: src, koff: keyOffset, klen: src.length - keyOffset, value, vlen: value.length, flags: 0, src: null, idx: 0 });
  }

  /** Entry `i` of `src`, after every key added so far (the source's order is not checked). */
  putEntry(src: EntrySource, i: number): void {
    if (this.spareCount === 0) return this.add({ key: NO_BYTES, koff: 0, klen: src.keyBytes(i), value: NO_BYTES, vlen: src.valueBytes(i), flags: 0, src, idx: i });
    const e = this.spare[--this.spareCount]!; // a million entries make no garbage of a million elements
    e.klen = src.keyBytes(i);
    e.vlen = src.valueBytes(i);
    e.src = src;
    e.idx = i;
    this.add(e);
  }

  /** Adds a finished sub-bucket under `key`. */
  putBucket(key: Buffer, child: BucketBuilder): void {
    this.hasBuckets = true;
    const value = child.finish();
    this.add({ key, koff: 0, klen: key.length, value, vlen: value.length, flags: BUCKET_LEAF_FLAG, src: null, idx: 0 });
  }

  /** The bucket's value in its parent: a header {root, sequence 0}, with the page when inline. */
  finish(): Buffer {
    if (!this.paged && !this.hasBuckets && this.pendingBytes <= this.w.pageSize / INLINE_DIVISOR) {
      this.finished = true;
      const out = Buffer.alloc(BUCKET_HEADER_BYTES + this.pendingBytes);
      const page = out.subarray(BUCKET_HEADER_BYTES);
      layoutPage(page, 0n, PageFlag.leaf, this.pending, this.pendingCount);
      writePageHeader(page, 0, { id: 0n, flags: PageFlag.leaf, count: this.pendingCount, overflow: 0 });
      return out;
    }
    const root = this.finishTree();
    const out = Buffer.alloc(BUCKET_HEADER_BYTES);
    out.writeBigUInt64LE(root, 0);
    return out;
  }

  /** Puts everything on pages and builds the branch levels: the root page id. */
  finishTree(): bigint {
    if (this.finished) throw new Error('bbolt bucket already finished');
    this.finished = true;
    this.paged = true;
    if (this.pendingCount > 0 || this.leaves.length === 0) this.flushLeaf();
    let level = this.leaves;
    while (level.length > 1) level = this.branchLevel(level);
    return (level[0] as ChildRef).pgid;
  }

  private add(e: Element): void {
    if (this.finished) throw new Error('bbolt bucket already finished');
    if (e.src === null) {
      const last = this.last;
      if (last !== undefined && !keyAfter(e.key, e.koff, e.klen, last.key, last.koff, last.klen)) {
        throw new BoltFormatError(`bbolt: keys must be added in ascending order (${keyHex(e)} after ${keyHex(last)})`);
      }
      this.last = e;
    }
    if (e.klen === 0) throw new BoltFormatError('bbolt: empty key');
    const size = elementBytes(e);
    if (!this.paged && (this.hasBuckets || this.pendingBytes + size > this.w.pageSize / INLINE_DIVISOR)) this.paged = true;
    if (this.paged && this.pendingCount > 0 && this.pendingBytes + size > this.w.pageSize) this.flushLeaf();
    this.pending[this.pendingCount++] = e;
    this.pendingBytes += size;
  }

  private flushLeaf(): void {
    const n = this.pendingCount;
    const pgid = this.w.writePage(PageFlag.leaf, this.pending, n, this.pendingBytes);
    this.leaves.push({ key: n > 0 ? keyOf(this.pending[0]!) : Buffer.alloc(0), pgid });
    for (let j = 0; j < n; j++) {
      const e = this.pending[j]!;
      if (e.src !== null) this.spare[this.spareCount++] = e;
    }
    this.pendingCount = 0;
    this.pendingBytes = PAGE_HEADER_BYTES;
  }

  private branchLevel(children: ChildRef[]): ChildRef[] {
    const out: ChildRef[] = [];
    let page: ChildRef[] = [];
    let bytes = PAGE_HEADER_BYTES;
    const flush = (): void => {
      out.push({ key: (page[0] as ChildRef).key, pgid: this.w.writePage(PageFlag.branch, page, page.length, bytes) });
      page = [];
      bytes = PAGE_HEADER_BYTES;
    };
    for (const c of children) {
      const size = elementBytes(c);
      // At least two children a page (bbolt's minKeysPerPage), so every level is smaller than the one below.
      if (page.length >= 2 && bytes + size > this.w.pageSize) flush();
      page.push(c);
      bytes += size;
    }
    flush();
    return out;
  }
}

/** An element's key as a Buffer of its own. */
function keyOf(e: Element): Buffer {
  if (e.src === null) return Buffer.from(e.key.subarray(e.koff, e.koff + e.klen));
  const key = Buffer.allocUnsafe(e.klen);
  e.src.writeKey(e.idx, key, 0);
  return key;
}

function keyHex(e: Element): string {
  return e.key.toString('hex', e.koff, e.koff + e.klen);
}
