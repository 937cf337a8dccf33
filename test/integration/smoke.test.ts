// The smoke test CI runs on every Node release the member supports (see scripts/test-node-lts.sh):
// one member of ours started on this process's Node, etcdctl put, get and watch, then SIGTERM and a
// clean exit.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, etcdctl, startMember, type Member } from './harness.js';

afterAll(cleanup);

describe(`a member on Node ${process.version}`, () => {
  let m: Member;

  it('starts, takes a put, serves a get and a watch, and stops on SIGTERM with status 0', async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'smoke-compile-cache-'));
    m = await startMember({ env: { NODE_COMPILE_CACHE: cacheDir } });
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
    // Node 22.1+ kept the start's compiled code (bin/etcd enables the cache, the member flushes it
    // once ready); Node 20 has no such cache
    const files = readdirSync(cacheDir, { recursive: true }).length;
    rmSync(cacheDir, { recursive: true, force: true });
    if ('enableCompileCache' in module) expect(files).toBeGreaterThan(0);
    else expect(files).toBe(0);
  }, 60_000);
});
