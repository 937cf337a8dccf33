// WAL record codec: the byte layout is documented (with a worked example) in ./index.ts.
import { crc32c } from '../pkg/crc32c.js';
import type { Entry, HardState } from '../raft/types.js';
import type { WalMetadata, WalSnapshotMarker } from './types.js';

export const RecordType = {
  Crc: 0x43, // 'C'
  Metadata: 0x44, // 'D'
  Entry: 0x45, // 'E'
  Snapshot: 0x4d, // 'M' (snapshot marker)
  State: 0x53, // 'S' (hard state)
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];
const knownTypes = new Set<number>(Object.values(RecordType));

export const HEADER_BYTES = 8;
export const TRAILER_BYTES = 4;
export const RECORD_OVERHEAD_BYTES = HEADER_BYTES + TRAILER_BYTES;
/** Largest payload we write or trust when reading (a named limit; etcd's request limit is far below). */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;
const TWO_32 = 0x1_0000_0000;

export function isKnownType(t: number): t is RecordType {
  return knownTypes.has(t);
}

// CRC-32C table for the 6-byte header check: a JS loop over 6 bytes costs a tenth of a native call.
const CRC32C_TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC32C_TABLE[n] = c;
}

/** Header check: low 16 bits of crc32c over bytes [0, 6) of the header (type, reserved, length). */
export function headerCheck(buf: Buffer, at: number): number {
  let c = -1;
  for (let i = at; i < at + 6; i++) c = CRC32C_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c & 0xffff;
}

export function writeU64(buf: Buffer, at: number, n: number): void {
  buf.writeUInt32LE(n >>> 0, at);
  buf.writeUInt32LE(Math.floor(n / TWO_32), at + 4);
}

export function readU64(buf: Buffer, at: number): number {
  const v = buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * TWO_32;
  if (!Number.isSafeInteger(v)) throw new RangeError(`u64 at ${at} is beyond 2^53`);
  return v;
}

/**
 * Appends records to a growable scratch buffer. One encoder per WAL: reset() before each save; the
 * bytes are valid until the next reset. `crc` is the running chain value (the last record's CRC).
 */
export class RecordEncoder {
  buf: Buffer;
  length = 0;

  constructor(
    public crc: number,
    initialBytes = 64 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  reset(): void {
    this.length = 0;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  private reserve(payloadBytes: number): number {
    if (payloadBytes > MAX_PAYLOAD_BYTES) throw new RangeError(`WAL record of ${payloadBytes} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
    const need = this.length + RECORD_OVERHEAD_BYTES + payloadBytes;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    return this.length;
  }

  /** Writes header and trailer around a payload already placed at start + HEADER_BYTES. */
  private seal(start: number, type: RecordType, payloadBytes: number, seed: number): void {
    const b = this.buf;
    b[start] = type;
    b[start + 1] = 0;
    b.writeUInt32LE(payloadBytes, start + 2);
    b.writeUInt16LE(headerCheck(b, start), start + 6);
    const end = start + HEADER_BYTES + payloadBytes;
    this.crc = crc32c(b.subarray(start, end), seed);
    b.writeUInt32LE(this.crc, end);
    this.length = end + TRAILER_BYTES;
  }

  /** The first record of every segment: carries the chain value of the previous segment. */
  crcRecord(previousCrc: number): void {
    const at = this.reserve(4);
    this.buf.writeUInt32LE(previousCrc >>> 0, at + HEADER_BYTES);
    this.seal(at, RecordType.Crc, 4, previousCrc >>> 0);
  }

  metadata(m: WalMetadata): void {
    const name = m.name === undefined ? undefined : Buffer.from(m.name, 'utf8');
    const n = 16 + (name ? 2 + name.length : 0);
    const at = this.reserve(n);
    this.buf.writeBigUInt64LE(m.memberId, at + HEADER_BYTES);
    this.buf.writeBigUInt64LE(m.clusterId, at + HEADER_BYTES + 8);
    if (name) {
      this.buf.writeUInt16LE(name.length, at + HEADER_BYTES + 16);
      name.copy(this.buf, at + HEADER_BYTES + 18);
    }
    this.seal(at, RecordType.Metadata, n, this.crc);
  }

  state(hs: HardState): void {
    const at = this.reserve(24);
    writeU64(this.buf, at + HEADER_BYTES, hs.term);
    writeU64(this.buf, at + HEADER_BYTES + 8, hs.commit);
    this.buf.writeBigUInt64LE(hs.vote, at + HEADER_BYTES + 16);
    this.seal(at, RecordType.State, 24, this.crc);
  }

  snapshot(s: WalSnapshotMarker): void {
    const at = this.reserve(16);
    writeU64(this.buf, at + HEADER_BYTES, s.index);
    writeU64(this.buf, at + HEADER_BYTES + 8, s.term);
    this.seal(at, RecordType.Snapshot, 16, this.crc);
  }

  entry(e: Entry): void {
    const n = 17 + e.data.length;
    const at = this.reserve(n);
    const p = at + HEADER_BYTES;
    writeU64(this.buf, p, e.index);
    writeU64(this.buf, p + 8, e.term);
    this.buf[p + 16] = e.type;
    this.buf.set(e.data, p + 17);
    this.seal(at, RecordType.Entry, n, this.crc);
  }
}

/** Metadata payload: u64 memberId, u64 clusterId, then optionally u16 n + n bytes of UTF-8 name. */
export function decodeMetadata(p: Buffer): WalMetadata {
  const m: WalMetadata = { memberId: p.readBigUInt64LE(0), clusterId: p.readBigUInt64LE(8) };
  if (p.length >= 18) m.name = p.toString('utf8', 18, 18 + p.readUInt16LE(16));
  return m;
}

export function decodeState(p: Buffer): HardState {
  return { term: readU64(p, 0), commit: readU64(p, 8), vote: p.readBigUInt64LE(16) };
}

export function decodeSnapshot(p: Buffer): WalSnapshotMarker {
  return { index: readU64(p, 0), term: readU64(p, 8) };
}

/** Copies the data out: the caller may keep the entry after the segment buffer is dropped. */
export function decodeEntry(p: Buffer): Entry {
  return { index: readU64(p, 0), term: readU64(p, 8), type: p[16]!, data: Uint8Array.prototype.slice.call(p, 17) };
}

export function expectedPayloadBytes(type: RecordType): number | undefined {
  switch (type) {
    case RecordType.Crc:
      return 4;
    case RecordType.Snapshot:
      return 16;
    case RecordType.Metadata: // 16, or more with the member name
      return undefined;
    case RecordType.State:
      return 24;
    case RecordType.Entry:
      return undefined;
  }
}
