// The v2 API against real etcd 3.4.23 --enable-v2 and ours (v2 on by default): the same scenario of
// curl and ETCDCTL_API=2 etcdctl steps (test/integration/v2-steps.ts) on two fresh members must print
// the same transcript after masking ids, ports, dates and expiration times. Indexes are not masked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, startEtcd, startMember, type Member } from './harness.js';
import { expectSameTranscripts, startV2Pair, type Step } from './v2-transcript.js';
import { V2_STEPS } from './v2-steps.js';

let ours: Member;
let etcd: Member | undefined;

beforeAll(async () => {
  [ours, etcd] = await startV2Pair();
}, 60_000);
afterAll(cleanup);

describe('v2 API transcript', () => {
  it(`${V2_STEPS.length} steps print the same against ours and etcd 3.4 --enable-v2`, async () => {
    const a = await expectSameTranscripts(V2_STEPS, etcd, ours);
    expect(a).toContain('"action":"compareAndSwap"');
  }, 180_000);

  it('--enable-v2=false: the v2 API is etcd\'s 404 page for curl and etcdctl alike', async () => {
    const off = ['--enable-v2=false'];
    const [e, o] = await Promise.all([startEtcd({ ready: 'status', args: off }), startMember({ ready: 'status', args: off })]);
    const steps: Step[] = [{ curl: ['/v2/keys/foo'] }, { curl: ['-X', 'PUT', '/v2/keys/foo', '-d', 'value=1'] }, { curl: ['/v2/members'] },
      { ctl: ['set', '/foo', '1'] }, { ctl: ['get', '/foo'] }, { curl: ['/v2/auth/enable'] }, { ctl: ['auth', 'enable'] }];
    const a = await expectSameTranscripts(steps, e, o);
    expect(a).toContain('404 page not found');
  }, 60_000);
});
