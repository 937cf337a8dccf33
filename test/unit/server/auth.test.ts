// Auth through one in-process member's facade, as etcd 3.4 answers: management through raft, enable
// refused without root, tokens from Authenticate, permissions enforced on KV, txn, watch, lease and
// maintenance, a permission revoked while a token is in use, and the state kept across a restart.
import { afterEach, describe, expect, it } from 'vitest';
import type { CallContext, WatchSink } from '../../../src/server/facade.js';
import { decodeEntry, encodeRequest } from '../../../src/server/internal-request.js';
import { rng } from '../mvcc/helpers.js';
import { removeDir, startMember, tempDir, type TestMember } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s);

function rangeReq(key: string, rangeEnd = '') {
  return { key: b(key), range_end: b(rangeEnd), limit: '0', revision: '0', sort_order: 'NONE', sort_target: 'KEY', serializable: false, keys_only: false, count_only: false, min_mod_revision: '0', max_mod_revision: '0', min_create_revision: '0', max_create_revision: '0' } as never;
}
function putReq(key: string, value: string, more: object = {}) {
  return { key: b(key), value: b(value), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false, ...more } as never;
}
const perm = (permType: string, key: string, rangeEnd = '') => ({ name: '', perm: { permType, key: b(key), range_end: b(rangeEnd) } });

let m: TestMember | undefined;
let dir = '';
afterEach(async () => {
  await m?.server.stop();
  m = undefined;
  if (dir) await removeDir(dir);
});

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** root (root role), alice (role "foo": readwrite on foo..fop), bob (no role); auth enabled. */
async function setUp(): Promise<{ f: TestMember['facade']; root: CallContext; alice: CallContext; bob: CallContext }> {
  dir = await tempDir();
  m = await startMember(dir, { bcryptCost: 4 });
  const f = m.facade;
  expect(await code(f.authEnable({}))).toBe('RootUserNotExist');
  await f.userAdd({ name: 'root', password: 'rootpw', options: null } as never);
  expect(await code(f.authEnable({}))).toBe('RootRoleNotExist');
  await f.userGrantRole({ user: 'root', role: 'root' });
  await f.roleAdd({ name: 'foo' });
  await f.roleGrantPermission({ ...perm('READWRITE', 'foo', 'fop'), name: 'foo' } as never);
  await f.userAdd({ name: 'alice', password: 'alicepw', options: null } as never);
  await f.userGrantRole({ user: 'alice', role: 'foo' });
  await f.userAdd({ name: 'bob', password: 'bobpw', options: null } as never);
  expect(await code(f.authenticate({ name: 'root', password: 'rootpw' }))).toBe('AuthNotEnabled');
  await f.authEnable({});
  const login = async (name: string, password: string): Promise<CallContext> => ({ token: (await f.authenticate({ name, password })).token as string });
  return { f, root: await login('root', 'rootpw'), alice: await login('alice', 'alicepw'), bob: await login('bob', 'bobpw') };
}

