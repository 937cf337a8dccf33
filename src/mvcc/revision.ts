// Revision keys as etcd writes them: 8-byte big-endian main, '_', 8-byte big-endian sub, and a
// trailing 't' for a tombstone. Example: (5, 1) → 00 00 00 00 00 00 00 05 5f 00 00 00 00 00 00 00 01.
import { writeU64BE } from '../pkg/bytes.js';

export const revBytesLen = 17;
const tombstoneMark = 0x74; // 't'

export function revToBytes(main: number, sub: number, tombstone = false): Buffer {
  const b = Buffer.allocUnsafe(tombstone ? revBytesLen + 1 : revBytesLen);
  writeRevKey(b, 0, main, sub, tombstone);
  return b;
}

/** The revision key of (main, sub) at b[at..]: 17 bytes, 18 with a tombstone's mark. No allocation. */
export function writeRevKey(b: Uint8Array, at: number, main: number, sub: number, tombstone = false): void {
  writeU64BE(b, at, main);
  b[at + 8] = 0x5f;
  writeU64BE(b, at + 9, sub);
  if (tombstone) b[at + revBytesLen] = tombstoneMark;
}

export function bytesToRev(b: Uint8Array): { main: number; sub: number; tombstone: boolean } {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return {
    main: u64(buf.readUInt32BE(0), buf.readUInt32BE(4)),
    sub: u64(buf.readUInt32BE(9), buf.readUInt32BE(13)),
    tombstone: buf.length === revBytesLen + 1 && buf[revBytesLen] === tombstoneMark,
  };
}

/**
 * hi * 2^32 + lo, as a small integer when hi is 0: `0 * 0x100000000 + lo` is a float64 that V8 keeps
 * boxed (a heap number in every key index field it lands in: 32 MB at 1,000,000 keys).
 */
function u64(hi: number, lo: number): number {
  return hi === 0 ? lo : hi * 0x100000000 + lo;
}

/** A revision as a Map/Set key. */
export function revId(main: number, sub: number): string {
  return `${main}_${sub}`;
}
