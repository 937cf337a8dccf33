// fixedPieces cuts a stream of chunks of any sizes into pieces of one size (the last one shorter),
// the bytes in order, whatever the chunk boundaries.
import { describe, expect, it } from 'vitest';
import { fixedPieces } from '../../../src/pkg/bytes.js';
import { seededRng } from '../../../src/pkg/rng.js';

async function* from(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

async function collect(chunks: Uint8Array[], size: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const p of fixedPieces(from(chunks), size)) out.push(Buffer.from(p)); // copies: a view must not change later
  return out;
}

describe('fixedPieces', () => {
  it('gives pieces of the size asked, the last one shorter, the bytes unchanged', async () => {
    const rng = seededRng(7n);
    for (let round = 0; round < 50; round++) {
      const chunks = Array.from({ length: Math.floor(rng() * 6) }, () => {
        const b = Buffer.alloc(Math.floor(rng() * 40));
        for (let i = 0; i < b.length; i++) b[i] = Math.floor(rng() * 256);
        return b;
      });
      const all = Buffer.concat(chunks);
      const size = 1 + Math.floor(rng() * 16);
      const pieces = await collect(chunks, size);
      expect(Buffer.concat(pieces).equals(all)).toBe(true);
      expect(pieces.length).toBe(Math.ceil(all.length / size));
      for (const p of pieces.slice(0, -1)) expect(p.length).toBe(size);
    }
  });

  it('gives nothing for no bytes', async () => {
    expect(await collect([Buffer.alloc(0)], 4)).toEqual([]);
  });
});
