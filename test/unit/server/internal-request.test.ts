import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  clusterVersionRequest, decodeEntry, encodeRequest, encodeV2Request, healthRequest, newV2Request, onlyBackendState, publishRequest, syncRequest,
  type InternalRaftRequest,
} from '../../../src/server/internal-request.js';

/** The v3 request in entry data (throws if it is a bare Request). */
function decodeRequest(data: Uint8Array): InternalRaftRequest {
  const e = decodeEntry(data);
  if (e.kind !== 'v3') throw new Error('a bare Request');
  return e.req;
}

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

  it('reads a hot write (header and put, delete_range or txn) to the very object protobufjs gives', () => {
    const put = { key: Buffer.from('k'), value: Buffer.from('v'), lease: '-3', prev_kv: true, ignore_value: false, ignore_lease: false };
    const txn = {
      compare: [{ result: 'NOT_EQUAL', target: 'VALUE', key: Buffer.from('k'), range_end: Buffer.alloc(0), value: Buffer.alloc(0), target_union: 'value' }],
      success: [{ request_delete_range: { key: Buffer.from('a'), range_end: Buffer.from('b'), prev_kv: false }, request: 'request_delete_range' }],
      failure: [{ request_range: { key: Buffer.from('a'), sort_order: 'DESCEND', limit: '2' }, request: 'request_range' }],
    };
    const writes = [
      { header: { ID: '18446744073709551615' }, put },
      { header: { ID: '7' }, delete_range: { key: Buffer.from('a'), range_end: Buffer.from('\0'), prev_kv: true } },
      { header: { ID: '9223372036854775808' }, txn },
    ] as Parameters<typeof encodeRequest>[0][];
    for (const w of writes) {
      const data = encodeRequest(w);
      // an unknown field (99, varint) sends the same bytes through protobufjs instead
      const viaProtobufjs = decodeRequest(Buffer.concat([data, Buffer.from('980601', 'hex')]));
      const ours = decodeRequest(data);
      expect(JSON.stringify(ours)).toBe(JSON.stringify(viaProtobufjs));
      expect(ours).toStrictEqual(viaProtobufjs);
    }
  });

  it('keeps every other field of the message next to a hot write (none is dropped by the hand codec)', () => {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => fileURLToPath(new URL(`../../../proto/${target.replace(/^.*\//, '')}`, import.meta.url));
    root.loadSync('raft_internal.proto', { keepCase: true });
    const fields = root.lookupType('etcdserverpb.InternalRaftRequest').fieldsArray.map((f) => f.name).filter((f) => f !== 'v2' && f !== 'ID');
    expect(fields.length).toBeGreaterThan(10);
    for (const name of fields.filter((f) => !['header', 'put', 'delete_range', 'txn'].includes(f))) {
      const req = { header: { ID: '1' }, put: { key: Buffer.from('k') }, [name]: {} } as unknown as Parameters<typeof encodeRequest>[0];
      const back = decodeRequest(encodeRequest(req)) as unknown as Record<string, unknown>;
      expect(back[name], name).not.toBeNull();
      expect((back.put as { key: Buffer }).key.toString(), name).toBe('k');
    }
  });

  it('fills defaults of a present request and leaves the others null', () => {
    const req = decodeRequest(encodeRequest({ header: { ID: '5' }, range: { key: Buffer.from('a') } as never }));
    expect(req.range).toMatchObject({ limit: '0', revision: '0', serializable: false, sort_order: 'NONE' });
    expect(req.put).toBeNull();
  });
});

