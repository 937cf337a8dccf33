// Snapshot's hand-made response encoder writes the bytes proto-loader's (zero-omitting) encoder
// writes for the same message, as etcd's gogoproto does: no header, zero remaining_bytes and an
// empty blob left off.
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { encodeSnapshotResponse, withSnapshotCodec } from '../../../src/api/v3/maintenance.js';
import { etcdGrpc } from '../../../src/api/v3/proto.js';
import { omitZeros } from '../../../src/api/v3/zero-omit.js';

const service = omitZeros(etcdGrpc().etcdserverpb.Maintenance.service);
const generic = (service.Snapshot as grpc.MethodDefinition<object, object>).responseSerialize;

describe('encodeSnapshotResponse', () => {
  const blob = Buffer.from(Array.from({ length: 40000 }, (_, i) => i % 251));
  const cases: [string, { remaining_bytes: number; blob: Buffer }][] = [
    ['a piece with bytes to come', { remaining_bytes: 123_456_789, blob: blob.subarray(0, 32768) }],
    ['remaining past 2^32', { remaining_bytes: 2 ** 33 + 5, blob: blob.subarray(1, 300) }],
    ['the last piece (remaining 0)', { remaining_bytes: 0, blob }],
    ['the sha256 trailer', { remaining_bytes: 0, blob: blob.subarray(0, 32) }],
    ['an empty blob', { remaining_bytes: 7, blob: Buffer.alloc(0) }],
  ];
  for (const [name, msg] of cases) {
    it(`writes proto-loader's bytes: ${name}`, () => {
      expect(encodeSnapshotResponse(msg).equals(generic(msg))).toBe(true);
    });
  }

  it('is the Snapshot method serializer withSnapshotCodec installs', () => {
    const def = withSnapshotCodec(service);
    expect((def.Snapshot as grpc.MethodDefinition<object, object>).responseSerialize).toBe(encodeSnapshotResponse);
    expect(def.Status).toBe(service.Status);
  });
});
