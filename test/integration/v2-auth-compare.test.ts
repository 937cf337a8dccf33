// etcd 3.4's v2 auth (/v2/auth/*, and basic auth on /v2/keys and /v2/members once enabled) against real
// etcd 3.4.23 --enable-v2 and ours: the same curl and ETCDCTL_API=2 etcdctl steps on two fresh members
// print the same transcript after masking ids and ports. Indexes (X-Etcd-Index, and X-Raft-Index: the
// quorum reads etcd's v2 auth makes go through raft) and /v2/stats/store counts are compared as they are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, type Member } from './harness.js';
import { expectSameTranscripts, startV2Pair, type Step } from './v2-transcript.js';

const put = (path: string, body: string, ...more: string[]): Step => ({ curl: ['-X', 'PUT', path, '-d', body, ...more] });
const get = (path: string, ...more: string[]): Step => ({ curl: [path, ...more] });
const req = (method: string, path: string, ...more: string[]): Step => ({ curl: ['-X', method, path, ...more] });
const ctl = (...args: string[]): Step => ({ ctl: args });
const as = (user: string): string[] => ['-u', user];

const STEPS: readonly Step[] = [
  // nothing yet: enabling needs a root user
  get('/v2/auth/enable'), req('PUT', '/v2/auth/enable'), get('/v2/auth/users'), get('/v2/auth/roles'), ctl('auth', 'enable'),
  // users and roles
  put('/v2/auth/users/root', '{"user":"root","password":"rpw"}'),
  put('/v2/auth/roles/reader', '{"role":"reader","permissions":{"kv":{"read":["/foo/*"],"write":[]}}}'),
  put('/v2/auth/users/alice', '{"user":"alice","password":"apw","roles":["reader"]}'),
  ctl('user', 'add', 'bob:bpw'), ctl('role', 'add', 'writer'), ctl('role', 'grant', 'writer', '--path', '/w/*', '--rw'),
  ctl('user', 'grant', 'bob', '--roles', 'writer'), ctl('user', 'revoke', 'bob', '--roles', 'reader'),
  put('/v2/auth/users/bob', '{"user":"bob","grant":["writer"]}'), put('/v2/auth/users/x', 'not json'),
  get('/v2/auth/users'), get('/v2/auth/users/alice'), get('/v2/auth/roles/writer'), ctl('user', 'list'),
  put('/v2/keys/foo/a', 'value=1'), put('/v2/keys/bar', 'value=1'),
  // on: the guest role appears; the auth endpoints need root
  ctl('auth', 'enable'), get('/v2/auth/enable'), req('PUT', '/v2/auth/enable'), req('PUT', '/v2/auth/enable', ...as('root:rpw')),
  get('/v2/auth/users'), get('/v2/auth/roles', ...as('root:rpw')), get('/v2/auth/users', ...as('alice:apw')),
  ctl('--username', 'root:bad', 'user', 'list'),
  // keys as alice (read /foo/*), with a wrong password, as guest (everything), as root, as bob (write /w/*)
  get('/v2/keys/foo/a', ...as('alice:apw')), put('/v2/keys/foo/a', 'value=2', ...as('alice:apw')),
  get('/v2/keys/foo?recursive=true', ...as('alice:apw')), get('/v2/keys/bar', ...as('alice:apw')),
  get('/v2/keys/foo/a', ...as('alice:wrong')),
  get('/v2/keys/foo/a', '-H', 'Authorization: Bearer x'), get('/v2/keys/foo/a', ...as('nobody:x')),
  get('/v2/keys/foo/a'), put('/v2/keys/foo/b', 'value=g'), put('/v2/keys/foo/c', 'value=r', ...as('root:rpw')),
  put('/v2/keys/w/1', 'value=b', ...as('bob:bpw')), get('/v2/keys/foo/a', ...as('bob:bpw')),
  ctl('--username', 'alice:apw', 'get', '/foo/a'), ctl('--username', 'alice:apw', 'set', '/foo/a', '3'), ctl('get', '/bar'),
  req('DELETE', '/v2/members/1234'), req('DELETE', '/v2/auth/users/root', ...as('root:rpw')),
  // a guest that may only read
  put('/v2/auth/roles/guest', '{"role":"guest","revoke":{"kv":{"write":["/*"]}}}', ...as('root:rpw')),
  put('/v2/keys/foo/d', 'value=g'), get('/v2/keys/foo/b'),
  // off
  get('/v2/stats/store'), ctl('--username', 'root:rpw', 'auth', 'disable'), req('DELETE', '/v2/auth/enable'),
  put('/v2/keys/foo/d', 'value=g'), get('/v2/auth/users/bob'), get('/v2/stats/store'),
];

let ours: Member;
let etcd: Member | undefined;

beforeAll(async () => {
  [ours, etcd] = await startV2Pair();
}, 60_000);
afterAll(cleanup);

describe('v2 auth transcript', () => {
  it(`${STEPS.length} steps print the same against ours and etcd 3.4 --enable-v2`, async () => {
    const a = await expectSameTranscripts(STEPS, etcd, ours);
    expect(a).toContain('{"message":"auth: No root user available, please create one"}');
    expect(a).toContain('"cause":"Insufficient credentials"');
    expect(a).toContain('Authentication Enabled');
  }, 60_000);
});
