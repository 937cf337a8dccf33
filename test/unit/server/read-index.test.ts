import { describe, expect, it, vi } from 'vitest';
import { ReadIndexer } from '../../../src/server/read-index.js';

function indexer(opts: { firstId: bigint; applied?: () => number; retryMs?: number; timeoutMs?: number }) {
  const sent: Buffer[] = [];
  let id = opts.firstId;
  const ri = new ReadIndexer({
    requestReadIndex: (ctx) => void sent.push(Buffer.from(ctx)),
    appliedIndex: opts.applied ?? (() => 10),
    nextContext: () => id++,
    retryMs: opts.retryMs,
    timeoutMs: opts.timeoutMs,
    timeoutError: () => new Error('etcdserver: request timed out'),
  });
  return { ri, sent };
}

describe('ReadIndexer', () => {
  it('sends the context the id generator gives, so members with distinct generators never collide', () => {
    const a = indexer({ firstId: 0x1111_0000_0000_0001n });
    const b = indexer({ firstId: 0x2222_0000_0000_0001n });
    void a.ri.waitLinearizable();
    void b.ri.waitLinearizable();
    expect(a.sent[0]!.readBigUInt64BE()).toBe(0x1111_0000_0000_0001n);
    expect(b.sent[0]!.readBigUInt64BE()).toBe(0x2222_0000_0000_0001n);
  });

  it('serves every waiter of a round with one answer once applied reaches the read index', async () => {
    let applied = 3;
    const { ri, sent } = indexer({ firstId: 7n, applied: () => applied });
    const done: number[] = [];
    void ri.waitLinearizable().then(() => done.push(1));
    void ri.waitLinearizable().then(() => done.push(2)); // joins the next round
    ri.onReadState(sent[0]!, 5);
    await Promise.resolve();
    expect(done).toEqual([]);
    applied = 5;
    ri.onApplied(5);
    await Promise.resolve();
    expect(done).toEqual([1]);
    expect(sent).toHaveLength(2);
    ri.onReadState(sent[1]!, 5);
    await Promise.resolve();
    expect(done).toEqual([1, 2]);
  });

  it('sends a round that got no answer again under a new context, and ignores a late answer to the old one', async () => {
    vi.useFakeTimers();
    try {
      const { ri, sent } = indexer({ firstId: 100n, retryMs: 500 });
      let served = false;
      void ri.waitLinearizable().then(() => (served = true));
      expect(sent).toHaveLength(1);
      vi.advanceTimersByTime(499);
      expect(sent).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(sent).toHaveLength(2);
      expect(sent[1]!.readBigUInt64BE()).toBe(101n);
      ri.onReadState(sent[0]!, 1); // the old context: not this round
      await Promise.resolve();
      expect(served).toBe(false);
      ri.onReadState(sent[1]!, 1);
      await Promise.resolve();
      expect(served).toBe(true);
      vi.advanceTimersByTime(5000);
      expect(sent).toHaveLength(2); // answered: no more retries
    } finally {
      vi.useRealTimers();
    }
  });

  it('fails a read that no round answered within the request timeout (no leader), and stops sending rounds', async () => {
    vi.useFakeTimers();
    try {
      const { ri, sent } = indexer({ firstId: 1n, retryMs: 500, timeoutMs: 2000 });
      const outcome = ri.waitLinearizable().then(() => 'served', (e: Error) => e.message);
      vi.advanceTimersByTime(2000);
      await expect(outcome).resolves.toBe('etcdserver: request timed out');
      const rounds = sent.length;
      vi.advanceTimersByTime(5000);
      expect(sent.length).toBe(rounds);
    } finally {
      vi.useRealTimers();
    }
  });
});
