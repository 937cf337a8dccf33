// Test helpers for the WAL: seeded randomness, temp dirs, entry generation.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EntryType, type Entry } from '../../../src/raft/types.js';

/** mulberry32: a small seeded generator (tests must replay exactly). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const randInt = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** Random bytes, none zero (so no record holds a naturally all-zero sector). */
export function randomData(r: () => number, n: number): Uint8Array {
  const d = new Uint8Array(n);
  for (let i = 0; i < n; i++) d[i] = randInt(r, 1, 255);
  return d;
}

export function makeEntries(r: () => number, first: number, count: number, term: number, maxData = 200): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) out.push({ index: first + i, term, type: EntryType.EntryNormal, data: randomData(r, randInt(r, 0, maxData)) });
  return out;
}

export async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'wal-test-'));
}

/** Comparable form of entries (Buffer vs Uint8Array differences do not matter). */
export function plain(entries: Entry[]): Array<{ index: number; term: number; type: number; data: string }> {
  return entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: Buffer.from(e.data).toString('hex') }));
}
