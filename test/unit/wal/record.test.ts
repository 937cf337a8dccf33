import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/pkg/crc32c.js';
import { EntryType } from '../../../src/raft/types.js';
import { decodeEntry, decodeMetadata, decodeSnapshot, decodeState, headerCheck, RecordEncoder, RecordType } from '../../../src/wal/record.js';
import { scanSegment } from '../../../src/wal/segment.js';
import { WalCorruptError } from '../../../src/wal/types.js';
import { rng, randInt } from './helpers.js';

describe('WAL record codec', () => {
  it('encodes the worked example of index.ts byte for byte', () => {
    const enc = new RecordEncoder(0x12345678);
    enc.entry({ index: 5, term: 2, type: EntryType.EntryNormal, data: Buffer.from('hi') });
    expect(enc.bytes().toString('hex')).toBe(
      '4500' + '13000000' + '0b43' + '0500000000000000' + '0200000000000000' + '00' + '6869' + 'ce179506',
    );
    expect(enc.crc).toBe(0x069517ce);
  });

  it('round-trips every record type through a segment scan with the chain intact', () => {
    const enc = new RecordEncoder(0);
    enc.crcRecord(0xdeadbeef);
    enc.metadata({ memberId: 0xfedcba9876543210n, clusterId: 42n });
    enc.state({ term: 2 ** 40 + 3, vote: 0xffffffffffffffffn, commit: 2 ** 52 });
    enc.snapshot({ index: 77, term: 5 });
    enc.entry({ index: 78, term: 5, type: EntryType.EntryConfChange, data: Buffer.from('conf') });
    const scan = scanSegment(Buffer.from(enc.bytes()), 'x.wal', 0xdeadbeef, false);
    expect(scan.tail).toBe('clean');
    expect(scan.crc).toBe(enc.crc);
    expect(scan.records.map((r) => r.type)).toEqual([RecordType.Crc, RecordType.Metadata, RecordType.State, RecordType.Snapshot, RecordType.Entry]);
    const [, md, st, sn, en] = scan.records;
    expect(decodeMetadata(md!.payload)).toEqual({ memberId: 0xfedcba9876543210n, clusterId: 42n });
    expect(decodeState(st!.payload)).toEqual({ term: 2 ** 40 + 3, vote: 0xffffffffffffffffn, commit: 2 ** 52 });
    expect(decodeSnapshot(sn!.payload)).toEqual({ index: 77, term: 5 });
    const e = decodeEntry(en!.payload);
    expect({ ...e, data: Buffer.from(e.data).toString() }).toEqual({ index: 78, term: 5, type: EntryType.EntryConfChange, data: 'conf' });
  });

  it('rejects a segment continuing from a different chain value', () => {
    const enc = new RecordEncoder(0);
    enc.crcRecord(1);
    enc.metadata({ memberId: 1n, clusterId: 2n });
    expect(() => scanSegment(Buffer.from(enc.bytes()), 'x.wal', 2, false)).toThrow(/CRC chain broken/);
  });

  it('the header check is the low 16 bits of crc32c over the first 6 header bytes', () => {
    const r = rng(5);
    for (let i = 0; i < 50; i++) {
      const h = Buffer.from(Array.from({ length: 8 }, () => randInt(r, 0, 255)));
      expect(headerCheck(h, 1)).toBe(crc32c(h.subarray(1, 7)) & 0xffff);
    }
  });

  it('the header check catches every single-bit flip of type, reserved and length', () => {
    const r = rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const h = Buffer.alloc(8);
      h[0] = RecordType.Entry;
      h.writeUInt32LE(randInt(r, 0, 1 << 24), 2);
      const check = headerCheck(h, 0);
      for (let bit = 0; bit < 48; bit++) {
        const f = Buffer.from(h);
        f[bit >> 3]! ^= 1 << (bit & 7);
        expect(headerCheck(f, 0), `trial ${trial} bit ${bit}`).not.toBe(check);
      }
    }
  });

  it('garbage never crashes the scan: a result or WalCorruptError, nothing else', () => {
    const r = rng(99);
    const enc = new RecordEncoder(0);
    enc.crcRecord(0);
    enc.metadata({ memberId: 1n, clusterId: 2n });
    for (let i = 1; i <= 20; i++) enc.entry({ index: i, term: 1, type: EntryType.EntryNormal, data: Buffer.alloc(randInt(r, 0, 40), i) });
    const good = Buffer.from(enc.bytes());
    let ok = 0;
    let refused = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const buf = Buffer.from(good);
      for (let k = randInt(r, 1, 6); k > 0; k--) buf[randInt(r, 0, buf.length - 1)] = randInt(r, 0, 255);
      const cut = buf.subarray(0, randInt(r, 0, buf.length));
      try {
        const scan = scanSegment(cut, 'f.wal', undefined, trial % 2 === 0);
        expect(scan.end).toBeLessThanOrEqual(cut.length);
        ok++;
      } catch (err) {
        expect(err).toBeInstanceOf(WalCorruptError);
        refused++;
      }
    }
    expect(ok).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('a corrupt record in a closed segment is an error naming file and offset', () => {
    const enc = new RecordEncoder(0);
    enc.crcRecord(0);
    enc.metadata({ memberId: 1n, clusterId: 2n });
    const at = enc.length;
    enc.entry({ index: 1, term: 1, type: EntryType.EntryNormal, data: Buffer.from('value') });
    const buf = Buffer.from(enc.bytes());
    buf[at + 30]! ^= 0x10;
    try {
      scanSegment(buf, 'seg.wal', undefined, false);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(WalCorruptError);
      expect((err as WalCorruptError).file).toBe('seg.wal');
      expect((err as WalCorruptError).offset).toBe(at);
    }
  });
});
