// The npm `etcd3` client (grpc-js, its own copy of etcd's protos) against our member, and the same
// assertions against real etcd 3.4.23: put/get/delete with revisions, a txn's both branches, a
// lease kept alive past its TTL by the client's keepalive stream then revoked, and a watch stream
// receiving puts and deletes with prev_kv.
import { Etcd3, type IKeyValue } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, startEtcd, startMember, type Impl, type Member } from './harness.js';

afterAll(cleanup);

async function until(what: string, f: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const plain = (kv: IKeyValue | undefined): Record<string, string> | undefined =>
  kv && { key: kv.key.toString(), value: kv.value.toString(), create: kv.create_revision, mod: kv.mod_revision, version: kv.version };

describe.each<Impl>(['ours', 'etcd'])('etcd3 npm client (%s)', (impl) => {
  let m: Member;
  let client: Etcd3;
  beforeAll(async () => {
    m = impl === 'ours' ? await startMember() : await startEtcd();
    client = new Etcd3({ hosts: m.clientUrl });
  });
  afterAll(() => client?.close());

  it('put, get, getAll, delete with prev kv and revisions', async () => {
    const r1 = await client.put('a/1').value('one');
    const base = Number(r1.header.revision);
    await client.put('a/2').value('two');
    const prev = await client.put('a/1').value('uno').getPrevious();
    expect(plain(prev)).toEqual({ key: 'a/1', value: 'one', create: String(base), mod: String(base), version: '1' });
    expect(await client.get('a/1').string()).toBe('uno');
    expect(await client.getAll().prefix('a/').strings()).toEqual({ 'a/1': 'uno', 'a/2': 'two' });
    expect(await client.getAll().prefix('a/').count()).toBe(2);
    const del = await client.delete().key('a/2').getPrevious();
    expect(del.map(plain)).toEqual([{ key: 'a/2', value: 'two', create: String(base + 1), mod: String(base + 1), version: '1' }]);
    expect(await client.get('a/2').string()).toBeNull();
    const res = await client.get('a/1').exec();
    expect([res.header.revision, res.kvs.map(plain)]).toEqual([String(base + 3), [{ key: 'a/1', value: 'uno', create: String(base), mod: String(base + 2), version: '2' }]]);
  });

  it('txn: then branch when the compare holds, else branch when not', async () => {
    await client.put('t').value('1');
    const yes = await client.if('t', 'Value', '==', '1').then(client.put('t').value('2')).else(client.put('t').value('never')).commit();
    expect(yes.succeeded).toBe(true);
    expect(await client.get('t').string()).toBe('2');
    const no = await client.if('t', 'Value', '==', '1').then(client.put('t').value('never')).else(client.get('t')).commit();
    expect(no.succeeded).toBe(false);
    expect(no.responses[0]!.response_range!.kvs.map((kv) => kv.value.toString())).toEqual(['2']);
    const ver = await client.if('t', 'Version', '>', 1).then(client.delete().key('t')).commit();
    expect([ver.succeeded, ver.responses[0]!.response_delete_range!.deleted]).toEqual([true, '1']);
  });

  it('lease: keepalive holds a 2 s lease past its TTL; revoke deletes its key', async () => {
    const lease = client.lease(2);
    let kept = 0;
    lease.on('keepaliveSucceeded', () => kept++);
    await lease.put('leased').value('v');
    const id = await lease.grant();
    const granted = Date.now();
    await until('3 s (1.5 TTLs) of keepalives', () => Date.now() - granted > 3000 && kept >= 3);
    expect(await client.get('leased').string()).toBe('v');
    const ttl = await client.get('leased').exec();
    expect(ttl.kvs[0]!.lease).toBe(id);
    await lease.revoke();
    expect(await client.get('leased').string()).toBeNull();
  });

  it('watch: puts and deletes arrive in order with prev_kv', async () => {
    const events: string[] = [];
    const w = await client.watch().prefix('w/').withPreviousKV().create();
    try {
      w.on('put', (kv, prev) => events.push(`put ${kv.key} ${kv.value} prev=${prev?.value.toString() ?? '-'}`));
      w.on('delete', (kv, prev) => events.push(`delete ${kv.key} prev=${prev?.value.toString() ?? '-'}`));
      await client.put('w/x').value('1');
      await client.put('w/x').value('2');
      await client.put('w/y').value('3');
      await client.delete().prefix('w/');
      await until('five events', () => events.length >= 5);
      expect(events).toEqual(['put w/x 1 prev=-', 'put w/x 2 prev=1', 'put w/y 3 prev=-', 'delete w/x prev=2', 'delete w/y prev=3']);
    } finally {
      await w.cancel();
    }
  });
});