describe('onlyBackendState (replayed entries skipped without decoding)', () => {
  const put = { key: Buffer.from('k'), value: Buffer.from('v'), lease: '7587868869541460000', prev_kv: false, ignore_value: false, ignore_lease: false };
  const v3: Array<[string, Parameters<typeof encodeRequest>[0]]> = [
    ['a put with a 64-bit header id and lease', { header: { ID: '18446744073709551615' }, put }],
    ['a compaction', { header: { ID: '3' }, compaction: { revision: '5', physical: false } }],
    ['a lease grant', { header: { ID: '4' }, lease_grant: { TTL: '60', ID: '9' } }],
  ];
  for (const [what, req] of v3) {
    it(`${what}: true`, () => {
      const data = encodeRequest(req);
      expect(onlyBackendState(data)).toBe(true);
      expect(decodeEntry(data).kind).toBe('v3');
    });
  }
  const v2: Array<[string, Parameters<typeof encodeV2Request>[0]]> = [
    ['a v2 set', newV2Request({ ID: 5n, Method: 'PUT', Path: '/1/a', Val: 'x' })],
    ['member attributes', { ...publishRequest(1n, { name: 'n', clientURLs: [] }), ID: 6n }],
    ['a cluster version', { ...clusterVersionRequest('3.4.0'), ID: 7n }],
    ['a SYNC', { ...syncRequest(1_700_000_000_000), ID: 8n }],
    ['the health read', { ...healthRequest(), ID: 9n }],
  ];
  for (const [what, req] of v2) {
    it(`${what} (a bare Request): false`, () => {
      const data = encodeV2Request(req);
      expect(onlyBackendState(data)).toBe(false);
      expect(decodeEntry(data)).toEqual({ kind: 'v2', id: req.ID, req });
    });
  }

  it('is false (decode it) for a truncated or malformed message', () => {
    const data = encodeRequest({ header: { ID: '1' }, put });
    expect(onlyBackendState(data.subarray(0, data.length - 1))).toBe(false);
    expect(onlyBackendState(Uint8Array.from([0x0b]))).toBe(false); // wire type 3 (group)
    expect(onlyBackendState(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(false);
  });
});

describe('entry requests', () => {
  it('takes the request id from the header, or from InternalRaftRequest.ID when set (older etcd)', () => {
    expect(decodeEntry(encodeRequest({ header: { ID: '77' }, compaction: { revision: '5', physical: true } }))).toMatchObject({ kind: 'v3', id: 77n });
    expect(decodeEntry(encodeRequest({ header: { ID: '77' }, ID: '88', compaction: { revision: '5', physical: true } }))).toMatchObject({ kind: 'v3', id: 88n });
  });

  it('reads a put with a username in its header (etcd with --client-cert-auth) from a plain Uint8Array, bytes as Buffers', () => {
    // the entry data of a raft message or a WAL record is a Uint8Array, not a Buffer
    const data = Uint8Array.from(Buffer.from('22060a016b120176a2060b08b96012047' + '26f6f741801', 'hex'));
    const e = decodeRequest(data);
    expect(e.header).toEqual({ ID: '12345', username: 'root', auth_revision: '1' });
    expect(Buffer.isBuffer(e.put!.key) && Buffer.isBuffer(e.put!.value)).toBe(true);
    expect(e.put).toMatchObject({ key: Buffer.from('k'), value: Buffer.from('v') });
  });

  it('reads a v2 request inside an InternalRaftRequest as that v2 request (etcd 3.4 reads them, writes none)', () => {
    const v2 = encodeV2Request(newV2Request({ ID: 12n, Method: 'DELETE', Path: '/1/x' }));
    const data = Buffer.concat([Buffer.from([0x12, v2.length]), v2, Buffer.from('a2060208 0d'.replace(/ /g, ''), 'hex')]);
    expect(decodeEntry(data)).toEqual({ kind: 'v2', id: 12n, req: newV2Request({ ID: 12n, Method: 'DELETE', Path: '/1/x' }) });
    expect(() => encodeRequest({ header: { ID: '1' }, v2: newV2Request() })).toThrow();
  });

  it('writes non-hot requests as Go marshals them: zero values left out, empty messages kept', () => {
    expect(Buffer.from(encodeRequest({ header: { ID: '1' }, alarm: { action: 'GET', memberID: '0', alarm: 'NONE' } } as never)).toString('hex')).toBe('5200a2060208' + '01');
    expect(Buffer.from(encodeRequest({ header: { ID: '1' }, compaction: { revision: '5', physical: false } })).toString('hex')).toBe('3a020805a2060208' + '01');
  });

  it('throws on what etcd cannot read either way (it panics)', () => {
    expect(() => decodeEntry(Buffer.from('2001', 'hex'))).toThrow();
  });
});
