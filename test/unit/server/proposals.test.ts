// Proposals' hang guard: a proposal not applied within the request timeout fails with etcd's "request
// timed out"; applied ones are forgotten at once (no record of them waits for the deadline).
import { describe, expect, it } from 'vitest';
import { WaitRegistry } from '../../../src/pkg/wait.js';
import { EtcdError } from '../../../src/server/errors.js';
import { Proposals } from '../../../src/server/proposals.js';

const settled = async (p: Promise<unknown>): Promise<string> => {
  const tag = await Promise.race([p.then((v) => `ok ${String(v)}`, (e: unknown) => `err ${e instanceof Error ? e.message : String(e)}`), new Promise((r) => setTimeout(() => r('pending'), 0))]);
  return tag as string;
};

describe('WaitRegistry deadlines', () => {
  it('expire() fails only the waiters whose deadline passed, oldest first, and counts them', async () => {
    const w = new WaitRegistry<string>();
    const a = w.register(1n, 100);
    const b = w.register(2n, 100);
    const c = w.register(3n, 200);
    const d = w.register(4n); // no deadline
    w.trigger(2n, 'two');
    expect(w.expire(99, () => new Error('late'))).toBe(0);
    expect(w.expire(100, () => new Error('late'))).toBe(1);
    expect([await settled(a), await settled(b), await settled(c), await settled(d)]).toEqual(['err late', 'ok two', 'pending', 'pending']);
    expect(w.expire(1e15, () => new Error('late'))).toBe(1);
    expect([w.size, w.isRegistered(4n), await settled(c)]).toEqual([1, true, 'err late']);
  });
});

describe('Proposals', () => {
  it('fails a proposal after the request timeout with "request timed out", and drops it from the no-leader queue', async () => {
    const p = new Proposals<string>(1000);
    const slow = p.register(7n, 5000);
    const held = p.register(8n, 5500);
    p.hold(8n, new Uint8Array([1]));
    const fast = p.register(9n, 5900);
    p.waits.trigger(9n, 'applied');
    expect(p.expire(5999)).toBe(0);
    expect(p.expire(6000)).toBe(1);
    expect(await settled(slow)).toBe(`err ${new EtcdError('Timeout').message}`);
    expect(await settled(fast)).toBe('ok applied');
    expect(p.takeHeld().map((h) => h.id)).toEqual([8n]);
    p.hold(8n, new Uint8Array([1]));
    expect(p.expire(6500)).toBe(1);
    expect(await settled(held)).toMatch(/^err /);
    expect(p.takeHeld()).toEqual([]);
    expect(p.waits.size).toBe(0);
  });
});
