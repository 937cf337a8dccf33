// The key index image: a store opened from the image of its last close is the store a scan of the
// backend gives (same index, revisions, compaction, HashKV, lease attachments); an image that is
// corrupt, truncated, stale or otherwise odd is refused whole and the open scans instead.
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Backend } from '../../../src/backend/index.js';
import { KvStore, type LeaseIndex } from '../../../src/mvcc/index.js';
import type { TreeIndex } from '../../../src/mvcc/key-index.js';
import type { Logger } from '../../../src/pkg/logger.js';
import { ALL, B, plain, rng, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

interface Log {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

function captureLogger(): { logger: Logger; lines: Log[] } {
  const lines: Log[] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push({ level, obj, msg });
  const l = { child: () => l, info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'), debug: at('debug'), trace: at('trace') };
  return { logger: l as unknown as Logger, lines };
}

function leaseRecorder(): { leases: LeaseIndex; attached: string[] } {
  const attached: string[] = [];
  return {
    attached,
    leases: { exists: (l) => l >= 1n && l <= 3n, attach: (l, k) => attached.push(`${l}:${k.toString('latin1')}`), detach: () => undefined },
  };
}

/** Seeded puts, overwrites, leases, deletes (single and range) and multi-put txns over 12 keys. */
function randomOps(kv: KvStore, next: () => number, count: number, idx: { n: number }): void {
  const key = (): Buffer => B(`k${String(Math.floor(next() * 12)).padStart(2, '0')}`);
  for (let i = 0; i < count; i++) {
    const r = next();
    if (r < 0.55) kv.put(++idx.n, { key: key(), value: B(`v${i}`), lease: next() < 0.25 ? BigInt(1 + Math.floor(next() * 3)) : 0n });
    else if (r < 0.7) kv.deleteRange(++idx.n, { key: key() });
    else if (r < 0.75) kv.deleteRange(++idx.n, { key: B('k0'), rangeEnd: B('k05') });
    else {
      const w = kv.write(++idx.n);
      try {
        w.put(key(), B(`t${i}a`));
        w.put(key(), B(`t${i}b`), next() < 0.5 ? 2n : 0n);
      } finally {
        w.end();
      }
    }
  }
}

function indexOf(kv: KvStore): TreeIndex {
  return (kv as unknown as { core: { index: TreeIndex } }).core.index;
}

/** Everything a client (or the lessor) can see of a store, plus its index's generations. */
async function stateOf(kv: KvStore, attached: string[]): Promise<unknown> {
  await kv.settle();
  const ranges: unknown[] = [];
  const hashes: unknown[] = [];
  for (let r = 1; r <= kv.rev(); r++) {
    try {
      ranges.push(plain(kv.range(B('\0'), ALL, { revision: r }).kvs));
    } catch (err) {
      ranges.push(String(err));
    }
    if (r > kv.compactRevision()) hashes.push(await kv.hashKV(r));
  }
  const index = [...indexOf(kv).sorted()].map((ki) => ({ key: ki.key, gens: ki.gens, value: ki.hasValue() ? ki.value().toString('latin1') : null, lease: ki.lease }));
  // the hash of the whole backend: an interrupted physical compaction must have been finished
  // the live bytes of the value arena: a refused image must take back the values it put there
  const valueBytes = indexOf(kv).values.usage().liveBytes;
  return { rev: kv.rev(), compactRev: kv.compactRevision(), ranges, hashes, backendHash: await kv.hash(), index, valueBytes, attached: [...attached].sort() };
}

async function* chunksOf(b: Buffer, size = 97): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

type Compaction = 'none' | 'finished' | 'unfinished';

/** Build a store, close it, return its image and what it looked like just before. */
async function buildAndClose(compaction: Compaction, seed: number): Promise<{ image: Buffer; live: unknown }> {
  const rec = leaseRecorder();
  const backend = await Backend.open(dir);
  const kv = await KvStore.open(backend, { leases: rec.leases, compactionBatchLimit: 2 });
  const next = rng(seed);
  const idx = { n: 0 };
  randomOps(kv, next, 150, idx);
  if (compaction === 'finished') {
    kv.compact(++idx.n, kv.rev() - 40);
    await kv.settle();
    randomOps(kv, next, 60, idx);
  }
  if (compaction === 'unfinished') kv.compact(++idx.n, kv.rev() - 10);
  const image = Buffer.concat([...kv.image()]);
  const live = compaction === 'unfinished' ? undefined : await stateOf(kv, []);
  await backend.commit({ sync: true });
  await backend.close(); // an unfinished physical compaction stops here and resumes at the next open
  await kv.settle();
  return { image, live };
}

async function openCopy(name: string, image?: AsyncIterable<Buffer>): Promise<{ kv: KvStore; state: unknown; lines: Log[]; backend: Backend }> {
  const copy = join(dir, '..', `${dir.split('/').pop()}-${name}`);
  await cp(dir, copy, { recursive: true });
  const rec = leaseRecorder();
  const { logger, lines } = captureLogger();
  const backend = await Backend.open(copy);
  const kv = await KvStore.open(backend, { leases: rec.leases, logger, image });
  const state = await stateOf(kv, rec.attached);
  await backend.close();
  return { kv, state, lines, backend };
}

const openedFrom = (lines: Log[]): unknown => lines.find((l) => l.msg === 'mvcc store opened')?.obj.from;
const refusal = (lines: Log[]): string => String(lines.find((l) => l.level === 'warn')?.obj.err ?? '');

describe('key index image', () => {
  for (const compaction of ['none', 'finished', 'unfinished'] as const) {
    it(`opens to the same store as a scan (compaction: ${compaction})`, async () => {
      const { image, live } = await buildAndClose(compaction, 7);
      const scanned = await openCopy('scan');
      const loaded = await openCopy('image', chunksOf(image));
      expect(openedFrom(scanned.lines)).toBe('scan');
      expect(openedFrom(loaded.lines)).toBe('image');
      expect(refusal(loaded.lines)).toBe('');
      expect(loaded.state).toEqual(scanned.state);
      if (live) expect({ ...(live as object), attached: [] }).toEqual({ ...(scanned.state as object), attached: [] });
      const s = scanned.state as { index: unknown[]; attached: unknown[]; compactRev: number };
      expect(s.index.length).toBeGreaterThan(5);
      expect(s.attached.length).toBeGreaterThan(0);
      if (compaction !== 'none') expect(s.compactRev).toBeGreaterThan(0);
    });
  }

  it('opens an empty store from its image, and writes to it after', async () => {
    const backend = await Backend.open(dir);
    const kv = await KvStore.open(backend);
    const image = Buffer.concat([...kv.image()]);
    await backend.close();
    const loaded = await openCopy('image', chunksOf(image));
    expect(openedFrom(loaded.lines)).toBe('image');
    expect(loaded.kv.rev()).toBe(1);
    expect((loaded.state as { index: unknown[] }).index).toEqual([]);
  });

  const refusals: Array<[string, (img: Buffer) => Buffer, RegExp]> = [
    ['a flipped byte', (img) => flip(img, Math.floor(img.length / 2)), /CRC mismatch|record/],
    ['a flipped CRC', (img) => flip(img, img.length - 1), /CRC mismatch/],
    ['a truncated file', (img) => img.subarray(0, img.length - 30), /truncated|CRC|after the last key/],
    ['a file cut inside the header', (img) => img.subarray(0, 20), /short header/],
    ['an empty file', () => Buffer.alloc(0), /short header/],
    ['bytes after the CRC', (img) => Buffer.concat([img, Buffer.from([0])]), /after the last key/],
    ['a bad magic', (img) => flip(img, 0), /bad magic/],
    ['another format version', (img) => flip(img, 8), /format/],
  ];
  for (const [what, damage, reason] of refusals) {
    it(`refuses ${what} and scans`, async () => {
      const { image } = await buildAndClose('finished', 11);
      const scanned = await openCopy('scan');
      const loaded = await openCopy('image', chunksOf(damage(image)));
      expect(openedFrom(loaded.lines)).toBe('scan');
      expect(refusal(loaded.lines)).toMatch(reason);
      expect(loaded.state).toEqual(scanned.state);
    });
  }

  it('refuses an image of an earlier state (consistent index differs) and scans', async () => {
    const backend = await Backend.open(dir);
    const kv = await KvStore.open(backend);
    kv.put(1, { key: B('a'), value: B('1') });
    const image = Buffer.concat([...kv.image()]);
    kv.put(2, { key: B('a'), value: B('2') });
    await backend.close();
    const loaded = await openCopy('image', chunksOf(image));
    expect(openedFrom(loaded.lines)).toBe('scan');
    expect(refusal(loaded.lines)).toMatch(/consistent index 1, backend at 2/);
    expect(loaded.kv.rev()).toBe(3);
  });

  it('refuses an image whose revision is not the backend newest, even at the same consistent index', async () => {
    const backend = await Backend.open(dir);
    const kv = await KvStore.open(backend);
    kv.put(1, { key: B('a'), value: B('1') });
    const image = Buffer.concat([...kv.image()]);
    const w = kv.write(1); // a revision written behind the image's back, under the same consistent index
    w.put(B('b'), B('x'));
    w.end();
    await backend.close();
    const loaded = await openCopy('image', chunksOf(image));
    expect(openedFrom(loaded.lines)).toBe('scan');
    expect(refusal(loaded.lines)).toMatch(/revisions after the image's 2/);
    expect((loaded.state as { valueBytes: number }).valueBytes).toBe(2); // 'a' -> '1' and 'b' -> 'x', nothing of the image's
  });

  it('refuses an image with keys out of order', async () => {
    const backend = await Backend.open(dir);
    const kv = await KvStore.open(backend);
    kv.put(1, { key: B('a'), value: B('1') });
    kv.put(2, { key: B('b'), value: B('2') });
    const image = Buffer.concat([...kv.image()]);
    await backend.close();
    // swap the two one-byte keys and fix the CRC: a well-formed image with unsorted keys
    const swapped = Buffer.from(image);
    const at = (k: number): number => image.indexOf(Buffer.from([1, 0, 0, 0, k]), 44) + 4;
    [swapped[at(0x61)], swapped[at(0x62)]] = [0x62, 0x61];
    const { crc32c } = await import('../../../src/pkg/crc32c.js');
    swapped.writeUInt32LE(crc32c(swapped.subarray(0, swapped.length - 4)), swapped.length - 4);
    const loaded = await openCopy('image', chunksOf(swapped));
    expect(openedFrom(loaded.lines)).toBe('scan');
    expect(refusal(loaded.lines)).toMatch(/sorted|order|ascending/i);
    expect(plain(loaded.kv.range(B('a'), ALL).kvs).map((x) => (x as { value: string }).value)).toEqual(['1', '2']);
  });
});

function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0xff;
  return c;
}

describe('index image codec', () => {
  it('round-trips revisions and versions up to 2^53 - 1, both forms, leases and deleted keys', async () => {
    const { TreeIndex } = await import('../../../src/mvcc/key-index.js');
    const { decodeImage, encodeImage } = await import('../../../src/mvcc/index-image.js');
    const big = Number.MAX_SAFE_INTEGER;
    const index = new TreeIndex();
    const a = index.newKey('a');
    a.restoreForm(null, 2 ** 40 + 3, 2 ** 32, 2 ** 33 + 1, big);
    a.setValue(Buffer.from('x'.repeat(300)));
    a.lease = -5n;
    const b = index.newKey('b\u00ff');
    b.restoreForm([{ ver: 2, created: 7, revs: [7, 0, big, 1] }, { ver: 0, created: 0, revs: [] }], 0, 0, 0, 0);
    index.loadSorted(['a', 'b\u00ff'], [a, b]);
    const header = { consistentIndex: 2 ** 50, currentRev: big, compactRev: -1, keyCount: 2 };
    const bytes = Buffer.concat([...encodeImage(index, header)]);
    const seen: unknown[] = [];
    const img = await decodeImage(chunksOf(bytes, 5), (h) => void seen.push(h), new TreeIndex());
    expect(seen).toEqual([header]);
    expect(img.keys).toEqual(['a', 'b\u00ff']);
    expect(img.kis.map((k) => [k.gens, k.hasValue() ? k.value().toString() : null, k.lease])).toEqual([
      [a.gens, 'x'.repeat(300), -5n],
      [b.gens, null, 0n],
    ]);
  });
});
