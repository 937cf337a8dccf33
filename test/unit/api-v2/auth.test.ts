// etcd 3.4's v2 auth: the records as Go's encoding/json reads and writes them, basic auth, the glob
// checks, and the endpoints over a fake server with a real V2Store, down to the v2 requests proposed
// (those are what a member of etcd applies in a mixed cluster). Statuses and bodies as etcd 3.4.23
// answers (test/integration/v2-auth-compare.test.ts compares them with etcd itself).
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { injectServer, startApp, type FakeV2 } from './fake-v2.js';
import { decodeRole, decodeUser, roleJson, userJson } from '../../../src/api/v2/auth-json.js';
import { parseBasicAuth } from '../../../src/api/v2/auth-access.js';
import { GoPanic, hasKeyAccess, hasRecursiveAccess, sprintfNoArgs } from '../../../src/api/v2/auth-store.js';
import { applyV2 } from '../../../src/server/apply-v2.js';
import { newV2Request } from '../../../src/codec/v2-request.js';
import { V2Store } from '../../../src/v2store/index.js';

let app: FastifyInstance;
let fake: FakeV2;
afterEach(async () => {
  await app?.close();
});

const basic = (user: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(user).toString('base64')}` });

async function call(method: string, url: string, opts: { body?: string; user?: string } = {}) {
  const r = await injectServer(app, {
    method: method as 'GET', url, ...(opts.body === undefined ? {} : { payload: opts.body }),
    headers: opts.user === undefined ? {} : basic(opts.user),
  });
  return { status: r.statusCode, body: r.body, h: r.headers };
}

describe('v2 auth records (Go encoding/json)', () => {
  it('reads the first JSON value, keys in any case, null as nil, [] as empty; a type mismatch fails', () => {
    expect(decodeUser('{"User":"a","PASSWORD":"p","roles":[]} trailing')).toEqual({ user: 'a', password: 'p', roles: [], grant: null, revoke: null });
    expect(decodeUser('{"user":"a","roles":null,"other":1}')).toEqual({ user: 'a', password: '', roles: null, grant: null, revoke: null });
    expect(decodeUser('null')).toEqual({ user: '', password: '', roles: null, grant: null, revoke: null });
    for (const bad of ['', '  ', 'not json', '{"user":5}', '{"roles":"a"}', '[]', '{"roles":[1]}', '{"user":"a"']) {
      expect(decodeUser(bad), bad).toBeUndefined();
    }
    const r = decodeRole('{"role":"r","permissions":{"kv":{"read":["/a"]}},"grant":{"kv":{}}}');
    expect(r).toEqual({ role: 'r', permissions: { kv: { read: ['/a'], write: null } }, grant: { kv: { read: null, write: null } } });
    expect(decodeRole('{"role":"r","grant":null}')?.grant).toBeUndefined();
    expect(decodeRole('{"role":"r","permissions":[]}')).toBeUndefined();
  });

  it('writes nil as null, leaves out an empty password, grant and revoke, escapes as Go does', () => {
    expect(userJson({ user: 'a', password: '', roles: null, grant: [], revoke: null })).toBe('{"user":"a","roles":null}');
    expect(userJson({ user: 'a', password: 'h', roles: [], grant: ['x'], revoke: null })).toBe('{"user":"a","password":"h","roles":[],"grant":["x"]}');
    expect(roleJson({ role: 'r', permissions: { kv: { read: ['/<&>'], write: null } } }))
      .toBe('{"role":"r","permissions":{"kv":{"read":["/\\u003c\\u0026\\u003e"],"write":null}}}');
  });
});

describe('v2 auth checks', () => {
  it('basic auth as Go reads it: any case of "Basic ", padded standard base64, a colon', () => {
    expect(parseBasicAuth(`basic ${Buffer.from('u:p:q').toString('base64')}`)).toEqual({ user: 'u', password: Buffer.from('p:q') });
    expect(parseBasicAuth(`Basic ${Buffer.from(':').toString('base64')}`)).toEqual({ user: '', password: Buffer.alloc(0) });
    for (const bad of ['Bearer x', 'Basic dTE6cDI', 'Basic dTEK', 'Basic  dTE6cDI=', 'Basic', 'Basic d=E6cDI=']) expect(parseBasicAuth(bad), bad).toBeUndefined();
  });

  it('globs: "/foo/*" covers what starts with "/foo/", recursion needs a "*", root covers all, "" is a Go panic', () => {
    const role = { role: 'r', permissions: { kv: { read: ['/foo/*', '/bar'], write: null } } };
    expect(hasKeyAccess(role, '/foo/a', false)).toBe(true);
    expect(hasKeyAccess(role, '/foo/', false)).toBe(true);
    expect(hasKeyAccess(role, '/foo', false)).toBe(false);
    expect(hasKeyAccess(role, '/bar', false)).toBe(true);
    expect(hasKeyAccess(role, '/bar/x', false)).toBe(false);
    expect(hasKeyAccess(role, '/foo/a', true)).toBe(false);
    expect(hasRecursiveAccess(role, '/foo/a', false)).toBe(true);
    expect(hasRecursiveAccess(role, '/bar', false)).toBe(false);
    expect(hasRecursiveAccess({ role: 'root', permissions: { kv: { read: null, write: null } } }, '/x', true)).toBe(true);
    expect(() => hasKeyAccess({ role: 'r', permissions: { kv: { read: [''], write: null } } }, '/x', false)).toThrow(GoPanic);
  });

  it('a "%" in a name of the grant/revoke refusals reads as a Go verb, as etcd formats them twice', () => {
    expect(sprintfNoArgs('user a%d')).toBe('user a%!d(MISSING)');
    expect(sprintfNoArgs('b%%x c%')).toBe('b%x c%!(NOVERB)');
    expect(sprintfNoArgs('z% for d%5.2f e%-5s')).toBe('z%!f(MISSING)or d%!f(MISSING) e%!s(MISSING)');
  });

  it('the applier writes the /2 tree and counts it in the store stats, as etcd\'s store does', () => {
    const s = new V2Store();
    const put = (Path: string, Val: string, PrevExist: boolean, Dir = false) => applyV2(s, newV2Request({ Method: 'PUT', Path, Val, PrevExist, Dir }), 0);
    expect(put('/2', '', false, true).event?.node.key).toBe('/2');
    expect(put('/2/users/', '', false, true).event?.node.key).toBe('/2/users');
    expect(put('/2/users/', '', false, true).error?.errorCode).toBe(105);
    expect(put('/2/enabled', 'false', false).event?.node.value).toBe('false');
    expect(put('/2/enabled', 'true', true).event?.action).toBe('update');
    expect(applyV2(s, newV2Request({ Method: 'QGET', Path: '/2/enabled' }), 0).event?.node.value).toBe('true');
    expect(applyV2(s, newV2Request({ Method: 'DELETE', Path: '/2/nope', PrevExist: true }), 0).error?.errorCode).toBe(100);
    expect(s.authEnabledProbe()).toBe(true);
    expect(s.statsJson()).toMatchObject({ createSuccess: 3, createFail: 1, updateSuccess: 1, getsSuccess: 2, deleteFail: 1 });
    expect(s.index()).toBe(4);
    // and it travels in a snapshot (etcd's store JSON)
    const r = V2Store.recover(s.save());
    expect(r.getAt('/2/enabled', {}, 0).node.value).toBe('true');
    expect(r.authEnabledProbe()).toBe(true);
  });
});

describe('/v2/auth endpoints', () => {
  it('enable needs a root user; creating users and roles proposes etcd\'s requests', async () => {
    ({ app, fake } = await startApp());
    expect(await call('GET', '/v2/auth/enable')).toMatchObject({ status: 200, body: '{"enabled":false}\n' });
    const refused = await call('PUT', '/v2/auth/enable');
    expect(refused).toMatchObject({ status: 409, body: '{"message":"auth: No root user available, please create one"}' });
    expect(refused.h['x-etcd-cluster-id']).toBe('dc50b8daae93b3e0');
    expect(await call('GET', '/v2/auth/users')).toMatchObject({ status: 200, body: '{"users":null}\n' });
    fake.authCalls.length = 0;
    const root = await call('PUT', '/v2/auth/users/root', { body: '{"user":"root","password":"rpw"}' });
    expect(root).toMatchObject({ status: 201, body: '{"user":"root","roles":["root"]}\n' });
    const calls = fake.authCalls.map((c) => [c.method, c.path, c.prevExist, c.dir ?? false]);
    expect(calls).toEqual([
      ['QGET', '/2/users/root', undefined, false],
      ['PUT', '/2', false, true], ['PUT', '/2/users/', false, true], ['PUT', '/2/roles/', false, true],
      ['PUT', '/2/enabled', false, false], ['PUT', '/2/users/root', false, false],
    ]);
    expect(fake.authCalls[4]!.value).toBe('false');
    expect(fake.authCalls[5]!.value).toMatch(/^\{"user":"root","password":"\$2a\$10\$[./A-Za-z0-9]{53}","roles":\["root"\]\}$/);
    const role = await call('PUT', '/v2/auth/roles/reader', { body: '{"role":"reader","permissions":{"kv":{"read":["/foo/*"],"write":[]}}}' });
    expect(role).toMatchObject({ status: 201, body: '{"role":"reader","permissions":{"kv":{"read":["/foo/*"],"write":[]}}}\n' });
    // with roles: a create answered 200, the roles as given
    expect(await call('PUT', '/v2/auth/users/alice', { body: '{"user":"alice","password":"apw","roles":["reader"]}' }))
      .toMatchObject({ status: 200, body: '{"user":"alice","roles":["reader"]}\n' });
    expect(await call('PUT', '/v2/auth/users/alice', { body: '{"user":"bob","password":"x"}' }))
      .toMatchObject({ status: 400, body: '{"message":"User JSON name does not match the name in the URL"}' });
    expect(await call('GET', '/v2/auth/roles')).toMatchObject({
      status: 200,
      body: '{"roles":[{"role":"reader","permissions":{"kv":{"read":["/foo/*"],"write":[]}}},{"role":"root","permissions":{"kv":{"read":["/*"],"write":["/*"]}}}]}\n',
    });
    expect(await call('GET', '/v2/auth/users/a/b')).toMatchObject({ status: 400, body: '{"message":"Invalid path"}' });
    const post = await call('POST', '/v2/auth/users');
    expect(post).toMatchObject({ status: 405, body: 'Method Not Allowed\n' });
    expect(post.h['allow']).toBe('GET');

    // on: the guest role is made; keys are checked against the request's user
    fake.authCalls.length = 0;
    expect(await call('PUT', '/v2/auth/enable')).toMatchObject({ status: 200, body: '' });
    expect(fake.authCalls.map((c) => [c.method, c.path, c.prevExist])).toEqual([
      ['QGET', '/2/users/root', undefined], ['QGET', '/2/roles/guest', undefined], ['PUT', '/2/roles/guest', false], ['PUT', '/2/enabled', true],
    ]);
    expect(await call('PUT', '/v2/auth/enable')).toMatchObject({ status: 401, body: '{"message":"Insufficient credentials"}' });
    expect(await call('GET', '/v2/auth/users', { user: 'alice:apw' })).toMatchObject({ status: 401 });
    expect(await call('PUT', '/v2/keys/foo/a', { user: 'root:rpw', body: 'value=1' })).toMatchObject({ status: 201 });
    expect(await call('GET', '/v2/keys/foo/a', { user: 'alice:apw' })).toMatchObject({ status: 200 });
    const noAuth = '{"errorCode":110,"message":"The request requires user authentication","cause":"Insufficient credentials","index":0}\n';
    expect(await call('PUT', '/v2/keys/foo/a', { user: 'alice:apw', body: 'value=2' })).toMatchObject({ status: 401, body: noAuth });
    expect(await call('GET', '/v2/keys/foo/a', { user: 'alice:bad' })).toMatchObject({ status: 401, body: noAuth });
    expect(await call('GET', '/v2/keys/foo?recursive=true', { user: 'alice:apw' })).toMatchObject({ status: 401 });
    expect(await call('GET', '/v2/keys/foo/a')).toMatchObject({ status: 200 }); // the guest role: /* read and write
    expect(await call('DELETE', '/v2/members/1234')).toMatchObject({ status: 401, body: '{"message":"Insufficient credentials"}' });
    expect(await call('DELETE', '/v2/auth/users/root', { user: 'root:rpw' }))
      .toMatchObject({ status: 403, body: '{"message":"auth: Cannot delete root user while auth is enabled."}' });
    expect(await call('DELETE', '/v2/auth/enable', { user: 'root:rpw' })).toMatchObject({ status: 200, body: '' });
    expect(await call('PUT', '/v2/keys/foo/a', { body: 'value=3' })).toMatchObject({ status: 200 });
  }, 20_000);

  it('a user name that is a directory of the tree closes the connection, as etcd\'s panic does', async () => {
    ({ app, fake } = await startApp());
    await call('PUT', '/v2/auth/users/root', { body: '{"user":"root","password":"rpw"}' });
    await call('PUT', '/v2/auth/enable');
    await expect(call('GET', '/v2/keys/foo', { user: ':x' })).rejects.toThrow();
  }, 20_000);
});
