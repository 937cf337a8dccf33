// GET /members/hashkv on the peer port, answered as etcd 3.4.23's hashKVHandler answers it (the
// same requests were made of a real etcd: its statuses, texts and JSON are the ones expected here).
import inject from 'light-my-request';
import { describe, expect, it } from 'vitest';
import { peerApi, type PeerApiDeps } from '../../../src/api/peer/index.js';

const asked: number[] = [];
const deps: PeerApiDeps = {
  clusterId: () => 0xd1cfaf999eb97a2an,
  members: () => [],
  version: () => ({ etcdserver: '3.4.23', etcdcluster: '3.4.0' }),
  leaseRenew: () => Promise.reject(new Error('unused')),
  leaseTimeToLive: () => Promise.reject(new Error('unused')),
  promote: () => Promise.reject(new Error('unused')),
  hashKV: async (rev) => {
    asked.push(rev);
    if (rev === 1) throw Object.assign(new Error('mvcc: compacted'), { code: 'compacted' });
    if (rev > 4) throw Object.assign(new Error('mvcc: future-rev'), { code: 'future-rev' });
    return { hash: rev === 3 ? 1282520646 : 4178063679, revision: 4, compactRevision: rev === 2 ? 0 : 2 };
  },
};
const api = peerApi(deps);

async function get(payload: string, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const r = await inject((req, res) => void api(req, res), { method, url: '/members/hashkv', payload });
  return { status: r.statusCode, body: r.body, headers: r.headers };
}

describe('GET /members/hashkv', () => {
  it('answers the hash at the revision asked (0, absent or a null body: now), as Go marshals a HashKVResponse', async () => {
    for (const body of ['{"revision":0}', '{}', 'null', '{"Revision":0}']) {
      const r = await get(body);
      expect(r.status, body).toBe(200);
      expect(r.body).toBe('{"header":{"revision":4},"hash":4178063679,"compact_revision":2}');
      expect(r.headers['x-etcd-cluster-id']).toBe('d1cfaf999eb97a2a');
      expect(r.headers['content-type']).toBe('application/json');
    }
    expect((await get('{"revision":3}')).body).toBe('{"header":{"revision":4},"hash":1282520646,"compact_revision":2}');
    expect((await get('{"revision":2}')).body).toBe('{"header":{"revision":4},"hash":4178063679}'); // omitempty
    expect(asked.slice(-2)).toEqual([3, 2]);
  });

  it("refuses what etcd refuses, with its texts", async () => {
    expect(await get('{"revision":1}')).toMatchObject({ status: 400, body: 'mvcc: required revision has been compacted\n' });
    expect(await get('{"revision":99}')).toMatchObject({ status: 400, body: 'mvcc: required revision is a future revision\n' });
    for (const body of ['', 'x', '{"revision":"3"}', '[]']) expect(await get(body), body).toMatchObject({ status: 400, body: 'error unmarshalling request\n' });
    const post = await get('{}', 'POST');
    expect(post).toMatchObject({ status: 405, body: 'Method Not Allowed\n' });
    expect(post.headers.allow).toBe('GET');
  });
});
