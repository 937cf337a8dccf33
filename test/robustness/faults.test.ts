import { describe, expect, it } from 'vitest';
import { PROFILES, soleMemberFault, type FaultKind } from './faults.js';

describe('faults with one member', () => {
  const first = <T>(a: T[]): T => a[0]!;
  it('keeps what one member can suffer and turns the rest into its own kill, pause or torn WAL', () => {
    for (const k of ['kill-leader', 'pause-leader', 'kill-all', 'kill-follower-torn-wal', 'failpoint'] as FaultKind[]) expect(soleMemberFault(k, first)).toBe(k);
    expect(soleMemberFault('kill-follower', first)).toBe('kill-leader');
    expect(soleMemberFault('replace-follower', first)).toBe('kill-leader');
    expect(soleMemberFault('pause-follower', first)).toBe('pause-leader');
    expect(soleMemberFault('failpoint-during-partition', first)).toBe('failpoint');
    expect(soleMemberFault('bridge', first)).toBe('kill-leader');
    const sole = new Set(['kill-leader', 'pause-leader', 'kill-all', 'kill-follower-torn-wal', 'failpoint']);
    for (const k of Object.values(PROFILES).flat()) expect(sole.has(soleMemberFault(k, first))).toBe(true);
  });
});
