// Reading a bbolt file held in memory: the newest valid meta page, buckets (nested, inline or not),
// their entries in key order, the freelist, and a consistency check like bbolt's Tx.Check.
import {
  BUCKET_HEADER_BYTES,
  BUCKET_LEAF_FLAG,
  BoltFormatError,
  ELEMENT_BYTES,
  ETCD_PAGE_BYTES,
  PAGE_HEADER_BYTES,
  PageFlag,
  readMeta,
  readPageHeader,
  type Meta,
  type PageHeader,
} from './format.js';

/** One entry of a bucket: a key and its value, or a nested bucket (`bucket` true, value its header). */
export interface BoltEntry {
  key: Buffer;
  value: Buffer;
  bucket: boolean;
}

const NO_FREELIST = 0xffffffffffffffffn;
const FREELIST_COUNT_OVERFLOW = 0xffff;

/** A page: its header and where it starts, in the file or inside an inline bucket's value. */
interface PageRef {
  buf: Buffer;
  off: number;
  header: PageHeader;
}

export class BoltDb {
  readonly meta: Meta;
  readonly pageSize: number;

  private constructor(readonly file: Buffer, meta: Meta) {
    this.meta = meta;
    this.pageSize = meta.pageSize;
  }

  /**
   * Opens the file's bytes (without etcd's sha256 trailer). Uses the valid meta page with the higher
   * txid, as bbolt does. Throws BoltFormatError for anything that is not a bbolt file of etcd 3.4's
   * kind (page size 4096, version 2) or whose pages lie beyond its end.
   */
  static open(file: Buffer): BoltDb {
    const metas: Meta[] = [];
    let firstError: unknown;
    for (const pageNo of [0, 1]) {
      try {
        metas.push(readMeta(file, pageNo * ETCD_PAGE_BYTES + PAGE_HEADER_BYTES));
      } catch (e) {
        firstError ??= e;
      }
    }
    if (metas.length === 0) throw firstError instanceof Error ? firstError : new BoltFormatError('bbolt: invalid database');
    const meta = metas.reduce((a, b) => (b.txid > a.txid ? b : a));
    if (meta.pageSize !== ETCD_PAGE_BYTES) {
      throw new BoltFormatError(`bbolt: page size ${meta.pageSize} is not supported (etcd 3.4 on Linux writes ${ETCD_PAGE_BYTES})`);
    }
    if (BigInt(file.length) < meta.pgid * BigInt(meta.pageSize)) {
      throw new BoltFormatError(`bbolt: file size ${file.length} is smaller than its ${meta.pgid} pages: truncated?`);
    }
    return new BoltDb(file, meta);
  }

  /** The bytes bbolt's Tx.Size reports (etcdctl snapshot status's totalSize). */
  get size(): number {
    return Number(this.meta.pgid) * this.pageSize;
  }

  /** The root bucket, whose entries are the top-level buckets. */
  root(): BoltBucket {
    return new BoltBucket(this, this.meta.root, undefined);
  }

  /** A top-level bucket by name. */
  bucket(name: string | Buffer): BoltBucket | undefined {
    return this.root().bucket(name);
  }

  /** Free page ids recorded in the freelist page (none when the file keeps no freelist). */
  freePages(): bigint[] {
    if (this.meta.freelist === NO_FREELIST) return [];
    const p = this.page(this.meta.freelist);
    if (p.header.flags !== PageFlag.freelist) throw new BoltFormatError(`bbolt: page ${this.meta.freelist} is not a freelist page`);
    let at = p.off + PAGE_HEADER_BYTES;
    let count = p.header.count;
    if (count === FREELIST_COUNT_OVERFLOW) {
      count = Number(p.buf.readBigUInt64LE(at));
      at += 8;
    }
    const ids: bigint[] = [];
    for (let i = 0; i < count; i++) ids.push(p.buf.readBigUInt64LE(at + i * 8));
    return ids;
  }

  /** The bucket a bucket-flagged leaf value describes. */
  childBucket(value: Buffer): BoltBucket {
    if (value.length < BUCKET_HEADER_BYTES) throw new BoltFormatError('bbolt: bucket value shorter than its header');
    const root = value.readBigUInt64LE(0);
    return new BoltBucket(this, root, root === 0n ? value.subarray(BUCKET_HEADER_BYTES) : undefined);
  }

  /** Page `id` of the file, checked to lie inside it. */
  page(id: bigint): PageRef {
    if (id >= this.meta.pgid) throw new BoltFormatError(`bbolt: page ${id} is beyond the high water mark ${this.meta.pgid}`);
    const off = Number(id) * this.pageSize;
    const header = readPageHeader(this.file, off);
    if (off + (header.overflow + 1) * this.pageSize > this.file.length) throw new BoltFormatError(`bbolt: page ${id} runs past the end of the file`);
    if (header.id !== id) throw new BoltFormatError(`bbolt: page ${id} calls itself page ${header.id}`);
    return { buf: this.file, off, header };
  }
}

