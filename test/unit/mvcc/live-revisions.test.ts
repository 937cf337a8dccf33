// The revision order of a key-index capture (mvcc/live-revisions.ts): a radix sort on 16-bit digits
// of (main, sub), or a comparison sort for revisions beyond 32 bits; checked against a plain sort.
import { describe, expect, it } from 'vitest';
import { revisionOrder } from '../../../src/mvcc/live-revisions.js';
import { rng } from './helpers.js';

function check(main: number[], sub: number[]): void {
  const want = main.map((_, i) => i).sort((a, b) => main[a]! - main[b]! || sub[a]! - sub[b]!);
  expect([...revisionOrder(Float64Array.from(main), Float64Array.from(sub))]).toEqual(want);
}

describe('revisionOrder', () => {
  it('sorts by main then sub across every 16-bit digit', () => {
    const r = rng(7);
    const seen = new Set<string>();
    const main: number[] = [];
    const sub: number[] = [];
    while (main.length < 5000) {
      const m = [3, 70_000, 2 ** 31 + 5, 123_456_789][Math.floor(r() * 4)]! + Math.floor(r() * 300);
      const s = Math.floor(r() * 4) === 0 ? 65_536 + Math.floor(r() * 100_000) : Math.floor(r() * 50);
      if (seen.has(`${m}_${s}`)) continue;
      seen.add(`${m}_${s}`);
      main.push(m);
      sub.push(s);
    }
    check(main, sub);
    check([5, 4, 3], [0, 0, 0]); // one digit differs
    check([9, 9, 9], [2, 1, 0]); // only subs differ
  });

  it('falls back to comparing revisions wider than 32 bits', () => {
    check([2 ** 40, 2 ** 33 + 1, 2 ** 33, 7], [1, 0, 0, 3]);
  });
});
