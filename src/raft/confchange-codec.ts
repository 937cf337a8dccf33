// The bytes of a conf-change entry's data: etcd's raftpb.ConfChange (proto2, gogoproto), so that a
// member of ours and a member of etcd 3.4 read each other's conf changes.
//   message ConfChange { uint64 ID = 1; ConfChangeType Type = 2; uint64 NodeID = 3; bytes Context = 4; }
// Written as gogoproto writes it: fields in number order, ID, Type and NodeID always (nullable=false,
// zeros included), Context only when present (an empty one is written, as a non-nil empty slice is).
// e.g. AddNode 0x2a, id 7, no context = 08 07 10 00 18 2a; etcd's bootstrap entries carry ID 0.
// Read as gogoproto reads it: any field order, the last value of a repeated field, unknown fields
// skipped; a wrong wire type, a truncated field or a type outside ConfChangeType is a RangeError.
import { type ConfChange, ConfChangeType } from './types.js';

// 64-bit values go through two uint32 halves: V8 (Node 20) has crashed optimizing loops over
// BigInt.asUintN(64, ...) values.

/** A uint64 (an int64 as its two's complement) as [low 32 bits, high 32 bits]. */
function halves(v: bigint): [number, number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u & 0xffffffffn), Number(u >> 32n)];
}

function varintSize([lo, hi]: [number, number]): number {
  const bits = hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(lo);
  return bits === 0 ? 1 : Math.ceil(bits / 7);
}

function writeVarint(out: Uint8Array, pos: number, [lo, hi]: [number, number]): number {
  while (hi !== 0) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 0x7f) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  out[pos++] = lo;
  return pos;
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const id = halves(cc.id ?? 0n);
  const type = halves(BigInt(cc.type)); // an int32 enum: a negative takes 10 bytes, as in Go
  const nodeId = halves(cc.nodeId);
  const ctx = cc.context;
  const ctxLength: [number, number] = [ctx?.length ?? 0, 0];
  let size = 3 + varintSize(id) + varintSize(type) + varintSize(nodeId);
  if (ctx !== undefined) size += 1 + varintSize(ctxLength) + ctx.length;
  const out = new Uint8Array(size);
  let pos = 0;
  out[pos++] = 0x08;
  pos = writeVarint(out, pos, id);
  out[pos++] = 0x10;
  pos = writeVarint(out, pos, type);
  out[pos++] = 0x18;
  pos = writeVarint(out, pos, nodeId);
  if (ctx !== undefined) {
    out[pos++] = 0x22;
    pos = writeVarint(out, pos, ctxLength);
    out.set(ctx, pos);
  }
  return out;
}

/** Throws RangeError on malformed data. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  let pos = 0;
  let lo = 0;
  let hi = 0;
  /** Reads a varint into lo/hi: at most 10 bytes, the bits past 64 dropped (as gogoproto). */
  const varintHalves = (): void => {
    let l = 0;
    let h = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= data.length) throw new RangeError('malformed conf change: truncated');
      const b = data[pos++]!;
      const bits = b & 0x7f;
      if (i < 4) l |= bits << (7 * i);
      else if (i === 4) {
        l |= (bits & 0xf) << 28;
        h |= bits >>> 4;
      } else h |= bits << (7 * i - 32);
      if (b < 0x80) {
        lo = l >>> 0;
        hi = h >>> 0;
        return;
      }
    }
    throw new RangeError('malformed conf change: varint overflow');
  };
  const varint = (): bigint => {
    varintHalves();
    return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
  };
  const length = (): number => {
    varintHalves();
    if (hi !== 0 || lo > data.length - pos) throw new RangeError('malformed conf change: truncated');
    return lo;
  };
  let id = 0n;
  let type = 0;
  let nodeId = 0n;
  let context: Uint8Array | undefined;
  while (pos < data.length) {
    varintHalves();
    const field = ((lo >>> 3) | (hi << 29)) | 0; // Go's int32(wire >> 3)
    const wireType = lo & 7;
    if (wireType === 4 || field <= 0) throw new RangeError(`malformed conf change: bad key (field ${field}, wire type ${wireType})`);
    const want = field === 4 ? 2 : field <= 3 ? 0 : -1;
    if (want >= 0 && wireType !== want) throw new RangeError(`malformed conf change: wire type ${wireType} for field ${field}`);
    if (field === 1) id = varint();
    else if (field === 2) {
      varintHalves();
      type = lo | 0; // Go's int32 enum keeps the low 32 bits
    }
    else if (field === 3) nodeId = varint();
    else if (field === 4) {
      const n = length();
      context = data.slice(pos, pos + n);
      pos += n;
    } else skipField(wireType);
  }
  if (!(type in ConfChangeType)) throw new RangeError(`malformed conf change: unknown type ${type}`);
  const cc: ConfChange = { type: type as ConfChangeType, nodeId, id };
  if (context !== undefined) cc.context = context;
  return cc;

  function skipField(wireType: number): void {
    if (wireType === 0) varintHalves();
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const n = length(); // read first: `pos += length()` would add to the position before the length's varint
      pos += n;
    }
    else if (wireType === 3) {
      for (;;) {
        varintHalves();
        const inner = lo & 7;
        if (inner === 4) break;
        skipField(inner);
      }
    } else throw new RangeError(`malformed conf change: wire type ${wireType}`);
    if (pos > data.length) throw new RangeError('malformed conf change: truncated');
  }
}
