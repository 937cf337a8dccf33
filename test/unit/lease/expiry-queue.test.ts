import { describe, expect, it } from 'vitest';
import { ExpiryQueue } from '../../../src/lease/index.js';

function drain(q: ExpiryQueue): string[] {
  const out: string[] = [];
  for (let e = q.peek(); e; e = q.peek()) {
    out.push(`${e.atMs}:${e.id}`);
    q.delete(e.id);
  }
  return out;
}

describe('ExpiryQueue', () => {
  it('orders by time, then id (negative ids included)', () => {
    const q = new ExpiryQueue();
    q.set(3n, 200);
    q.set(2n, 100);
    q.set(-1n, 100);
    q.set(9n, 50);
    expect(q.size).toBe(4);
    expect(drain(q)).toEqual(['50:9', '100:-1', '100:2', '200:3']);
  });

  it('moving an id replaces its entry (no stale copies)', () => {
    const q = new ExpiryQueue();
    q.set(1n, 100);
    q.set(2n, 150);
    q.set(1n, 300);
    q.set(1n, 120);
    expect(q.size).toBe(2);
    expect(q.at(1n)).toBe(120);
    expect(drain(q)).toEqual(['120:1', '150:2']);
  });

  it('delete of an absent id is a no-op; clear empties', () => {
    const q = new ExpiryQueue();
    q.delete(5n);
    q.set(5n, 1);
    q.clear();
    expect(q.size).toBe(0);
    expect(q.peek()).toBeUndefined();
    expect(q.at(5n)).toBeUndefined();
  });

  it('refuses a non-finite time', () => {
    expect(() => new ExpiryQueue().set(1n, Infinity)).toThrow(/finite/);
  });
});
