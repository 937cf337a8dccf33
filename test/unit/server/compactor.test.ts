import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Compactor, REVISION_MODE_INTERVAL_MS } from '../../../src/server/compactor.js';

function rig(mode: 'periodic' | 'revision', retention: number) {
  const state = { rev: 1, compacted: 0, leader: true, calls: [] as number[] };
  const c = new Compactor({
    mode,
    retention,
    isLeader: () => state.leader,
    rev: () => state.rev,
    compactRevision: () => state.compacted,
    compact: async (rev) => {
      state.calls.push(rev);
      state.compacted = rev;
    },
    logger: pino({ level: 'silent' }),
  });
  return { c, state };
}

describe('auto compaction', () => {
  it('is off with retention 0', () => {
    expect(rig('periodic', 0).c.intervalMs()).toBeUndefined();
    expect(rig('revision', 0).c.intervalMs()).toBeUndefined();
  });

  it('revision mode compacts to current - N every 5 minutes, never backwards', () => {
    const { c, state } = rig('revision', 10);
    expect(c.intervalMs()).toBe(REVISION_MODE_INTERVAL_MS);
    state.rev = 5;
    c.tick();
    expect(state.calls).toEqual([]);
    state.rev = 25;
    c.tick();
    c.tick();
    expect(state.calls).toEqual([15]);
  });

  it('periodic mode samples every retention/10 and compacts to the sample one retention old', () => {
    const { c, state } = rig('periodic', 1000);
    expect(c.intervalMs()).toBe(100);
    for (let i = 0; i < 10; i++) {
      state.rev = 100 + i;
      c.tick();
    }
    expect(state.calls).toEqual([]);
    state.rev = 200;
    c.tick();
    expect(state.calls).toEqual([100]);
    state.rev = 201;
    c.tick();
    expect(state.calls).toEqual([100, 101]);
  });

  it('caps the periodic sampling interval at 6 minutes for long retentions', () => {
    expect(rig('periodic', 10 * 60 * 60 * 1000).c.intervalMs()).toBe(6 * 60 * 1000);
  });

  it('does nothing on a follower and forgets its samples', () => {
    const { c, state } = rig('periodic', 1000);
    for (let i = 0; i < 10; i++) c.tick();
    state.leader = false;
    c.tick();
    state.leader = true;
    state.rev = 50;
    c.tick();
    expect(state.calls).toEqual([]);
  });
});
