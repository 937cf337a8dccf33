// AuthStore: etcd 3.4's rules for users, roles, the root user, the enabled flag and the auth
// revision; its records in etcd's buckets as gogoproto bytes; bcrypt hashes etcd can check.
import { verifySync } from '@node-rs/bcrypt';
import { describe, expect, it } from 'vitest';
import { AuthError, AuthStore, decodeUser, encodeRole, encodeUser, type AuthErrorCode } from '../../../src/auth/index.js';
import { MemBackend } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s);

async function fresh(be = new MemBackend()): Promise<{ be: MemBackend; s: AuthStore }> {
  return { be, s: await AuthStore.open(be, { bcryptCost: 4 }) };
}

function code(f: () => unknown): AuthErrorCode | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof AuthError) return e.code;
    throw e;
  }
}

describe('AuthStore', () => {
  it('starts at auth revision 1, written to auth/authRevision as 8 bytes big-endian', async () => {
    const { be, s } = await fresh();
    expect(s.revision).toBe(1);
    expect(be.get('auth', b('authRevision'))).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]));
    expect(s.enabled).toBe(false);
  });

  it('enable needs root with the root role; disable bumps the revision', async () => {
    const { be, s } = await fresh();
    expect(code(() => s.authEnable())).toBe('RootUserNotExist');
    s.userAdd({ name: 'root', password: 'pw' });
    expect(code(() => s.authEnable())).toBe('RootRoleNotExist');
    s.userGrantRole('root', 'root'); // the root role need not exist as a role
    const rev = s.revision;
    s.authEnable();
    expect(s.enabled).toBe(true);
    expect(s.revision).toBe(rev);
    expect(be.get('auth', b('authEnabled'))).toEqual(Buffer.from([1]));
    expect(code(() => s.userDelete('root'))).toBe('InvalidAuthMgmt');
    expect(code(() => s.userRevokeRole('root', 'root'))).toBe('InvalidAuthMgmt');
    expect(code(() => s.roleDelete('root'))).toBe('InvalidAuthMgmt');
    s.authDisable();
    expect(s.enabled).toBe(false);
    expect(s.revision).toBe(rev + 1);
    expect(be.get('auth', b('authEnabled'))).toEqual(Buffer.from([0]));
  });

  it('every change of users or roles bumps the revision; refusals and no-ops do not', async () => {
    const { s } = await fresh();
    const steps: Array<[() => void, number]> = [
      [() => s.userAdd({ name: 'u', password: 'p' }), 1],
      [() => s.roleAdd('r'), 1],
      [() => s.roleGrantPermission('r', { permType: 'READ', key: b('a'), rangeEnd: b('b') }), 1],
      [() => s.userGrantRole('u', 'r'), 1],
      [() => s.userGrantRole('u', 'r'), 0],
      [() => s.userChangePassword('u', 'q'), 1],
      [() => s.roleRevokePermission('r', b('a'), b('b')), 1],
      [() => s.userRevokeRole('u', 'r'), 1],
      [() => s.roleDelete('r'), 1],
      [() => s.userDelete('u'), 1],
    ];
    for (const [step, bump] of steps) {
      const before = s.revision;
      step();
      expect(s.revision).toBe(before + bump);
    }
    const before = s.revision;
    expect(code(() => s.userAdd({ name: '', password: 'p' }))).toBe('UserEmpty');
    expect(code(() => s.roleAdd(''))).toBe('RoleEmpty');
    expect(code(() => s.userDelete('nobody'))).toBe('UserNotFound');
    expect(code(() => s.roleDelete('nothing'))).toBe('RoleNotFound');
    s.userAdd({ name: 'u', password: 'p' });
    expect(code(() => s.userAdd({ name: 'u', password: 'p' }))).toBe('UserAlreadyExist');
    s.roleAdd('r');
    expect(code(() => s.roleAdd('r'))).toBe('RoleAlreadyExist');
    expect(code(() => s.userGrantRole('u', 'missing'))).toBe('RoleNotFound');
    expect(code(() => s.userGrantRole('nobody', 'r'))).toBe('UserNotFound');
    expect(code(() => s.userRevokeRole('u', 'r'))).toBe('RoleNotGranted');
    expect(code(() => s.roleRevokePermission('r', b('a'), b('')))).toBe('PermissionNotGranted');
    expect(s.revision).toBe(before + 2);
  });

  it('keeps roles sorted on a user and permissions sorted by key on a role; a regrant updates the type', async () => {
    const { s } = await fresh();
    s.userAdd({ name: 'u', password: 'p' });
    for (const r of ['zeta', 'alpha', 'mid']) {
      s.roleAdd(r);
      s.userGrantRole('u', r);
    }
    expect(s.userGet('u')).toEqual(['alpha', 'mid', 'zeta']);
    s.roleGrantPermission('mid', { permType: 'READ', key: b('k2'), rangeEnd: b('') });
    s.roleGrantPermission('mid', { permType: 'WRITE', key: b('k1'), rangeEnd: b('k9') });
    s.roleGrantPermission('mid', { permType: 'READWRITE', key: b('k2'), rangeEnd: b('') });
    expect(s.roleGet('mid')).toEqual([
      { permType: 'WRITE', key: b('k1'), rangeEnd: b('k9') },
      { permType: 'READWRITE', key: b('k2'), rangeEnd: b('') },
    ]);
    s.roleDelete('mid');
    expect(s.userGet('u')).toEqual(['alpha', 'zeta']);
    expect(s.roleList()).toEqual(['alpha', 'zeta']);
  });

  it('stores a bcrypt $2a$ hash of the --bcrypt-cost, never the password; no-password users have none', async () => {
    const { be, s } = await fresh();
    s.userAdd({ name: 'u', password: 'secret' });
    s.userAdd({ name: 'cn', password: '', options: { no_password: true } });
    const u = decodeUser(be.get('authUsers', b('u'))!);
    expect(u.password.toString()).toMatch(/^\$2a\$04\$/);
    expect(verifySync('secret', u.password)).toBe(true);
    expect(be.get('authUsers', b('u'))!.includes(b('secret'))).toBe(false);
    const cn = decodeUser(be.get('authUsers', b('cn'))!);
    expect(cn.password.length).toBe(0);
    expect(cn.noPassword).toBe(true);
    expect(s.userList()).toEqual(['cn', 'u']);
  });

  it('checks passwords only while enabled, and refuses no-password users', async () => {
    const { s } = await fresh();
    s.userAdd({ name: 'root', password: 'rootpw' });
    s.userGrantRole('root', 'root');
    s.userAdd({ name: 'cn', password: '', options: { no_password: true } });
    await expect(s.checkPassword('root', 'rootpw')).rejects.toMatchObject({ code: 'AuthNotEnabled' });
    s.authEnable();
    await expect(s.checkPassword('root', 'rootpw')).resolves.toBe(s.revision);
    await expect(s.checkPassword('root', 'wrong')).rejects.toMatchObject({ code: 'AuthFailed' });
    await expect(s.checkPassword('nobody', 'x')).rejects.toMatchObject({ code: 'AuthFailed' });
    await expect(s.checkPassword('cn', '')).rejects.toMatchObject({ code: 'NoPasswordUser' });
  });

  it('permission checks: off while disabled; root passes; others by their roles; old revisions refused', async () => {
    const { s } = await fresh();
    s.userAdd({ name: 'root', password: 'r' });
    s.userGrantRole('root', 'root');
    s.userAdd({ name: 'u', password: 'p' });
    s.roleAdd('r');
    s.roleGrantPermission('r', { permType: 'READWRITE', key: b('foo'), rangeEnd: b('fop') });
    s.userGrantRole('u', 'r');
    const u = { username: 'u', revision: s.revision };
    expect(code(() => s.isPutPermitted({ username: '', revision: 0 }, b('x')))).toBeUndefined();
    s.authEnable();
    expect(code(() => s.isPutPermitted({ username: 'root', revision: s.revision }, b('x')))).toBeUndefined();
    expect(code(() => s.isPutPermitted(u, b('foo1')))).toBeUndefined();
    expect(code(() => s.isRangePermitted(u, b('foo'), b('fop')))).toBeUndefined();
    expect(code(() => s.isRangePermitted(u, b('foo'), b('foq')))).toBe('PermissionDenied');
    expect(code(() => s.isDeleteRangePermitted(u, b('bar'), undefined))).toBe('PermissionDenied');
    expect(code(() => s.isPutPermitted({ username: '', revision: 0 }, b('foo1')))).toBe('UserEmpty');
    expect(code(() => s.isPutPermitted({ username: 'ghost', revision: s.revision }, b('foo1')))).toBe('PermissionDenied');
    expect(code(() => s.isAdminPermitted(u))).toBe('PermissionDenied');
    expect(code(() => s.isAdminPermitted(undefined))).toBe('UserEmpty');
    expect(code(() => s.isAdminPermitted({ username: 'ghost', revision: 1 }))).toBe('UserNotFound');
    expect(code(() => s.isAdminPermitted({ username: 'root', revision: 1 }))).toBeUndefined();
    s.roleRevokePermission('r', b('foo'), b('fop'));
    expect(code(() => s.isPutPermitted(u, b('foo1')))).toBe('AuthOldRevision');
    expect(code(() => s.isPutPermitted({ username: 'u', revision: s.revision }, b('foo1')))).toBe('PermissionDenied');
  });

  it('reopens with the same state from the backend', async () => {
    const { be, s } = await fresh();
    s.userAdd({ name: 'root', password: 'r' });
    s.userGrantRole('root', 'root');
    s.roleAdd('r');
    s.roleGrantPermission('r', { permType: 'READ', key: b('a'), rangeEnd: b('\0') });
    s.authEnable();
    const again = await AuthStore.open(be, { bcryptCost: 4 });
    expect(again.enabled).toBe(true);
    expect(again.revision).toBe(s.revision);
    expect(again.userList()).toEqual(['root']);
    expect(again.roleGet('r')).toEqual(s.roleGet('r'));
  });

  it('writes etcd\'s gogoproto bytes for User and Role', () => {
    const user = encodeUser({ name: 'root', password: b('$2a'), roles: ['root'], noPassword: false });
    expect(user.toString('hex')).toBe('0a04726f6f74' + '1203243261' + '1a04726f6f74' + '2200');
    const noPw = encodeUser({ name: 'cn', password: b(''), roles: [], noPassword: true });
    expect(noPw.toString('hex')).toBe('0a02636e' + '22020801');
    const role = encodeRole({ name: 'r', keyPermission: [{ permType: 'READWRITE', key: b('a'), rangeEnd: b('b') }, { permType: 'READ', key: b('c'), rangeEnd: b('') }] });
    expect(role.toString('hex')).toBe('0a0172' + '120808021201611a0162' + '1203120163');
  });
});

