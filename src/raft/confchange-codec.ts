// The bytes of a conf-change entry's data. Our own compact format (raft decodes it; the server encodes it):
//   [0] version = 1   [1] type (ConfChangeType)   [2..10) nodeId u64 BE   [10..18) id u64 BE
//   [18..22) context length u32 BE   [22..) context
// e.g. AddNode 0x2a, id 7, no context = 01 00 000000000000002a 0000000000000007 00000000
import { type ConfChange, ConfChangeType } from './types.js';

const headerBytes = 22;

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const ctx = cc.context ?? new Uint8Array(0);
  const out = new Uint8Array(headerBytes + ctx.length);
  const dv = new DataView(out.buffer);
  out[0] = 1;
  out[1] = cc.type;
  dv.setBigUint64(2, cc.nodeId);
  dv.setBigUint64(10, cc.id ?? 0n);
  dv.setUint32(18, ctx.length);
  out.set(ctx, headerBytes);
  return out;
}

/** Throws RangeError on malformed data. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length < headerBytes || data[0] !== 1) throw new RangeError('malformed conf change: bad header');
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const type = data[1]!;
  if (!(type in ConfChangeType)) throw new RangeError(`malformed conf change: unknown type ${type}`);
  const len = dv.getUint32(18);
  if (headerBytes + len !== data.length) throw new RangeError('malformed conf change: bad context length');
  const cc: ConfChange = { type: type as ConfChangeType, nodeId: dv.getBigUint64(2), id: dv.getBigUint64(10) };
  if (len > 0) cc.context = data.slice(headerBytes);
  return cc;
}
