// Shared test helpers: temp dirs, seeded randomness, opening a store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backend } from '../../../src/backend/index.js';
import { KvStore, type KvStoreOptions } from '../../../src/mvcc/index.js';

export const B = (s: string): Buffer => Buffer.from(s, 'latin1');
export const ALL = Buffer.from([0]);

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

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mvcc-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function openStore(dir: string, opts: KvStoreOptions = {}): Promise<{ backend: Backend; kv: KvStore }> {
  const backend = await Backend.open(dir);
  const kv = await KvStore.open(backend, opts);
  return { backend, kv };
}

/** Plain view of kvs for deep equality. */
export function plain(kvs: { key: Buffer; value: Buffer; createRevision: number; modRevision: number; version: number; lease: bigint }[]): unknown[] {
  return kvs.map((kv) => ({ key: kv.key.toString('latin1'), value: kv.value.toString('latin1'), c: kv.createRevision, m: kv.modRevision, v: kv.version, l: kv.lease }));
}
