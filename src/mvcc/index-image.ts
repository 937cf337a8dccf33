// The key index image: the in-memory key index as one byte stream, written on a graceful close and
// read at the next open instead of scanning every revision of the backend's `key` bucket (a million
// keys: ~8 s of CPU for the scan). The file itself is the server's business (platform/fs); this room
// only encodes and decodes, and KvStore.open decides whether the image describes the backend.
//
// Format, little-endian. In the records, revisions and versions are u53: u32 low, u32 high (integers
// below 2^53, as everywhere in this room; read back as small integers, where a float64 read gives a
// boxed number: 4 heap objects more per key). The header's numbers are float64; the lease is int64.
//   header   magic "ETSKIDX\n" | format u32 (1) | consistentIndex f64 | currentRev f64 | compactRev f64
//            | keyCount f64                                                      (44 bytes)
//   per key, in key order:
//            recordLen u32 (bytes after it) | keyLen u32 | key | flags u8 (1 live value, 2 lease, 4 full form)
//            [valueLen u32 | value]         if live
//            [lease i64]                    if lease
//            compact form: main u53 | sub u53 | created u53 | ver u53
//            full form:    genCount u32, per generation: ver u53 | created u53 | revCount u32 | revs u53 × revCount
//   trailer  CRC-32C u32 of every byte before it
// Example: one key "a" put at revision 2 with value "b", no lease, after raft entry 5 (95 bytes):
//   header(ci 5, rev 2, compact -1, 1 key) | 2b 00 00 00 | 01 00 00 00 | 61 | 01 | 01 00 00 00 | 62 |
//   02 00 00 00 00 00 00 00 | 00 (×8) | 02 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | 82 86 2c 47
import { crc32c } from '../pkg/crc32c.js';
import type { Generation, KeyIndex, TreeIndex } from './key-index.js';

export const imageMagic = Buffer.from('ETSKIDX\n', 'latin1');
export const imageFormat = 1;
const headerBytes = 44;
/** Size of the chunks the encoder hands out (a record larger than this gets a chunk of its own). */
export const imageChunkBytes = 1 << 20;

const enum Flag {
  live = 1,
  lease = 2,
  full = 4,
}

export interface ImageHeader {
  consistentIndex: number;
  currentRev: number;
  compactRev: number;
  keyCount: number;
}

/** Why an image was not used (logged at warn; the caller falls back to the scan). */
export class ImageRejected extends Error {}

/** The image of `index` as chunks, the trailer's CRC included. The index must not change meanwhile. */
export function* encodeImage(index: TreeIndex, header: ImageHeader): Generator<Buffer> {
  let crc = 0;
  let buf = Buffer.allocUnsafe(imageChunkBytes);
  let off = writeHeader(buf, header);
  for (const ki of index.sorted()) {
    const need = recordBytes(ki);
    if (off + need > buf.length) {
      const out = buf.subarray(0, off);
      crc = crc32c(out, crc);
      yield out;
      buf = Buffer.allocUnsafe(Math.max(imageChunkBytes, need + 4));
      off = 0;
    }
    off = writeRecord(buf, off, ki, need);
  }
  if (off + 4 > buf.length) {
    const out = buf.subarray(0, off);
    crc = crc32c(out, crc);
    yield out;
    buf = Buffer.allocUnsafe(4);
    off = 0;
  }
  crc = crc32c(buf.subarray(0, off), crc);
  buf.writeUInt32LE(crc, off);
  yield buf.subarray(0, off + 4);
}

function writeHeader(b: Buffer, h: ImageHeader): number {
  imageMagic.copy(b, 0);
  b.writeUInt32LE(imageFormat, 8);
  b.writeDoubleLE(h.consistentIndex, 12);
  b.writeDoubleLE(h.currentRev, 20);
  b.writeDoubleLE(h.compactRev, 28);
  b.writeDoubleLE(h.keyCount, 36);
  return headerBytes;
}

function recordBytes(ki: KeyIndex): number {
  let n = 4 + 4 + ki.key.length + 1;
  if (ki.hasValue()) n += 4 + ki.vLen;
  if (ki.lease !== 0n) n += 8;
  const full = ki.fullForm();
  if (!full) return n + 32;
  n += 4;
  for (const g of full) n += 20 + 8 * g.revs.length;
  return n;
}

function writeRecord(b: Buffer, off: number, ki: KeyIndex, need: number): number {
  b.writeUInt32LE(need - 4, off);
  off = writeString(b, off + 4, ki.key);
  const full = ki.fullForm();
  b[off++] = (ki.hasValue() ? Flag.live : 0) | (ki.lease !== 0n ? Flag.lease : 0) | (full ? Flag.full : 0);
  if (ki.hasValue()) off = writeBytes(b, off, ki.value());
  if (ki.lease !== 0n) off = b.writeBigInt64LE(BigInt.asIntN(64, ki.lease), off);
  if (!full) {
    for (const x of ki.compactFields()) off = writeU53(b, off, x);
    return off;
  }
  off = b.writeUInt32LE(full.length, off);
  for (const g of full) {
    off = writeU53(b, off, g.ver);
    off = writeU53(b, off, g.created);
    off = b.writeUInt32LE(g.revs.length, off);
    for (const r of g.revs) off = writeU53(b, off, r);
  }
  return off;
}

