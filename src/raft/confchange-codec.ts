// The bytes of a conf-change entry's data: etcd's raftpb.ConfChange (proto2, gogoproto), so that a
// member of ours and a member of etcd 3.4 read each other's conf changes.
//   message ConfChange { uint64 ID = 1; ConfChangeType Type = 2; uint64 NodeID = 3; bytes Context = 4; }
// Written as gogoproto writes it: fields in number order, ID, Type and NodeID always (nullable=false,
// zeros included), Context only when present (an empty one is written, as a non-nil empty slice is).
// e.g. AddNode 0x2a, id 7, no context = 08 07 10 00 18 2a; etcd's bootstrap entries carry ID 0.
// Read as gogoproto reads it: any field order, the last value of a repeated field, unknown fields
// skipped; a wrong wire type, a truncated field or a type outside ConfChangeType is a RangeError.
import { type ConfChange, ConfChangeType } from './types.js';

function varintSize(v: bigint): number {
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

function writeVarint(out: Uint8Array, pos: number, v: bigint): number {
  while (v >= 0x80n) {
    out[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[pos++] = Number(v);
  return pos;
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const id = BigInt.asUintN(64, cc.id ?? 0n);
  const type = BigInt.asUintN(64, BigInt(cc.type)); // an int32 enum: negatives take 10 bytes, as in Go
  const nodeId = BigInt.asUintN(64, cc.nodeId);
  const ctx = cc.context;
  let size = 3 + varintSize(id) + varintSize(type) + varintSize(nodeId);
  if (ctx !== undefined) size += 1 + varintSize(BigInt(ctx.length)) + ctx.length;
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
    pos = writeVarint(out, pos, BigInt(ctx.length));
    out.set(ctx, pos);
  }
  return out;
}

/** Throws RangeError on malformed data. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; shift < 64n; shift += 7n) {
      if (pos >= data.length) throw new RangeError('malformed conf change: truncated');
      const b = data[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, v);
    }
    throw new RangeError('malformed conf change: varint overflow');
  };
  const length = (): number => {
    const n = varint();
    if (n > BigInt(data.length - pos)) throw new RangeError('malformed conf change: truncated');
    return Number(n);
  };
  let id = 0n;
  let type = 0;
  let nodeId = 0n;
  let context: Uint8Array | undefined;
  while (pos < data.length) {
    const tag = varint();
    const field = Number(BigInt.asIntN(32, tag >> 3n));
    const wireType = Number(tag & 7n);
    if (wireType === 4 || field <= 0) throw new RangeError(`malformed conf change: bad tag ${tag}`);
    const want = field === 4 ? 2 : field <= 3 ? 0 : -1;
    if (want >= 0 && wireType !== want) throw new RangeError(`malformed conf change: wire type ${wireType} for field ${field}`);
    if (field === 1) id = varint();
    else if (field === 2) type = Number(BigInt.asIntN(32, varint()));
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
    if (wireType === 0) varint();
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) pos += length();
    else if (wireType === 3) {
      for (;;) {
        const t = varint();
        if (Number(t & 7n) === 4) break;
        skipField(Number(t & 7n));
      }
    } else throw new RangeError(`malformed conf change: wire type ${wireType}`);
    if (pos > data.length) throw new RangeError('malformed conf change: truncated');
  }
}
