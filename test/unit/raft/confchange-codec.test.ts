import { describe, expect, it } from 'vitest';
import { ConfChangeType, decodeConfChange, encodeConfChange } from '../../../src/raft/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('conf change codec (raftpb.ConfChange as gogoproto writes it)', () => {
  // etcd 3.4.23's first bootstrap entry of a member (test/fixtures/etcd-entries/trio.wal, index 1)
  const ctx = '{"id":3108981942767673950,"peerURLs":["http://127.0.0.1:37851"],"name":"t2"}';
  const etcdBytes = `0800 1000 18dec495beadd3d4922b 224c${Buffer.from(ctx).toString('hex')}`;

  it('writes ID, Type and NodeID always, then the context', () => {
    const cc = { type: ConfChangeType.ConfChangeAddNode, nodeId: 3108981942767673950n, context: new TextEncoder().encode(ctx) };
    expect(toHex(encodeConfChange(cc))).toBe(toHex(hex(etcdBytes)));
    expect(toHex(encodeConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 0x2an, id: 7n }))).toBe('08071001182a');
  });

  it('reads what etcd wrote', () => {
    const cc = decodeConfChange(hex(etcdBytes));
    expect(cc.type).toBe(ConfChangeType.ConfChangeAddNode);
    expect(cc.nodeId).toBe(3108981942767673950n);
    expect(cc.id).toBe(0n);
    expect(new TextDecoder().decode(cc.context)).toBe(ctx);
  });

  it('keeps 64-bit ids exactly and an empty context as present', () => {
    const cc = { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 0xffffffffffffffffn, id: 0x8000000000000001n, context: new Uint8Array(0) };
    const data = encodeConfChange(cc);
    expect(toHex(data)).toBe('08818080808080808080011003 18ffffffffffffffffff01 2200'.replace(/\s+/g, ''));
    expect(decodeConfChange(data)).toEqual(cc);
    expect(decodeConfChange(encodeConfChange({ type: ConfChangeType.ConfChangeUpdateNode, nodeId: 1n })).context).toBeUndefined();
  });

  it('reads fields in any order, skips unknown ones, keeps the last of a repeated one', () => {
    // NodeID 5, an unknown field 9 (varint), Type RemoveNode, NodeID 6
    expect(decodeConfChange(hex('1805 4801 1001 1806'))).toEqual({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 6n, id: 0n });
    expect(decodeConfChange(new Uint8Array(0))).toEqual({ type: ConfChangeType.ConfChangeAddNode, nodeId: 0n, id: 0n });
    // an unknown length-delimited field (9, 2 bytes) skipped whole, then the context
    expect(decodeConfChange(hex('1806 4a02 ffff 2201 7b'))).toEqual({ type: ConfChangeType.ConfChangeAddNode, nodeId: 6n, id: 0n, context: Uint8Array.of(0x7b) });
  });

  it('refuses what gogoproto refuses, and types outside ConfChangeType', () => {
    for (const bad of ['0a00' /* ID as bytes */, '2201' /* truncated context */, '18ff' /* truncated varint */, '0c' /* end group */, '00', '1004']) {
      expect(() => decodeConfChange(hex(bad)), bad).toThrow(RangeError);
    }
  });
});
