// CRC-32C (Castagnoli), as etcd's WAL and HashKV use it. SIMD implementation from @node-rs/crc32.
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** crc32c(data) or, chained, crc32c(data, previousCrc). */
export function crc32c(data: Uint8Array, previous = 0): number {
  return nativeCrc32c(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), previous) >>> 0;
}
