// A member started with ETCD_TS_NO_PRIVATE_HOOKS=1 (platform/hook-fence.ts) uses only the public
// paths of grpc-js and classic-level and still serves puts, gets, txns and watches; it says so once
// per hook in its log and counts each fallback in /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, etcdctl, startMember, type Member } from './harness.js';

describe('a member with every private hook switched off', () => {
  let m: Member;
  beforeAll(async () => {
    m = await startMember({ env: { ETCD_TS_NO_PRIVATE_HOOKS: '1', ETCD_TS_HTTP2: 'node' } });
  }, 60_000);
  afterAll(cleanup);

  it('serves puts, gets, a txn and a watch', async () => {
    const watch = etcdctl(m, ['watch', 'k', '--prefix'], { killWhen: /k2\s+v2/ });
    await new Promise((r) => setTimeout(r, 300)); // the watch is set up before the puts
    expect(await ctlOk(m, ['put', 'k1', 'v1'])).toBe('OK\n');
    expect(await ctlOk(m, ['put', 'k2', 'v2'])).toBe('OK\n');
    expect(await ctlOk(m, ['get', 'k', '--prefix'])).toBe('k1\nv1\nk2\nv2\n');
    expect(await ctlOk(m, ['txn'], { input: 'value("k1") = "v1"\n\nput k1 v3\n\n\n' })).toBe('SUCCESS\n\nOK\n');
    expect(await ctlOk(m, ['get', 'k1', '--print-value-only'])).toBe('v3\n');
    const w = await watch;
    expect(w.stdout).toContain('PUT\nk1\nv1\nPUT\nk2\nv2\n');
  });

  it('counts the fallbacks in /metrics and logs each hook once', async () => {
    const text = await (await fetch(`${m.clientUrl}/metrics`)).text();
    const count = (dep: string, hook: string): number =>
      Number(new RegExp(`^etcd_ts_fenced_hook_fallbacks_total\\{dependency="${dep}",hook="${hook}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    expect(count('classic-level', '_batch')).toBeGreaterThan(0); // one per backend batch
    expect(count('@grpc/grpc-js', 'Server.createHttp2Server')).toBeGreaterThan(0); // one per client listener
    const said = m.logs().split('\n').filter((l) => l.includes('not using a private hook of a dependency'));
    const hooks = said.map((l) => (JSON.parse(l) as { hook: string; reason: string }).hook).sort();
    expect(hooks).toEqual(['Server.commonServerOptions', 'Server.createHttp2Server', '_batch']);
    expect(said.every((l) => l.includes('"reason":"switched off"'))).toBe(true);
  });
});
