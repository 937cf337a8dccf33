// Merged range permissions answer as etcd's interval tree does (range_perm_cache.go and its tests).
import { describe, expect, it } from 'vitest';
import { RangePermissions, type KeyPermission, type PermType } from '../../../src/auth/index.js';

const b = (s: string): Buffer => Buffer.from(s);
const perm = (permType: PermType, key: string, rangeEnd = ''): KeyPermission => ({ permType, key: b(key), rangeEnd: b(rangeEnd) });

describe('RangePermissions', () => {
  it('a single-key permission grants that key only', () => {
    const p = new RangePermissions([perm('READ', 'foo')]);
    expect(p.permits('READ', b('foo'), undefined)).toBe(true);
    expect(p.permits('READ', b('fo'), undefined)).toBe(false);
    expect(p.permits('READ', b('foo0'), undefined)).toBe(false);
    expect(p.permits('WRITE', b('foo'), undefined)).toBe(false);
    // a range of exactly that key ([foo, foo\0)) is covered
    expect(p.permits('READ', b('foo'), Buffer.from('foo\0'))).toBe(true);
    expect(p.permits('READ', b('foo'), b('fop'))).toBe(false);
  });

  it('ranges are covered only without gaps, as in etcd\'s tests', () => {
    const p = new RangePermissions([perm('READWRITE', 'a', 'c'), perm('READWRITE', 'x', 'z')]);
    expect(p.permits('READ', b('a'), b('b'))).toBe(true);
    expect(p.permits('READ', b('a'), b('c'))).toBe(true);
    expect(p.permits('WRITE', b('a'), b('d'))).toBe(false);
    expect(p.permits('READ', b('a'), b('z'))).toBe(false);
    expect(p.permits('READ', b('b'), undefined)).toBe(true);
    expect(p.permits('READ', b('c'), undefined)).toBe(false);
    const joined = new RangePermissions([perm('READ', 'a', 'c'), perm('READ', 'c', 'f'), perm('READ', 'b', 'd')]);
    expect(joined.permits('READ', b('a'), b('f'))).toBe(true);
    expect(joined.permits('READ', b('a'), b('g'))).toBe(false);
  });

  it('range_end "\\x00" means every key from key on (and a request to the end needs such a permission)', () => {
    const fromKey = new RangePermissions([perm('READ', 'k', '\0')]);
    expect(fromKey.permits('READ', b('k'), Buffer.from([0]))).toBe(true);
    expect(fromKey.permits('READ', b('zzz'), undefined)).toBe(true);
    expect(fromKey.permits('READ', b('j'), undefined)).toBe(false);
    const bounded = new RangePermissions([perm('READ', 'k', 'z')]);
    expect(bounded.permits('READ', b('k'), Buffer.from([0]))).toBe(false);
  });

  it('READ and WRITE are apart; READWRITE is both', () => {
    const p = new RangePermissions([perm('READ', 'r', 's'), perm('WRITE', 'w', 'x'), perm('READWRITE', 'b', 'c')]);
    expect(p.permits('READ', b('r1'), undefined)).toBe(true);
    expect(p.permits('WRITE', b('r1'), undefined)).toBe(false);
    expect(p.permits('WRITE', b('w1'), undefined)).toBe(true);
    expect(p.permits('READ', b('w1'), undefined)).toBe(false);
    expect(p.permits('READ', b('b1'), undefined)).toBe(true);
    expect(p.permits('WRITE', b('b1'), undefined)).toBe(true);
  });

  it('no permissions grant nothing', () => {
    const p = new RangePermissions([]);
    expect(p.permits('READ', b('a'), undefined)).toBe(false);
    expect(p.permits('READ', b('a'), b('b'))).toBe(false);
  });
});