function writeU53(b: Buffer, off: number, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`mvcc: index image: ${v} is not a revision or version`);
  b.writeUInt32LE(v % 0x100000000, off);
  return b.writeUInt32LE(Math.floor(v / 0x100000000), off + 4);
}

/** A float64 holding an integer, as V8's small integer when it fits (a stored float64 stays boxed). */
function small(x: number): number {
  return x >= -0x40000000 && x < 0x40000000 ? x | 0 : x;
}

/** Keys are latin1 strings: one byte per char. */
function writeString(b: Buffer, off: number, s: string): number {
  off = b.writeUInt32LE(s.length, off);
  return off + b.write(s, off, s.length, 'latin1');
}

/** Values, with the same u32 length before them. */
function writeBytes(b: Buffer, off: number, v: Buffer): number {
  off = b.writeUInt32LE(v.length, off);
  return off + v.copy(b, off);
}

export function readHeader(b: Buffer): ImageHeader {
  if (b.length < headerBytes) throw new ImageRejected('short header');
  if (!b.subarray(0, 8).equals(imageMagic)) throw new ImageRejected('bad magic');
  const format = b.readUInt32LE(8);
  if (format !== imageFormat) throw new ImageRejected(`format ${format}, expected ${imageFormat}`);
  const h = { consistentIndex: b.readDoubleLE(12), currentRev: b.readDoubleLE(20), compactRev: b.readDoubleLE(28), keyCount: b.readDoubleLE(36) };
  if (!Object.values(h).every(Number.isSafeInteger) || h.keyCount < 0) throw new ImageRejected('bad header');
  return { consistentIndex: small(h.consistentIndex), currentRev: small(h.currentRev), compactRev: small(h.compactRev), keyCount: h.keyCount };
}

export interface DecodedImage {
  header: ImageHeader;
  keys: string[];
  kis: KeyIndex[];
}

/**
 * Decode a whole image from its chunks. `accept` sees the header first (it may wait) and throws ImageRejected to
 * stop before the rest is read. Throws ImageRejected on anything malformed, including a CRC mismatch
 * (checked before the result is returned: nothing from an image is used unless all of it is right).
 * A chunk is not referenced after the next one is asked for (the reader may reuse its buffer).
 * The key indexes are made for `index` (their values go into its arena, and leave it again if the
 * image is refused) but not added to it: loadSorted does that.
 */
export async function decodeImage(chunks: AsyncIterable<Buffer>, accept: (h: ImageHeader) => void | Promise<void>, index: TreeIndex): Promise<DecodedImage> {
  const kis: KeyIndex[] = [];
  try {
    return await decodeInto(chunks, accept, (key) => index.newKey(key), kis);
  } catch (err) {
    for (const ki of kis) ki.clearValue();
    throw err;
  }
}

async function decodeInto(chunks: AsyncIterable<Buffer>, accept: (h: ImageHeader) => void | Promise<void>, newKey: (key: string) => KeyIndex, kis: KeyIndex[]): Promise<DecodedImage> {
  let header: ImageHeader | undefined;
  const crc = new CrcButLast4();
  const held = new Held();
  const keys: string[] = [];
  const cur = new Cursor();
  let after = 0; // bytes after the last record: the trailer
  /** Bytes the next unit (the header, or a record) takes, at least, given `avail` of its bytes at b[at]; 0 once every record was read. */
  const need = (b: Buffer, at: number, avail: number): number => {
    if (!header) return headerBytes;
    if (kis.length >= header.keyCount) return 0;
    return avail < 4 ? 4 : 4 + b.readUInt32LE(at);
  };
  const consume = async (b: Buffer, at: number, n: number): Promise<void> => {
    if (!header) {
      header = readHeader(b.subarray(at, at + n));
      await accept(header);
      return;
    }
    cur.b = b;
    cur.off = at + 4;
    cur.end = at + n;
    const ki = readRecord(cur, newKey);
    keys.push(ki.key);
    kis.push(ki);
  };
  // Records are read in place in each chunk; only one cut by a chunk boundary is copied (into `held`).
  for await (const chunk of chunks) {
    crc.feed(chunk);
    let pos = 0;
    while (pos < chunk.length) {
      if (held.n > 0) {
        const take = Math.min(need(held.buf, 0, held.n) - held.n, chunk.length - pos);
        held.append(chunk, pos, take);
        pos += take;
        const n = need(held.buf, 0, held.n); // more than before once the record's length is whole
        if (held.n < n) continue;
        held.n = 0;
        await consume(held.buf, 0, n);
        continue;
      }
      const n = need(chunk, pos, chunk.length - pos);
      if (n === 0) {
        after += chunk.length - pos;
        break;
      }
      if (pos + n > chunk.length) {
        held.append(chunk, pos, chunk.length - pos);
        break;
      }
      await consume(chunk, pos, n);
      pos += n;
    }
  }
  if (!header) throw new ImageRejected('short header');
  if (kis.length !== header.keyCount) throw new ImageRejected(`truncated: ${kis.length} of ${header.keyCount} keys`);
  if (after !== 4) throw new ImageRejected(`${after} bytes after the last key, expected the 4-byte CRC`);
  if (crc.last.readUInt32LE(0) !== crc.crc) throw new ImageRejected('CRC mismatch');
  return { header, keys, kis };
}

