// The smoke test CI runs on every Node release the member supports (see scripts/test-node-lts.sh):
// one member of ours started on this process's Node, etcdctl put, get and watch, then SIGTERM and a
// clean exit.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, etcdctl, startMember, type Member } from './harness.js';

afterAll(cleanup);

describe(`a member on Node ${process.version}`, () => {
  let m: Member;

  it('starts, takes a put, serves a get and a watch, and stops on SIGTERM with status 0', async () => {
    m = await startMember();
    expect(await ctlOk(m, ['put', 'smoke', 'one'])).toBe('OK\n');
    expect(await ctlOk(m, ['get', 'smoke'])).toBe('smoke\none\n');
    const watch = etcdctl(m, ['watch', 'smoke', '--rev=1'], { killWhen: /two/ });
    await ctlOk(m, ['put', 'smoke', 'two']);
    expect((await watch).stdout).toBe('PUT\nsmoke\none\nPUT\nsmoke\ntwo\n');
    expect(await m.stop()).toEqual({ code: 0, signal: null });
    for (const msg of ['starting an etcd server', 'became leader', 'ready to serve client requests', 'received signal; shutting down']) {
      expect(m.logs()).toContain(`"msg":"${msg}"`);
    }
    expect(m.logs()).toContain(`"nodeVersion":"${process.version}"`);
  }, 60_000);
});
