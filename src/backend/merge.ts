// Reading LevelDB through the backend's pending writes: an iterator's chunks with the pending batch
// merged over them, and a generator whose return() releases what it holds even if it never started.
import type { EngineIterator } from './engine.js';

/** An iterator's chunks with the pending writes (null: deleted) merged over them; keys lose `strip` bytes. */
export async function* mergeChunks(it: EngineIterator, overlay: [Buffer, Buffer | null][], strip: number, batchSize: number): AsyncGenerator<[Buffer, Buffer][]> {
  let oi = 0;
  let next = it.nextv(batchSize);
  try {
    for (;;) {
      const chunk = await next;
      if (chunk.length === 0) break;
      next = it.nextv(batchSize); // read ahead while the caller processes this chunk
      // no pending write at or before the chunk's last key: LevelDB's entries as they are
      if (strip === 0 && (oi === overlay.length || Buffer.compare(overlay[oi]![0], chunk[chunk.length - 1]![0]) > 0)) {
        yield chunk;
        continue;
      }
      const out: [Buffer, Buffer][] = [];
      for (const [k, v] of chunk) {
        while (oi < overlay.length && Buffer.compare(overlay[oi]![0], k) < 0) {
          const [ok, ov] = overlay[oi++]!;
          if (ov) out.push([ok.subarray(strip), ov]);
        }
        if (oi < overlay.length && overlay[oi]![0].equals(k)) {
          const [, ov] = overlay[oi++]!;
          if (ov) out.push([k.subarray(strip), ov]);
          continue;
        }
        out.push([k.subarray(strip), v]);
      }
      yield out;
    }
    const rest: [Buffer, Buffer][] = [];
    for (; oi < overlay.length; oi++) {
      const [ok, ov] = overlay[oi]!;
      if (ov) rest.push([ok.subarray(strip), ov]);
    }
    if (rest.length > 0) yield rest;
  } finally {
    await next.catch(() => undefined);
    await it.close();
  }
}

/**
 * The generator, with `close` also run by its return(): a generator returned before it started never
 * runs its own finally, and a captured LevelDB iterator would stay open until the database closes.
 */
export function closingOnReturn<T>(gen: AsyncGenerator<T>, close: () => Promise<void>): AsyncGenerator<T> {
  const ret = gen.return.bind(gen);
  gen.return = async (value) => {
    try {
      return await ret(value);
    } finally {
      await close();
    }
  };
  return gen;
}
