import { describe, expect, it } from 'vitest';
import { TIER_UP_DIVISOR, tierUpFlags, tierUpSooner } from '../../../src/platform/tier-up.js';

describe('tierUpSooner', () => {
  it("asks Node 20's V8 for a smaller interrupt budget", () => {
    expect(TIER_UP_DIVISOR).toBe(4);
    expect(tierUpFlags('11.3.244.8-node.38')).toEqual(['--interrupt-budget=16896']);
  });

  it("asks Node 22's and 24's V8 for fewer invocations before TurboFan and Maglev", () => {
    const flags = ['--invocation-count-for-turbofan=750', '--invocation-count-for-maglev=100'];
    expect(tierUpFlags('12.4.254.21-node.57')).toEqual(flags);
    expect(tierUpFlags('13.6.233.10-node.24')).toEqual(flags);
  });

  it('sets nothing for a V8 it does not know', () => {
    expect(tierUpFlags('10.2.154.26')).toEqual([]);
    expect(tierUpFlags('')).toEqual([]);
  });

  it("leaves node's own tier-up flags alone", () => {
    expect(tierUpSooner(['--interrupt-budget=1000'], '11.3.244.8')).toEqual([]);
    expect(tierUpSooner(['--invocation_count_for_turbofan=10'], '12.4.254.21')).toEqual([]);
    expect(tierUpSooner(['--invocation-count-for-maglev=10'], '12.4.254.21')).toEqual([]);
  });
});
