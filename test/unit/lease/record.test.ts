import { describe, expect, it } from 'vitest';
import { decodeLeaseRecord, encodeLeaseRecord, leaseIdFromKey, leaseKey } from '../../../src/lease/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('lease record (etcd leasepb.Lease)', () => {
  it.each([
    { name: 'worked example', rec: { id: 100n, ttl: 30, remainingTTL: 0 }, bytes: '0864101e' },
    { name: 'with checkpoint', rec: { id: 1n, ttl: 600, remainingTTL: 300 }, bytes: '080110d80418ac02' },
    { name: 'max ttl', rec: { id: 5n, ttl: 9_000_000_000, remainingTTL: 0 }, bytes: '08051080b4c4c321' },
    { name: 'negative id (10-byte varint)', rec: { id: -7n, ttl: 2, remainingTTL: 0 }, bytes: '08f9ffffffffffffffff011002' },
  ])('$name', ({ rec, bytes }) => {
    expect(hex(encodeLeaseRecord(rec))).toBe(bytes);
    expect(decodeLeaseRecord(Buffer.from(bytes, 'hex'))).toEqual(rec);
  });

  it('round-trips extreme ids', () => {
    for (const id of [1n, (1n << 63n) - 1n, -(1n << 63n), 0x390da201961f0531n]) {
      expect(decodeLeaseRecord(encodeLeaseRecord({ id, ttl: 2, remainingTTL: 1 })).id).toBe(id);
    }
  });

  it('rejects corrupt bytes', () => {
    expect(() => decodeLeaseRecord(Uint8Array.from([0x08, 0x80]))).toThrow(/truncated/);
    expect(() => decodeLeaseRecord(Uint8Array.from([0x0a, 0x01, 0x00]))).toThrow(/wire type/);
  });

  it.each([
    { id: 100n, key: '0000000000000064' },
    { id: -7n, key: 'fffffffffffffff9' },
    { id: 0x390da201961f0531n, key: '390da201961f0531' },
  ])('key of $id is 8 bytes big-endian', ({ id, key }) => {
    expect(hex(leaseKey(id))).toBe(key);
    expect(leaseIdFromKey(Buffer.from(key, 'hex'))).toBe(id);
  });
});
