/*
 * Protobuf wire primitives for the raftpb codec (raft/ may not import codec/ or Node's Buffer).
 *
 * A field is a key varint (field number << 3 | wire type) and a value: wire type 0 a varint,
 * 1 eight bytes, 2 a varint length and that many bytes, 5 four bytes, 3/4 the start/end of a
 * (deprecated) group. Varints are little-endian base 128, high bit = "more": 300 is ac 02.
 * uint64s that are indexes or terms travel as JS numbers (safe integers); node ids as bigint.
 */

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  StartGroup = 3,
  EndGroup = 4,
  Fixed32 = 5,
}

const MAX_U64 = 0xffff_ffff_ffff_ffffn;
const MAX_GROUP_DEPTH = 64;

// ---------------------------------------------------------------- writing

/** Encoded length of a varint holding v, a non-negative safe integer (checked: RangeError). */
export function uintSize(v: number): number {
  if ((v & 0x7f) === v) return 1; // 0..127 (and no fraction, NaN or negative)
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`raftpb: ${v} is not a uint64 that fits a safe integer`);
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes v (already checked by uintSize) as a varint at off; returns the offset after it. */
export function writeUint(buf: Uint8Array, off: number, v: number): number {
  while (v > 0x7fffffff) {
    buf[off++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  while (v > 0x7f) {
    buf[off++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[off++] = v;
  return off;
}

/** Encoded length of a varint holding a uint64 bigint (checked: RangeError outside [0, 2^64)). */
export function u64Size(v: bigint): number {
  if (v < 0n || v > MAX_U64) throw new RangeError(`raftpb: ${v} is not a uint64`);
  const hi = Number(v >> 32n);
  const bits = hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(Number(v));
  return bits === 0 ? 1 : Math.ceil(bits / 7);
}

export function writeU64(buf: Uint8Array, off: number, v: bigint): number {
  let lo = Number(v & 0xffffffffn);
  let hi = Number(v >> 32n);
  while (hi !== 0) {
    buf[off++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 0x7f) {
    buf[off++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  buf[off++] = lo;
  return off;
}

// ---------------------------------------------------------------- reading

/**
 * Reads the fields of one message in buf[pos, end): `while (r.next()) switch (r.field) ...`, then one
 * of the value readers for the field's wire type `r.wt`. Every malformation throws RangeError.
 */
export class ProtoReader {
  field = 0;
  wt = 0;
  constructor(readonly buf: Uint8Array, public pos: number, readonly end: number) {}

  static of(b: Uint8Array): ProtoReader {
    return new ProtoReader(b, 0, b.length);
  }

  /** Reads the next key; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const key = this.varint();
    this.field = Math.floor(key / 8);
    this.wt = key % 8;
    if (this.field === 0) throw new RangeError('raftpb: illegal field number 0');
    if (this.wt > WireType.Fixed32) throw new RangeError(`raftpb: illegal wire type ${this.wt} (field ${this.field})`);
    return true;
  }

  /** A uint64 varint field as a safe integer. */
  uint(): number {
    this.expect(WireType.Varint);
    return this.varint();
  }

  /** A uint64 varint field as a bigint. */
  u64(): bigint {
    this.expect(WireType.Varint);
    return this.varint64();
  }

  /** A length-delimited field's bytes (a view into buf). */
  bytes(): Uint8Array {
    const start = this.lengthDelimited();
    return this.buf.subarray(start, this.pos);
  }

  /** A length-delimited field read as an embedded message. */
  message(): ProtoReader {
    const start = this.lengthDelimited();
    return new ProtoReader(this.buf, start, this.pos);
  }

  /** A repeated uint64 field, packed (wire type 2) or not (0): appends to out. */
  repeatedU64(out: bigint[]): void {
    if (this.wt === WireType.Varint) {
      out.push(this.varint64());
      return;
    }
    const sub = this.message();
    while (sub.pos < sub.end) out.push(sub.varint64());
  }

  /** Skips the current field's value (groups included, with their nested fields). */
  skip(depth = 0): void {
    switch (this.wt) {
      case WireType.Varint: this.varint64(); return;
      case WireType.Fixed64: this.advance(8); return;
      case WireType.Bytes: this.lengthDelimited(); return;
      case WireType.Fixed32: this.advance(4); return;
      case WireType.StartGroup: this.skipGroup(depth); return;
      default: throw new RangeError(`raftpb: unexpected end of group (field ${this.field})`);
    }
  }

  private skipGroup(depth: number): void {
    if (depth >= MAX_GROUP_DEPTH) throw new RangeError('raftpb: groups nested too deep');
    const field = this.field;
    for (;;) {
      if (!this.next()) throw new RangeError(`raftpb: unterminated group (field ${field})`);
      if (this.wt === WireType.EndGroup) {
        if (this.field !== field) throw new RangeError(`raftpb: group ${field} ended by field ${this.field}`);
        return;
      }
      this.skip(depth + 1);
    }
  }

  private expect(wt: WireType): void {
    if (this.wt !== wt) throw new RangeError(`raftpb: field ${this.field} has wire type ${this.wt}, want ${wt}`);
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw new RangeError('raftpb: unexpected end of data');
    this.pos += n;
  }

  /** Checks wire type 2, reads the length, moves past the bytes; returns where they start. */
  private lengthDelimited(): number {
    this.expect(WireType.Bytes);
    const n = this.varint();
    const start = this.pos;
    if (n > this.end - start) throw new RangeError(`raftpb: length ${n} of field ${this.field} runs past the end`);
    this.pos = start + n;
    return start;
  }

  /** A varint as a safe integer (RangeError beyond 2^53 - 1). */
  private varint(): number {
    const b = this.buf;
    let p = this.pos;
    if (p < this.end && b[p]! < 0x80) {
      this.pos = p + 1;
      return b[p]!;
    }
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw new RangeError('raftpb: truncated varint');
      const byte = b[p++]!;
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        if (v > Number.MAX_SAFE_INTEGER) throw new RangeError('raftpb: uint64 beyond 2^53 where a safe integer is expected');
        this.pos = p;
        return v;
      }
      mul *= 128;
    }
    throw new RangeError('raftpb: varint longer than 10 bytes');
  }

  /** A varint as a uint64 bigint (bits past 64 dropped, as Go's decoder does). */
  private varint64(): bigint {
    const b = this.buf;
    let p = this.pos;
    let lo = 0; // bits 0..27
    let hi = 0; // bits 28..69
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw new RangeError('raftpb: truncated varint');
      const byte = b[p++]!;
      if (i < 4) lo += (byte & 0x7f) * 2 ** (7 * i);
      else hi += (byte & 0x7f) * 2 ** (7 * (i - 4));
      if (byte < 0x80) {
        this.pos = p;
        return hi === 0 ? BigInt(lo) : BigInt.asUintN(64, (BigInt(hi) << 28n) | BigInt(lo));
      }
    }
    throw new RangeError('raftpb: varint longer than 10 bytes');
  }
}
