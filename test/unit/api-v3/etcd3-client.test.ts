// The npm `etcd3` client (its own copy of etcd's protos) against our server and proto/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { EtcdError } from '../../../src/server/errors.js';
import type { EtcdServerFacade } from '../../../src/server/facade.js';
import { FakeWatchStream, fakeFacade, header, startServer, type Running } from './harness.js';

const puts: { key: string; value: string; lease: string }[] = [];
const facade: Partial<EtcdServerFacade> = {
  range: async (r) => {
    if (r.key.toString() === 'old') throw new EtcdError('Compacted');
    return { header: header(), kvs: [{ key: r.key, value: Buffer.from('bar'), create_revision: 2, mod_revision: 3, version: 2 }], count: 1 };
  },
  put: async (r) => {
    puts.push({ key: r.key.toString(), value: r.value.toString(), lease: r.lease });
    return { header: header() };
  },
  openWatchStream: (sink) => {
    const s = new FakeWatchStream(sink);
    const watch = s.watch.bind(s);
    s.watch = (spec) => {
      const r = watch(spec);
      setTimeout(() => sink.send({ watchId: spec.watchId, revision: 50, compactRevision: 0, events: [{ type: 'PUT', kv: { key: spec.key, value: Buffer.from('new'), create_revision: 2, mod_revision: 50, version: 3 } }] }), 10);
      return r;
    };
    return s;
  },
};

let srv: Running;
let client: Etcd3;
beforeAll(async () => {
  srv = await startServer(fakeFacade(facade));
  client = new Etcd3({ hosts: `http://${srv.address}` });
});
afterAll(async () => {
  client.close();
  await srv.stop();
});

describe('npm etcd3 client', () => {
  it('gets and puts', async () => {
    expect(await client.get('foo').string()).toBe('bar');
    await client.put('k').value('v');
    expect(puts.at(-1)).toEqual({ key: 'k', value: 'v', lease: '0' });
  });

  it('sees etcd error text (it maps it to its own error class)', async () => {
    await expect(client.get('old').string()).rejects.toThrow('etcdserver: mvcc: required revision has been compacted');
  });

  it('watches', async () => {
    const watcher = await client.watch().key('w').create();
    const got = await new Promise<string>((resolve) => watcher.on('put', (kv) => resolve(`${kv.key.toString()}=${kv.value.toString()}@${kv.mod_revision}`)));
    await watcher.cancel();
    expect(got).toBe('w=new@50');
  });
});
