// mvccpb.KeyValue protobuf encoding, as etcd stores values in the key bucket (and hashes them in
// HashKV). Fields: 1 key (bytes), 2 create_revision, 3 mod_revision, 4 version, 5 value (bytes),
// 6 lease (int64); zero values omitted. Example: {key "a", create 2, mod 2, version 1, value "b"} →
// 0a 01 61 10 02 18 02 20 01 2a 01 62.
import type { KeyValue } from './types.js';
import { bigVarintSize, varintSize, writeBigVarint, writeVarint } from '../pkg/varint.js';

export interface EncodedKv {
  bytes: Buffer;
  /** Offset of the value inside bytes (the value is bytes.subarray(valueOffset, valueOffset + value.length)). */
  valueOffset: number;
}

export function encodeKv(kv: KeyValue): EncodedKv {
  const lease = BigInt.asUintN(64, kv.lease);
  let len = 0;
  if (kv.key.length) len += 1 + varintSize(kv.key.length) + kv.key.length;
  if (kv.createRevision) len += 1 + varintSize(kv.createRevision);
  if (kv.modRevision) len += 1 + varintSize(kv.modRevision);
  if (kv.version) len += 1 + varintSize(kv.version);
  if (kv.value.length) len += 1 + varintSize(kv.value.length) + kv.value.length;
  if (lease) len += 1 + bigVarintSize(lease);
  const b = Buffer.allocUnsafe(len);
  let off = 0;
  let valueOffset = len;
  if (kv.key.length) {
    b[off++] = 0x0a;
    off = writeVarint(b, off, kv.key.length);
    off += kv.key.copy(b, off);
  }
  if (kv.createRevision) { b[off++] = 0x10; off = writeVarint(b, off, kv.createRevision); }
  if (kv.modRevision) { b[off++] = 0x18; off = writeVarint(b, off, kv.modRevision); }
  if (kv.version) { b[off++] = 0x20; off = writeVarint(b, off, kv.version); }
  if (kv.value.length) {
    b[off++] = 0x2a;
    off = writeVarint(b, off, kv.value.length);
    valueOffset = off;
    off += kv.value.copy(b, off);
  }
  if (lease) { b[off++] = 0x30; off = writeBigVarint(b, off, lease); }
  return { bytes: b, valueOffset };
}

/** Fields of a stored KeyValue without allocating Buffers (for the index rebuild). */
export interface KvFields {
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
  createRevision: number;
  version: number;
  lease: bigint;
}

function readSmall(b: Buffer, pos: { off: number }): number {
  let result = 0;
  let mul = 1;
  for (;;) {
    const byte = b[pos.off++];
    if (byte === undefined) throw new Error('truncated KeyValue varint');
    result += (byte & 0x7f) * mul;
    if (byte < 0x80) return result;
    mul *= 128;
  }
}

export function decodeKvFields(b: Buffer, out: KvFields): KvFields {
  out.keyStart = out.keyEnd = out.valueStart = out.valueEnd = out.createRevision = out.version = 0;
  out.lease = 0n;
  const pos = { off: 0 };
  while (pos.off < b.length) {
    const tag = b[pos.off++]!;
    const field = tag >> 3;
    if ((tag & 7) === 2) {
      const n = readSmall(b, pos);
      if (field === 1) [out.keyStart, out.keyEnd] = [pos.off, pos.off + n];
      else if (field === 5) [out.valueStart, out.valueEnd] = [pos.off, pos.off + n];
      pos.off += n;
    } else if (field === 6) out.lease = BigInt.asIntN(64, readVarint(b, pos));
    else {
      const v = readSmall(b, pos);
      if (field === 2) out.createRevision = v;
      else if (field === 4) out.version = v;
    }
  }
  return out;
}

function readVarint(b: Buffer, pos: { off: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = b[pos.off++];
    if (byte === undefined) throw new Error('truncated KeyValue varint');
    result |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return result;
    shift += 7n;
  }
}

/** Decode a stored KeyValue; key and value are views into `b`. */
export function decodeKv(b: Buffer): KeyValue {
  const kv: KeyValue = { key: Buffer.alloc(0), createRevision: 0, modRevision: 0, version: 0, value: Buffer.alloc(0), lease: 0n };
  const pos = { off: 0 };
  while (pos.off < b.length) {
    const tag = b[pos.off++]!;
    if ((tag & 7) === 2) {
      const n = Number(readVarint(b, pos));
      const bytes = b.subarray(pos.off, pos.off + n);
      pos.off += n;
      if (tag >> 3 === 1) kv.key = bytes;
      else if (tag >> 3 === 5) kv.value = bytes;
      continue;
    }
    if ((tag & 7) !== 0) throw new Error(`unexpected wire type in KeyValue tag ${tag}`);
    const v = readVarint(b, pos);
    switch (tag >> 3) {
      case 2: kv.createRevision = Number(v); break;
      case 3: kv.modRevision = Number(v); break;
      case 4: kv.version = Number(v); break;
      case 6: kv.lease = BigInt.asIntN(64, v); break;
      default: break;
    }
  }
  return kv;
}