export class BoltBucket {
  constructor(
    private readonly db: BoltDb,
    /** The root page id, 0 for an inline bucket. */
    readonly rootPage: bigint,
    /** An inline bucket's page (its value after the 16-byte bucket header). */
    private readonly inline: Buffer | undefined,
  ) {}

  /** Every entry in key order (keys and values are views of the file). */
  *entries(): Generator<BoltEntry> {
    for (const p of this.leafPages()) {
      for (let i = 0; i < p.count; i++) {
        yield { key: p.buf.subarray(p.keyStart(i), p.valueStart(i)), value: p.buf.subarray(p.valueStart(i), p.valueEnd(i)), bucket: p.isBucket(i) };
      }
    }
  }

  /** A nested bucket by name. */
  bucket(name: string | Buffer): BoltBucket | undefined {
    const want = typeof name === 'string' ? Buffer.from(name) : name;
    for (const e of this.entries()) {
      const c = Buffer.compare(e.key, want);
      if (c === 0) return e.bucket ? this.db.childBucket(e.value) : undefined;
      if (c > 0) return undefined;
    }
    return undefined;
  }

  /** Every page id this bucket's tree uses (not its sub-buckets'), each with its overflow count. */
  *pages(): Generator<{ id: bigint; overflow: number; flags: number }> {
    for (const p of this.treePages()) yield { id: p.header.id, overflow: p.header.overflow, flags: p.header.flags };
  }

  /** The leaf pages in key order (one for an inline bucket), for reading entries without a view each. */
  *leafPages(): Generator<LeafPage> {
    if (this.inline) {
      yield new LeafPage(this.inlinePage(), this.db.pageSize);
      return;
    }
    for (const p of this.treePages()) if (p.header.flags === PageFlag.leaf) yield new LeafPage(p, this.db.pageSize);
  }

  /**
   * The pages of the tree (none for an inline bucket), each branch before its children and the
   * leaves in key order. A page other than a branch or a leaf, or a tree deeper than 64 (a page
   * that refers back up), ends it with BoltFormatError once the page was yielded.
   */
  private *treePages(): Generator<PageRef> {
    if (this.inline) return;
    const stack: Array<[bigint, number]> = [[this.rootPage, 0]];
    while (stack.length > 0) {
      const [id, depth] = stack.pop() as [bigint, number];
      if (depth > 64) throw new BoltFormatError('bbolt: tree too deep (a page refers to itself?)');
      const p = this.db.page(id);
      yield p;
      if (p.header.flags === PageFlag.branch) {
        for (let i = p.header.count - 1; i >= 0; i--) stack.push([p.buf.readBigUInt64LE(p.off + PAGE_HEADER_BYTES + i * ELEMENT_BYTES + 8), depth + 1]);
      } else if (p.header.flags !== PageFlag.leaf) {
        throw new BoltFormatError(`bbolt: page ${id} in a bucket is neither a branch nor a leaf (flags ${p.header.flags})`);
      }
    }
  }

  private inlinePage(): PageRef {
    const buf = this.inline as Buffer;
    return { buf, off: 0, header: readPageHeader(buf, 0) };
  }
}

/**
 * A leaf page's elements as offsets into `buf` (the file, or an inline bucket's value), each checked
 * to lie inside its page: element i's key is buf[keyStart(i), valueStart(i)), its value
 * buf[valueStart(i), valueEnd(i)).
 */
export class LeafPage {
  readonly buf: Buffer;
  readonly count: number;
  private readonly at: Float64Array; // key start, value start, value end, bucket flag: 4 per element (offsets past 2 GiB too)

  constructor(p: PageRef, pageSize: number) {
    if (p.header.flags !== PageFlag.leaf) throw new BoltFormatError(`bbolt: inline bucket page is not a leaf (flags ${p.header.flags})`);
    this.buf = p.buf;
    this.count = p.header.count;
    const end = Math.min(p.off + (p.header.overflow + 1) * pageSize, p.buf.length);
    this.at = new Float64Array(4 * this.count);
    for (let i = 0; i < this.count; i++) {
      const el = p.off + PAGE_HEADER_BYTES + i * ELEMENT_BYTES;
      const k = el + p.buf.readUInt32LE(el + 4);
      const v = k + p.buf.readUInt32LE(el + 8);
      const vEnd = v + p.buf.readUInt32LE(el + 12);
      if (vEnd > end) throw new BoltFormatError('bbolt: leaf element runs past its page');
      this.at[4 * i] = k;
      this.at[4 * i + 1] = v;
      this.at[4 * i + 2] = vEnd;
      this.at[4 * i + 3] = p.buf.readUInt32LE(el) & BUCKET_LEAF_FLAG;
    }
  }

  keyStart(i: number): number {
    return this.at[4 * i]!;
  }

  valueStart(i: number): number {
    return this.at[4 * i + 1]!;
  }

  valueEnd(i: number): number {
    return this.at[4 * i + 2]!;
  }

  isBucket(i: number): boolean {
    return this.at[4 * i + 3] !== 0;
  }
}
