import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest } from '../../../src/server/internal-request.js';

describe('internal raft request codec', () => {
  it('round-trips a put with 64-bit ids beyond 2^53 exactly', () => {
    const data = encodeRequest({
      header: { ID: '18446744073709551615' },
      put: { key: Buffer.from('foo'), value: Buffer.from('bar'), lease: '7587868869541460000', prev_kv: true, ignore_value: false, ignore_lease: false },
    });
    const req = decodeRequest(data);
    expect(req.header.ID).toBe('18446744073709551615');
    expect(req.put?.key.toString()).toBe('foo');
    expect(req.put?.value.toString()).toBe('bar');
    expect(req.put?.lease).toBe('7587868869541460000');
    expect(req.put?.prev_kv).toBe(true);
    expect(req.range).toBeNull();
  });

  it('keeps the oneof shape of txn compares and ops as the gRPC layer delivers them', () => {
    const data = encodeRequest({
      header: { ID: '1' },
      txn: {
        compare: [{ result: 'EQUAL', target: 'MOD', key: Buffer.from('k'), range_end: Buffer.alloc(0), mod_revision: '0', target_union: 'mod_revision' }],
        success: [{ request_put: { key: Buffer.from('k'), value: Buffer.from('v'), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false }, request: 'request_put' }],
        failure: [],
      },
    } as Parameters<typeof encodeRequest>[0]);
    const txn = decodeRequest(data).txn!;
    expect(txn.compare[0]).toMatchObject({ result: 'EQUAL', target: 'MOD', mod_revision: '0', target_union: 'mod_revision' });
    expect(txn.success[0]!.request).toBe('request_put');
    expect(txn.success[0]!.request_put?.value.toString()).toBe('v');
    expect(txn.failure).toEqual([]);
  });

  it('fills defaults of a present request and leaves the others null', () => {
    const req = decodeRequest(encodeRequest({ header: { ID: '5' }, range: { key: Buffer.from('a') } as never }));
    expect(req.range).toMatchObject({ limit: '0', revision: '0', serializable: false, sort_order: 'NONE' });
    expect(req.put).toBeNull();
  });
});