describe('token providers', () => {
  it('simple tokens: <16 letters>.<index>, known once assigned, alive ttl after their last use', async () => {
    const { SimpleTokenProvider, simpleTokenIndex } = await import('../../../src/auth/index.js');
    let i = 0;
    const p = new SimpleTokenProvider(1000, (n) => i++ % n);
    const prefix = p.genTokenPrefix();
    expect(prefix).toMatch(/^[a-zA-Z]{16}$/);
    p.assign('alice', prefix, 42, 0); // disabled: the token is made but not kept (etcd's tokenSimple)
    expect(p.user(`${prefix}.42`, 0)).toBeUndefined();
    p.enable();
    const t = p.assign('alice', prefix, 43, 0);
    expect(t).toBe(`${prefix}.43`);
    expect(simpleTokenIndex(t)).toBe(43);
    expect(simpleTokenIndex('nodot')).toBeUndefined();
    expect(simpleTokenIndex('a.b.1')).toBeUndefined();
    expect(p.user(t, 900)).toBe('alice'); // used at 900: lives until 1900
    expect(p.user(t, 1800)).toBe('alice');
    expect(p.sweep(2700)).toBe(0);
    expect(p.sweep(2801)).toBe(1);
    expect(p.user(t, 2801)).toBeUndefined();
    const u = p.assign('bob', 'x', 44, 0);
    p.invalidateUser('bob');
    expect(p.user(u, 1)).toBeUndefined();
    const v = p.assign('bob', 'y', 45, 0);
    p.disable();
    expect(p.user(v, 1)).toBeUndefined();
  });

  it('--auth-token as etcd parses it: simple, "" (no tokens), anything else but jwt invalid', async () => {
    const { newTokenProvider, NopTokenProvider, SimpleTokenProvider } = await import('../../../src/auth/index.js');
    const d = { ttlMs: 1000, randomInt: () => 0, readFile: (): Buffer => { throw new Error('no file'); } };
    expect(newTokenProvider('simple', d)).toBeInstanceOf(SimpleTokenProvider);
    const nop = newTokenProvider('', d);
    expect(nop).toBeInstanceOf(NopTokenProvider);
    expect(() => nop.assign('root', '', 5, 0, 1)).toThrow('auth: authentication failed, invalid user ID or password');
    expect(() => newTokenProvider('foo', d)).toThrow('auth: invalid auth options');
    expect(() => newTokenProvider('simple,a', d)).toThrow('auth: invalid auth options');
    expect(() => newTokenProvider('jwt,a=1,a=2', d)).toThrow('auth: invalid auth options');
    expect(() => newTokenProvider('jwt,sign-method=RS256', d)).toThrow('auth: missing key data');
  });
});
