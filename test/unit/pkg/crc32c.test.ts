// crc32cRange (JavaScript below 4 KiB, native above) agrees with the native crc32c on every length,
// offset and chain value, and with CRC-32C's check value.
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cRange, CRC_RANGE_NATIVE_BYTES } from '../../../src/pkg/crc32c.js';
import { seededRng } from '../../../src/pkg/rng.js';

describe('crc32cRange', () => {
  it('gives the check value of "123456789" (0xe3069283)', () => {
    const b = Buffer.from('xx123456789yy');
    expect(crc32cRange(b, 2, 11)).toBe(0xe3069283);
    expect(crc32c(b.subarray(2, 11))).toBe(0xe3069283);
  });

  it('equals crc32c of the same range, chained or not, for lengths around the native threshold', () => {
    const rng = seededRng(7n);
    const buf = Buffer.alloc(3 * CRC_RANGE_NATIVE_BYTES);
    for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rng() * 256);
    const lengths = [0, 1, 7, 8, 9, 15, 16, 17, 63, 300, 1023, CRC_RANGE_NATIVE_BYTES - 1, CRC_RANGE_NATIVE_BYTES, CRC_RANGE_NATIVE_BYTES + 5];
    for (const n of lengths) {
      for (const start of [0, 1, 3, 8, 13]) {
        const seed = Math.floor(rng() * 2 ** 32);
        expect(crc32cRange(buf, start, start + n, seed)).toBe(crc32c(buf.subarray(start, start + n), seed));
        expect(crc32cRange(buf, start, start + n)).toBe(crc32c(buf.subarray(start, start + n)));
      }
    }
  });
});
