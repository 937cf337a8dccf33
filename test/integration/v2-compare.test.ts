// The v2 API against real etcd 3.4.23 --enable-v2 and ours (v2 on by default): the same scenario of
// curl and ETCDCTL_API=2 etcdctl steps (test/integration/v2-steps.ts) on two fresh members must print
// the same transcript after masking ids, ports, dates and expiration times. Indexes are not masked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { cleanup, ETCD_BIN, startEtcd, startMember, type Member } from './harness.js';
import { lineDiff } from './mask.js';
import { runTranscript, type Step } from './v2-transcript.js';
import { V2_STEPS } from './v2-steps.js';

let ours: Member;
let etcd: Member | undefined;

beforeAll(async () => {
  [ours, etcd] = await Promise.all([
    startMember({ ready: 'status' }),
    existsSync(ETCD_BIN) ? startEtcd({ ready: 'status', args: ['--enable-v2'] }) : Promise.resolve(undefined),
  ]);
}, 60_000);
afterAll(cleanup);

describe('v2 API transcript', () => {
  it(`${V2_STEPS.length} steps print the same against ours and etcd 3.4 --enable-v2`, async () => {
    if (etcd === undefined) throw new Error(`${ETCD_BIN} missing: apt-get install -y etcd-server`);
    const [a, b] = await Promise.all([runTranscript(V2_STEPS, etcd), runTranscript(V2_STEPS, ours)]);
    if (a !== b) expect.fail(`transcripts differ:\n${lineDiff(a, b, 'etcd', 'ours')}`);
    expect(a).toContain('"action":"compareAndSwap"');
  }, 180_000);

  it('--enable-v2=false: the v2 API is etcd\'s 404 page for curl and etcdctl alike', async () => {
    const off = ['--enable-v2=false'];
    const [e, o] = await Promise.all([startEtcd({ ready: 'status', args: off }), startMember({ ready: 'status', args: off })]);
    const steps: Step[] = [{ curl: ['/v2/keys/foo'] }, { curl: ['-X', 'PUT', '/v2/keys/foo', '-d', 'value=1'] }, { curl: ['/v2/members'] },
      { ctl: ['set', '/foo', '1'] }, { ctl: ['get', '/foo'] }, { curl: ['/v2/auth/enable'] }, { ctl: ['auth', 'enable'] }];
    const [a, b] = await Promise.all([runTranscript(steps, e), runTranscript(steps, o)]);
    if (a !== b) expect.fail(`transcripts differ:\n${lineDiff(a, b, 'etcd', 'ours')}`);
    expect(a).toContain('404 page not found');
  }, 60_000);
});
