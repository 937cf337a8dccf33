// The reader of etcd 3.4's WAL and .snap files (takeover of a real etcd's data dir), against files
// real etcd 3.4.23 wrote (test/fixtures/etcd-entries/solo.wal, test/fixtures/etcd-takeover/make.sh).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeMemberId } from '../../../src/membership/index.js';
import { readEtcdSnap, readEtcdWal } from '../../../src/wal/index.js';

const fixture = (p: string): Promise<Buffer> => readFile(fileURLToPath(new URL(`../../fixtures/${p}`, import.meta.url)));
const wal = await fixture('etcd-entries/solo.wal');
const snap = await fixture('etcd-takeover/etcd34.snap');

/** The offset of the n-th record's data (n from 0), walking etcd's frames. */
function recordOffset(file: Buffer, n: number): number {
  let p = 0;
  for (let i = 0; i < n; i++) {
    const word = file.readBigUInt64LE(p);
    const top = Number(word >> 56n);
    p += 8 + Number(word & 0xffffffffffffffn) + (top & 0x80 ? top & 7 : 0);
  }
  return p + 8;
}

describe('readEtcdWal', () => {
  it('reads the metadata, contiguous entries and a hard state within them', () => {
    const w = readEtcdWal(wal);
    expect(w.metadata.nodeId).not.toBe(0n);
    expect(w.metadata.clusterId).not.toBe(0n);
    expect(w.entries[0]?.index).toBe(1);
    w.entries.forEach((e, i) => expect(e.index).toBe(i + 1));
    expect(w.hardState.commit).toBeGreaterThan(0);
    expect(w.hardState.commit).toBeLessThanOrEqual(w.entries.at(-1)?.index ?? 0);
    expect(w.snapshots).toEqual([{ index: 0, term: 0 }]);
    expect(w.tornBytes).toBe(0);
  });

  it('refuses a flipped bit in a segment that is not the last', () => {
    const bad = Buffer.from(wal);
    bad[recordOffset(bad, 5) + 3]! ^= 0x01;
    expect(() => readEtcdWal([bad, wal], ['a.wal', 'b.wal'])).toThrow(/etcd WAL a\.wal at offset \d+: crc mismatch/);
  });

  it('drops a torn tail of the last segment and keeps what precedes it', () => {
    const whole = readEtcdWal(wal);
    const cut = recordOffset(wal, 10) + 2;
    const torn = readEtcdWal(wal.subarray(0, cut));
    expect(torn.tornBytes).toBeGreaterThan(0);
    expect(torn.entries.length).toBeLessThan(whole.entries.length);
    expect(torn.entries).toEqual(whole.entries.slice(0, torn.entries.length));
  });
});

describe('readEtcdSnap', () => {
  it("reads etcd's snapshot metadata and its v2 store JSON", () => {
    const s = readEtcdSnap(snap);
    expect(s.metadata.index).toBe(12);
    expect(s.metadata.term).toBe(2);
    expect(s.metadata.confState.voters).toEqual([computeMemberId(['http://127.0.0.1:23801'], 'fix')]);
    expect(s.metadata.confState.learners).toEqual([]);
    expect(JSON.parse(Buffer.from(s.data).toString())).toHaveProperty('Root');
  });

  it('refuses a file whose data fails its crc', () => {
    const bad = Buffer.from(snap);
    bad[bad.length - 10]! ^= 0x01;
    expect(() => readEtcdSnap(bad)).toThrow(/crc mismatch/);
  });
});
