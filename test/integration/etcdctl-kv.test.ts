// etcdctl 3.4 against one member of ours (and the same assertions against real etcd 3.4.23, so that
// every expected output is known to be etcd's): put/get options (prefix, from-key, range end, limit, sort,
// rev, keys-only, print-value-only, json/fields), del (prefix, prev-kv), txn (both branches, stdin
// and interactive), compaction and the compacted-revision error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, etcdctl, startEtcd, startMember, type Impl, type Member } from './harness.js';

interface Kv {
  key: string;
  value?: string;
  create_revision: number;
  mod_revision: number;
  version: number;
}
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString();

afterAll(cleanup);

describe.each<Impl>(['ours', 'etcd'])('etcdctl kv commands (%s)', (impl) => {
  let m: Member;
  let base: number; // revision before this suite's first write
  const ctl = (...args: string[]): Promise<string> => ctlOk(m, args);
  const json = async (...args: string[]): Promise<{ header: { revision: number }; kvs?: Kv[]; count?: number; more?: boolean }> =>
    JSON.parse(await ctl(...args, '-w', 'json'));

  beforeAll(async () => {
    m = impl === 'ours' ? await startMember() : await startEtcd();
    base = (await json('get', 'x')).header.revision;
    for (const [k, v] of [['k1', 'c'], ['k2', 'a'], ['k3', 'b'], ['k4', 'd'], ['other', 'z']]) expect(await ctl('put', k!, v!)).toBe('OK\n');
    expect(await ctl('put', 'k1', 'e', '--prev-kv')).toBe('OK\nk1\nc\n');
  });

  it('get: one key, prefix, from-key, range end, missing key', async () => {
    expect(await ctl('get', 'k1')).toBe('k1\ne\n');
    expect(await ctl('get', 'k', '--prefix')).toBe('k1\ne\nk2\na\nk3\nb\nk4\nd\n');
    expect(await ctl('get', 'k3', '--from-key', '--keys-only')).toBe('k3\n\nk4\n\nother\n\n');
    expect(await ctl('get', 'k2', 'k4')).toBe('k2\na\nk3\nb\n');
    expect(await ctl('get', 'nope')).toBe('');
  });

  it('get: limit, sort order and target, print-value-only', async () => {
    const lim = await json('get', 'k', '--prefix', '--limit', '2');
    expect([lim.kvs?.map((kv) => unb64(kv.key)), lim.more, lim.count]).toEqual([['k1', 'k2'], true, 4]);
    expect(await ctl('get', 'k', '--prefix', '--sort-by', 'VALUE', '--print-value-only')).toBe('a\nb\nd\ne\n');
    expect(await ctl('get', 'k', '--prefix', '--sort-by', 'MODIFY', '--order', 'DESCEND', '--keys-only')).toBe('k1\n\nk4\n\nk3\n\nk2\n\n');
    expect(await ctl('get', 'k', '--prefix', '--order', 'DESCEND', '--keys-only', '--limit', '1')).toBe('k4\n\n');
  });

  it('get: revisions in json and fields, --rev reads history', async () => {
    const r = await json('get', 'k1');
    expect(r.header.revision).toBe(base + 6);
    expect(r.kvs).toEqual([{ key: b64('k1'), value: b64('e'), create_revision: base + 1, mod_revision: base + 6, version: 2 }]);
    expect(await ctl('get', 'k1', '--rev', String(base + 1))).toBe('k1\nc\n');
    expect(await ctl('get', 'k1', '--rev', String(base))).toBe('');
    const fields = await ctl('get', 'k1', '-w', 'fields');
    expect(fields).toContain(`"Revision" : ${base + 6}\n`);
    expect(fields).toContain('"Key" : "k1"\n"CreateRevision" : ' + (base + 1) + '\n"ModRevision" : ' + (base + 6) + '\n"Version" : 2\n"Value" : "e"\n');
    const future = await etcdctl(m, ['get', 'k1', '--rev', String(base + 100)]);
    expect([future.code, future.stderr.split('\n').at(-2)]).toEqual([1, 'Error: etcdserver: mvcc: required revision is a future revision']);
  });

  it('txn: success and failure branches from stdin, interactive prompts', async () => {
    const ok = await ctlOk(m, ['txn'], { input: 'value("k2") = "a"\n\nput k2 A\nget k2\n\nput k2 never\n\n' });
    expect(ok).toBe('SUCCESS\n\nOK\n\nk2\nA\n');
    const fail = await ctlOk(m, ['txn'], { input: 'version("k3") > "5"\n\nput k3 never\n\nget k3\ndel k4 --prev-kv\n\n' });
    expect(fail).toBe('FAILURE\n\nk3\nb\n\n1\nk4\nd\n');
    const inter = await ctlOk(m, ['txn', '-i'], { input: 'mod("k2") > "0"\n\nget k2\n\n\n' });
    expect(inter).toBe('compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\nSUCCESS\n\nk2\nA\n');
    expect(await ctl('get', 'k4')).toBe('');
  });

  it('del: prev-kv, prefix, missing key', async () => {
    expect(await ctl('del', 'k3', '--prev-kv')).toBe('1\nk3\nb\n');
    expect(await ctl('del', 'k', '--prefix')).toBe('2\n');
    expect(await ctl('del', 'k', '--prefix')).toBe('0\n');
    expect(await ctl('get', '', '--from-key', '--keys-only')).toBe('other\n\n');
  });

  it('compaction: history below it is gone with etcd\'s error text, above it stays', async () => {
    const head = (await json('get', 'other')).header.revision;
    expect(await ctl('compaction', String(base + 3))).toBe(`compacted revision ${base + 3}\n`);
    const old = await etcdctl(m, ['get', 'k1', '--rev', String(base + 2)]);
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('rpc error: code = OutOfRange desc = etcdserver: mvcc: required revision has been compacted');
    expect(old.stderr.endsWith('Error: etcdserver: mvcc: required revision has been compacted\n')).toBe(true);
    expect(await ctl('get', 'k1', '--rev', String(base + 3))).toBe('k1\nc\n');
    const again = await etcdctl(m, ['compaction', String(base + 2)]);
    expect(again.stderr).toContain('Error: etcdserver: mvcc: required revision has been compacted');
    expect((await json('get', 'other')).header.revision).toBe(head);
  });
});
