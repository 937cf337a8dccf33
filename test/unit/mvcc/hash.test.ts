// KeyValue encoding and HashKV against values observed from real etcd 3.4.23 for the same history:
//   put foo bar; put foo baz; del foo; put foo q; txn{version(foo)=1 → put x 1, put y 2}; put foo w
//   → `etcdctl endpoint hashkv` = 4127864908 (compact_revision -1); after `compact 4` = 3633885492.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../../src/backend/index.js';
import { decodeKv, encodeKv, MvccError, type KvStore } from '../../../src/mvcc/index.js';
import { B, openStore, tempDir } from './helpers.js';

const etcdHashBefore = 4127864908;
const etcdHashAfterCompact4 = 3633885492;

describe('KeyValue proto', () => {
  it('encodes as mvccpb.KeyValue and decodes back', () => {
    const kv = { key: B('a'), createRevision: 2, modRevision: 300, version: 1, value: B('b'), lease: 0x1234567890n };
    const enc = encodeKv(kv);
    expect(enc.bytes.subarray(0, 9).toString('hex')).toBe('0a0161100218ac0220');
    expect(decodeKv(enc.bytes)).toEqual(kv);
    expect(encodeKv({ ...kv, value: Buffer.alloc(0), lease: 0n, version: 0, createRevision: 0, modRevision: 0 }).bytes.toString('hex')).toBe('0a0161');
  });
});

describe('HashKV', () => {
  let kv: KvStore;
  let backend: Backend;
  let cleanup: () => Promise<void>;
  let idx = 0;
  beforeEach(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    ({ kv, backend } = await openStore(t.dir));
  });
  afterEach(async () => {
    await backend.close();
    await cleanup();
  });

  it('equals etcd for the same history, before and after compaction, and after a reopen', async () => {
    const put = (k: string, v: string) => kv.put(++idx, { key: B(k), value: B(v) });
    put('foo', 'bar');
    put('foo', 'baz');
    kv.deleteRange(++idx, { key: B('foo') });
    put('foo', 'q');
    kv.txn(++idx, { compare: [{ key: B('foo'), target: 'VERSION', result: 'EQUAL', version: 1 }], success: [{ put: { key: B('x'), value: B('1') } }, { put: { key: B('y'), value: B('2') } }], failure: [] });
    put('foo', 'w');
    expect(await kv.hashKV(0)).toEqual({ hash: etcdHashBefore, compactRevision: -1, revision: 7 });
    const { done } = kv.compact(++idx, 4);
    expect((await kv.hashKV(0)).hash).toBe(etcdHashAfterCompact4);
    await done;
    expect((await kv.hashKV(0)).hash).toBe(etcdHashAfterCompact4);
    await expect(kv.hashKV(3)).rejects.toBeInstanceOf(MvccError);
    await expect(kv.hashKV(8)).rejects.toBeInstanceOf(MvccError);
    const h = await kv.hash();
    await backend.close();
    ({ kv, backend } = await openStore(backend.path));
    expect((await kv.hashKV(0)).hash).toBe(etcdHashAfterCompact4);
    expect(await kv.hash()).toBe(h);
  });
});
