// The worker's SHA-256 equals node:crypto's over the same bytes, whatever the chunks' sizes: small
// ones, ones that wrap around the ring, ones larger than the ring (which wait for room).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inlineSha256, workerSha256 } from '../../../src/platform/sha256-worker.js';

async function both(chunks: Uint8Array[]): Promise<[string, string]> {
  const h = workerSha256();
  try {
    for (const c of chunks) await h.update(c);
    const ref = createHash('sha256');
    for (const c of chunks) ref.update(c);
    return [(await h.digest()).toString('hex'), ref.digest('hex')];
  } finally {
    h.close();
  }
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe('inlineSha256', () => {
  it('equals createHash', async () => {
    const h = inlineSha256();
    const ref = createHash('sha256');
    for (const n of [0, 5, 70_000]) {
      expect(h.update(bytes(n, n))).toBeUndefined();
      ref.update(bytes(n, n));
    }
    expect((await h.digest()).toString('hex')).toBe(ref.digest('hex'));
  });
});

describe('workerSha256', () => {
  it('hashes nothing as sha256 of nothing', async () => {
    const [got, want] = await both([]);
    expect(got).toBe(want);
    expect(got).toBe(createHash('sha256').digest('hex'));
  });

  it('equals createHash over chunks of every size, the ring wrapping and overflowing', async () => {
    const sizes = [1, 8192, 32 * 1024, 1 << 20, (1 << 20) + 7, 3 * (1 << 20) + 5, 9 * (1 << 20) + 1, 100, 0, 4 * (1 << 20)];
    const chunks = sizes.map((n, i) => bytes(n, i));
    const [got, want] = await both(chunks);
    expect(got).toBe(want);
  });

  it('keeps the order of many chunks given without waiting between them', async () => {
    const h = workerSha256();
    const ref = createHash('sha256');
    try {
      for (let i = 0; i < 200; i++) {
        const c = bytes(40_000 + i, i);
        ref.update(c);
        const room = h.update(c);
        if (room) await room;
        c.fill(0); // the chunk's bytes were copied: changing it afterwards changes nothing
      }
      expect((await h.digest()).toString('hex')).toBe(ref.digest('hex'));
    } finally {
      h.close();
    }
  });
});