/** The CRC-32C of a stream but its last 4 bytes (the trailer), which are kept in `last`. */
class CrcButLast4 {
  crc = 0;
  readonly last = Buffer.alloc(4);
  private n = 0;

  feed(chunk: Buffer): void {
    if (chunk.length >= 4) {
      if (this.n > 0) this.crc = crc32c(this.last.subarray(0, this.n), this.crc);
      this.crc = crc32c(chunk.subarray(0, chunk.length - 4), this.crc);
      chunk.copy(this.last, 0, chunk.length - 4);
      this.n = 4;
      return;
    }
    for (const byte of chunk) {
      if (this.n === 4) {
        this.crc = crc32c(this.last.subarray(0, 1), this.crc);
        this.last.copyWithin(0, 1);
        this.n = 3;
      }
      this.last[this.n++] = byte;
    }
  }
}

/**
 * The bytes of the one unit (header or record) a chunk boundary cut, in a buffer reused for the
 * whole image. Only those are copied: the rest of each chunk is read where it is (copying every
 * chunk into a joined buffer was a second pass over the image's 31 MB for 100,000 keys, and the
 * joined buffer's growth ~3,500 page faults).
 */
class Held {
  buf = Buffer.alloc(0);
  n = 0;

  append(from: Buffer, start: number, count: number): void {
    if (this.n + count > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.n + count, 2 * this.buf.length, 4096));
      this.buf.copy(bigger, 0, 0, this.n);
      this.buf = bigger;
    }
    from.copy(this.buf, this.n, start, start + count);
    this.n += count;
  }
}

/** A read position inside one record; every read is bounds-checked against the record's end. */
class Cursor {
  b: Buffer = Buffer.alloc(0);
  off = 0;
  end = 0;

  need(n: number): void {
    if (this.off + n > this.end) throw new ImageRejected('record overruns its length');
  }

  u8(): number {
    this.need(1);
    return this.b[this.off++]!;
  }

  u32(): number {
    this.need(4);
    this.off += 4;
    return this.b.readUInt32LE(this.off - 4);
  }

  u53(): number {
    this.need(8);
    const lo = this.b.readUInt32LE(this.off);
    const hi = this.b.readUInt32LE(this.off + 4);
    this.off += 8;
    if (hi > 0x1fffff) throw new ImageRejected('number beyond 2^53');
    return hi === 0 ? lo : hi * 0x100000000 + lo;
  }

  i64(): bigint {
    this.need(8);
    this.off += 8;
    return this.b.readBigInt64LE(this.off - 8);
  }

  /** A latin1 string (one char per byte) with its u32 length. */
  str(): string {
    const n = this.u32();
    this.need(n);
    this.off += n;
    return this.b.toString('latin1', this.off - n, this.off);
  }

  /** Bytes with their u32 length: a view of the chunk, valid until the next chunk is read. */
  bytes(): Buffer {
    const n = this.u32();
    this.need(n);
    this.off += n;
    return this.b.subarray(this.off - n, this.off);
  }
}

function readRecord(c: Cursor, newKey: (key: string) => KeyIndex): KeyIndex {
  const ki = newKey(c.str());
  const flags = c.u8();
  if (flags & Flag.live) ki.setValue(c.bytes());
  if (flags & Flag.lease) ki.lease = c.i64();
  if (flags & Flag.full) {
    const n = c.u32();
    c.need(20 * n); // before allocating: a corrupt count must not allocate a huge array
    const gens = new Array<Generation>(n);
    for (let i = 0; i < n; i++) {
      const ver = c.u53();
      const created = c.u53();
      const m = c.u32();
      c.need(8 * m);
      const revs = new Array<number>(m);
      for (let j = 0; j < m; j++) revs[j] = c.u53();
      gens[i] = { ver, created, revs };
    }
    ki.restoreForm(gens, 0, 0, 0, 0);
  } else ki.restoreForm(null, c.u53(), c.u53(), c.u53(), c.u53());
  if (c.off !== c.end) throw new ImageRejected('record longer than its contents');
  return ki;
}
