import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { bigVarintSize, varintSize, writeBigVarint, writeVarint } from '../../../src/pkg/varint.js';

/** protobufjs's encoding of n as a uint64 varint: the reference. */
function reference(n: number): Buffer {
  return Buffer.from(protobuf.Writer.create().uint64(n).finish());
}

const EDGES = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0xfffffff, 0x10000000, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 32, 2 ** 35 + 3, 2 ** 49 - 1, Number.MAX_SAFE_INTEGER];

describe('varint', () => {
  it('writes what protobufjs writes for every size, from small integers and from a Float64Array', () => {
    const asDoubles = new Float64Array(EDGES);
    for (let i = 0; i < EDGES.length; i++) {
      for (const n of [EDGES[i]!, asDoubles[i]!]) {
        const want = reference(n);
        const b = Buffer.alloc(12, 0xee);
        const end = writeVarint(b, 1, n);
        expect(b.subarray(1, end)).toEqual(want);
        expect(end - 1).toBe(varintSize(n));
        expect(b[0]).toBe(0xee);
        expect(b[end]).toBe(0xee);
      }
    }
  });

  it('writes bigints as protobufjs does', () => {
    for (const n of EDGES) {
      const big = BigInt(n) * 3n;
      const want = Buffer.from(protobuf.Writer.create().uint64(big.toString()).finish());
      const b = Buffer.alloc(12);
      const end = writeBigVarint(b, 0, big);
      expect(b.subarray(0, end)).toEqual(want);
      expect(end).toBe(bigVarintSize(big));
    }
  });
});