describe('auth', () => {
  it('answers user and role management as etcd, and lists and gets what was made', async () => {
    const { f, root, alice } = await setUp();
    expect((await f.userList({}, root)).users).toEqual(['alice', 'bob', 'root']);
    expect((await f.roleList({}, root)).roles).toEqual(['foo']);
    expect((await f.userGet({ name: 'alice' }, root)).roles).toEqual(['foo']);
    expect((await f.roleGet({ role: 'foo' }, root)).perm).toEqual([{ permType: 'READWRITE', key: b('foo'), range_end: b('fop') }]);
    // a user may get itself and its own roles, nothing else
    expect((await f.userGet({ name: 'alice' }, alice)).roles).toEqual(['foo']);
    expect((await f.roleGet({ role: 'foo' }, alice)).perm).toHaveLength(1);
    expect(await code(f.userGet({ name: 'root' }, alice))).toBe('PermissionDenied');
    expect(await code(f.userList({}, alice))).toBe('PermissionDenied');
    expect(await code(f.userList({}))).toBe('UserEmpty');
    expect(await code(f.userAdd({ name: 'alice', password: 'x', options: null } as never, root))).toBe('UserAlreadyExist');
    expect(await code(f.userDelete({ name: 'root' }, root))).toBe('InvalidAuthMgmt');
    expect(await code(f.userRevokeRole({ name: 'root', role: 'root' }, root))).toBe('InvalidAuthMgmt');
    expect(await code(f.userGrantRole({ user: 'alice', role: 'nope' }, root))).toBe('RoleNotFound');
    expect(await code(f.authenticate({ name: 'alice', password: 'wrong' }))).toBe('AuthFailed');
    expect(await code(f.authenticate({ name: 'nobody', password: 'x' }))).toBe('AuthFailed');
  });

  it('enforces permissions on range, put, delete, txn and watch; root may do anything', async () => {
    const { f, root, alice, bob } = await setUp();
    await f.put(putReq('foo1', 'v'), alice);
    expect(Number((await f.range(rangeReq('foo', 'fop'), alice)).count)).toBe(1);
    expect(await code(f.put(putReq('bar', 'v'), alice))).toBe('PermissionDenied');
    expect(await code(f.range(rangeReq('f', 'g'), alice))).toBe('PermissionDenied');
    expect(await code(f.range(rangeReq('foo1'), bob))).toBe('PermissionDenied');
    expect(await code(f.range(rangeReq('foo1')))).toBe('UserEmpty');
    expect(await code(f.put(putReq('foo1', 'v')))).toBe('UserEmpty');
    expect(await code(f.put(putReq('foo1', 'v'), { token: 'bogus.1' }))).toBe('InvalidAuthToken');
    expect(await code(f.deleteRange({ key: b('foo1'), range_end: b(''), prev_kv: false } as never, alice))).toBeUndefined();
    await f.put(putReq('bar', 'root-was-here'), root);
    const txn = (compareKey: string, putKey: string, failKey: string) =>
      ({
        compare: [{ result: 'EQUAL', target: 'VERSION', key: b(compareKey), range_end: b(''), version: '0', target_union: 'version' }],
        success: [{ request_put: putReq(putKey, 'x'), request: 'request_put' }],
        failure: [{ request_range: rangeReq(failKey), request: 'request_range' }],
      }) as never;
    expect(await code(f.txn(txn('foo2', 'foo3', 'foo4'), alice))).toBeUndefined();
    expect(await code(f.txn(txn('bar', 'foo3', 'foo4'), alice))).toBe('PermissionDenied'); // the compare
    expect(await code(f.txn(txn('foo2', 'foo3', 'bar'), alice))).toBe('PermissionDenied'); // the failure branch
    expect(await code(f.txn(txn('foo2', 'bar', 'foo4'), alice))).toBe('PermissionDenied'); // the success branch
    const sink: WatchSink = { send: () => true } as never;
    const ws = f.openWatchStream(sink, alice);
    const spec = (key: string, rangeEnd = '') => ({ watchId: 0, key: b(key), rangeEnd: b(rangeEnd), startRevision: 1, noPut: false, noDelete: false, prevKv: false, progressNotify: false });
    expect(() => ws.watch(spec('foo1'))).not.toThrow();
    expect(() => ws.watch({ ...spec('bar'), watchId: 1 })).toThrow('rpc error: code = PermissionDenied desc = etcdserver: permission denied');
    ws.close();
    const anon = f.openWatchStream(sink);
    expect(() => anon.watch(spec('foo1'))).toThrow('rpc error: code = InvalidArgument desc = etcdserver: user name is empty');
    anon.close();
  });

  it('maintenance needs root; a lease revoke needs write on the lease\'s keys', async () => {
    const { f, root, alice } = await setUp();
    // etcd's maintenance server passes the auth store's errors through unmapped (gRPC Unknown)
    expect(await code(f.hash({}, alice))).toBe('Error: auth: permission denied');
    expect(await code(f.hash({}))).toBe('Error: auth: user name is empty');
    expect(await code(f.hash({}, { token: 'bogus.1' }))).toBe('Error: auth: invalid auth token');
    expect(await code(f.hash({}, root))).toBeUndefined();
    expect(await code(f.defragment({}, alice))).toBe('Error: auth: permission denied');
    expect(await code(f.memberRemove({ ID: '1' } as never, alice))).toBe('PermissionDenied');
    const lease = await f.leaseGrant({ TTL: '60', ID: '0' } as never, root);
    await f.put(putReq('secret', 'v', { lease: String(lease.ID) }), root);
    expect(await code(f.leaseRevoke({ ID: String(lease.ID) } as never, alice))).toBe('PermissionDenied');
    expect(await code(f.put(putReq('foo9', 'v', { lease: String(lease.ID) }), alice))).toBe('PermissionDenied');
    expect(await code(f.leaseRevoke({ ID: String(lease.ID) } as never, root))).toBeUndefined();
  });

  it('a permission revoked while its token is in use stops the next request', async () => {
    const { f, root, alice } = await setUp();
    await f.put(putReq('foo1', 'v'), alice);
    await f.roleRevokePermission({ role: 'foo', key: b('foo'), range_end: b('fop') }, root);
    expect(await code(f.put(putReq('foo1', 'v'), alice))).toBe('PermissionDenied');
    expect(await code(f.range(rangeReq('foo1'), alice))).toBe('PermissionDenied');
    // changing the password or deleting the user ends its tokens
    await f.userChangePassword({ name: 'alice', password: 'new' }, root);
    expect(await code(f.range(rangeReq('foo1'), alice))).toBe('InvalidAuthToken');
  });

  it('lock and election run as their caller: its permissions apply to the keys they touch', async () => {
    const { f, root, alice } = await setUp();
    const held = await f.lock({ name: b('foo-lock'), lease: '0' }, alice);
    expect(Buffer.from(held.key as Buffer).toString()).toMatch(/^foo-lock\//);
    await f.unlock({ key: held.key as Buffer }, alice);
    const refused = await code(f.lock({ name: b('other-lock'), lease: '0' }, alice));
    expect(refused).toBe('PermissionDenied');
    expect(await code(f.lock({ name: b('any-lock'), lease: '0' }))).toBe('UserEmpty');
    const mine = await f.lock({ name: b('any-lock'), lease: '0' }, root);
    await f.unlock({ key: mine.key as Buffer }, root);
  });

  it('random requests through the facade as a restricted user: refused exactly outside its permissions', async () => {
    const { f, root } = await setUp();
    await f.userAdd({ name: 'carol', password: 'c', options: null } as never, root);
    await f.roleAdd({ name: 'mix' }, root);
    await f.roleGrantPermission({ ...perm('READWRITE', 'a', 'b'), name: 'mix' } as never, root); // prefix a
    await f.roleGrantPermission({ ...perm('READ', 'b', 'c'), name: 'mix' } as never, root); // prefix b, read only
    await f.roleGrantPermission({ ...perm('WRITE', 'd'), name: 'mix' } as never, root); // key d, write only
    await f.userGrantRole({ user: 'carol', role: 'mix' }, root);
    const carol = { token: (await f.authenticate({ name: 'carol', password: 'c' })).token as string };
    const rand = rng(17);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const keys = ['a', 'a1', 'ab', 'b', 'b1', 'bz', 'c', 'c1', 'd', 'd1', 'e'];
    const canRead = (k: string): boolean => k.startsWith('a') || k.startsWith('b');
    const canWrite = (k: string): boolean => k.startsWith('a') || k === 'd';
    const end = (p: string): string => p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
    for (let n = 0; n < 300; n++) {
      const k = pick(keys);
      const op = pick(['get', 'getPrefix', 'put', 'del', 'delPrefix', 'txn']);
      let allowed: boolean;
      let p: Promise<unknown>;
      if (op === 'get') [allowed, p] = [canRead(k), f.range(rangeReq(k), carol)];
      else if (op === 'getPrefix') [allowed, p] = [canRead(k), f.range(rangeReq(k, end(k)), carol)];
      else if (op === 'put') [allowed, p] = [canWrite(k), f.put(putReq(k, 'v'), carol)];
      else if (op === 'del') [allowed, p] = [canWrite(k), f.deleteRange({ key: b(k), range_end: b(''), prev_kv: false } as never, carol)];
      else if (op === 'delPrefix') [allowed, p] = [k.startsWith('a'), f.deleteRange({ key: b(k), range_end: b(end(k)), prev_kv: false } as never, carol)];
      else {
        const [c, w, r] = [pick(keys), pick(keys), pick(keys)];
        allowed = canRead(c) && canWrite(w) && canRead(r);
        p = f.txn({
          compare: [{ result: 'EQUAL', target: 'VERSION', key: b(c), range_end: b(''), version: '0', target_union: 'version' }],
          success: [{ request_put: putReq(w, 'x'), request: 'request_put' }],
          failure: [{ request_range: rangeReq(r), request: 'request_range' }],
        } as never, carol);
      }
      const got = await code(p);
      expect(got, `${op} ${k}`).toBe(allowed ? undefined : 'PermissionDenied');
    }
  });

  it('a request checked at an auth revision that moved before it applied is refused as old', async () => {
    const { f, root, alice } = await setUp();
    const revoke = f.roleRevokePermission({ role: 'foo', key: b('foo'), range_end: b('fop') }, root);
    const put = f.put(putReq('foo1', 'v'), alice); // proposed after the revoke, with the revision before it
    await revoke;
    expect(await code(put)).toBe('AuthOldRevision');
  });

  it('a linearizable read waits for ReadIndex before its permission check, as etcd\'s Range and Txn do', async () => {
    const { f, root, alice } = await setUp();
    const ri = m!.server.readIndexer;
    const wait = ri.waitLinearizable.bind(ri);
    // a permission change the read's ReadIndex covers, applied here only while the read waits
    const revokedDuringWait = (role: string, key: string, end: string): void => {
      ri.waitLinearizable = async () => {
        ri.waitLinearizable = wait;
        await f.roleRevokePermission({ role, key: b(key), range_end: b(end) }, root);
        return wait();
      };
    };
    revokedDuringWait('foo', 'foo', 'fop');
    expect(await code(f.range(rangeReq('foo1'), alice))).toBe('PermissionDenied');
    await f.roleGrantPermission({ ...perm('READWRITE', 'foo', 'fop'), name: 'foo' } as never, root);
    const readTxn = { compare: [], success: [{ request_range: rangeReq('foo1'), request: 'request_range' }], failure: [] } as never;
    expect(await code(f.txn(readTxn, alice))).toBeUndefined();
    revokedDuringWait('foo', 'foo', 'fop');
    expect(await code(f.txn(readTxn, alice))).toBe('PermissionDenied');
  });

  it('auth entries carry the user and auth revision in their header, as etcd writes them', () => {
    const data = encodeRequest({ header: { ID: '5', username: 'root', auth_revision: '3' }, auth_enable: {} });
    expect(Buffer.from(data).toString('hex')).toBe('a2060a08051204726f6f741803' + 'c23e00');
    const e = decodeEntry(data);
    expect(e.kind).toBe('v3');
    if (e.kind === 'v3') expect(e.req.header).toMatchObject({ username: 'root', auth_revision: '3' });
    const put = encodeRequest({ header: { ID: '5', username: 'alice', auth_revision: '7' }, put: putReq('k', 'v') });
    const p = decodeEntry(put);
    if (p.kind === 'v3') expect(p.req.header).toMatchObject({ username: 'alice', auth_revision: '7' });
    else throw new Error('read as v2');
  });

  it('disable drops every token; the state survives a restart', async () => {
    const { f, root } = await setUp();
    await f.authDisable({}, root);
    expect(await code(f.put(putReq('x', 'v'), root))).toBe('InvalidAuthToken');
    expect(await code(f.put(putReq('x', 'v')))).toBeUndefined();
    await f.authEnable({});
    await m!.server.stop();
    m = await startMember(dir, { bcryptCost: 4 });
    expect(m.server.auth.enabled).toBe(true);
    expect(await code(m.facade.put(putReq('x', 'v')))).toBe('UserEmpty');
    const token = (await m.facade.authenticate({ name: 'root', password: 'rootpw' })).token as string;
    expect((await m.facade.userList({}, { token })).users).toEqual(['alice', 'bob', 'root']);
  });
});
