import { describe, expect, it } from 'vitest';
import { LEASE_ID_PICK_ATTEMPTS_MAX, pickLeaseId } from '../../../src/lease/index.js';

const source = (values: bigint[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('pickLeaseId', () => {
  it.each([
    { name: 'takes the first candidate', values: [42n], inUse: [], want: 42n },
    { name: 'clears the sign bit', values: [0xc000_0000_0000_0001n], inUse: [], want: 0x4000_0000_0000_0001n },
    { name: 'skips 0', values: [0n, 7n], inUse: [], want: 7n },
    { name: 'skips 1<<63 (0 once masked)', values: [1n << 63n, 9n], inUse: [], want: 9n },
    { name: 'skips ids in use', values: [5n, 6n, 7n], inUse: [5n, 6n], want: 7n },
  ])('$name', ({ values, inUse, want }) => {
    const used = new Set<bigint>(inUse);
    expect(pickLeaseId(source(values), (id) => used.has(id))).toBe(want);
  });

  it('gives up on a source that only yields used ids', () => {
    let calls = 0;
    const next = () => {
      calls++;
      return 5n;
    };
    expect(() => pickLeaseId(next, () => true)).toThrow(/no free lease id/);
    expect(calls).toBe(LEASE_ID_PICK_ATTEMPTS_MAX);
  });
});
