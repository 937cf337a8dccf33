import { describe, expect, it } from 'vitest';
import { V2Error, V2Store, mirrorMemberAdd, mirrorMemberRemove } from '../../../src/v2store/index.js';

describe('v2 store stats, as etcd 3.4.23 counts them', () => {
  it('counts a refused delete of the root (107) as deleteSuccess', () => {
    const s = new V2Store();
    expect(() => s.delete('/', { recursive: true }, 0)).toThrow(V2Error);
    expect(() => s.delete('/', { recursive: true }, 0)).toThrow(/Root is read only/);
    expect(s.statsJson()).toMatchObject({ deleteSuccess: 2, deleteFail: 0 });
    expect(() => s.delete('/missing', {}, 0)).toThrow(/Key not found/);
    expect(s.statsJson()).toMatchObject({ deleteSuccess: 2, deleteFail: 1 });
  });

  it('counts a create through a file (104) as one more setsFail (a set: its own setsFail only)', () => {
    const s = new V2Store();
    s.set('/f', { value: 'x' }, 0);
    expect(() => s.create('/f/a', { value: 'y' }, 0)).toThrow(/Not a directory/);
    expect(() => s.create('/f', { value: 'y', unique: true }, 0)).toThrow(/Not a directory/);
    expect(s.statsJson()).toMatchObject({ setsSuccess: 1, setsFail: 2, createFail: 2 });
    expect(() => s.set('/f/a/b', { value: 'y' }, 0)).toThrow(/Not a directory/);
    expect(s.statsJson()).toMatchObject({ setsSuccess: 1, setsFail: 3 });
    expect(() => s.create('/f', { value: 'y' }, 0)).toThrow(/Key already exists/);
    expect(() => s.set('/', { value: 'y' }, 0)).toThrow(/Root is read only/);
    expect(s.statsJson()).toMatchObject({ setsFail: 4, createFail: 3 });
  });

  it('a set or create with an expiration before 2000 is permanent; an update keeps it and expires at the next sync', () => {
    const s = new V2Store();
    const now = Date.UTC(2026, 11, 2);
    const past = Date.UTC(1688, 5, 19);
    expect(s.set('/a', { value: '1', expireAtMs: past }, now).serialize()).toBe('{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":1,"createdIndex":1}}');
    expect(s.create('/b', { value: '1', expireAtMs: past }, now).node.ttl).toBeUndefined();
    const u = s.update('/a', { value: '2', expireAtMs: past }, now);
    expect([u.node.expiration, u.node.ttl]).toEqual(['1688-06-19T00:00:00Z', -9223372036]);
    s.deleteExpiredKeys(now);
    expect(() => s.get('/a', {}, now)).toThrow(/Key not found/);
    expect(s.get('/b', {}, now).node.value).toBe('1');
  });

  it('counts an update refused at the root (107) or giving a directory a value (102) as updateSuccess, a CAS at the root as compareAndSwapSuccess', () => {
    const s = new V2Store();
    s.set('/d', { dir: true }, 0);
    expect(() => s.update('/', { value: 'y' }, 0)).toThrow(/Root is read only/);
    expect(() => s.update('/d', { value: 'y' }, 0)).toThrow(/Not a file/);
    expect(() => s.update('/nx', { value: 'y' }, 0)).toThrow(/Key not found/);
    expect(s.statsJson()).toMatchObject({ updateSuccess: 2, updateFail: 1 });
    expect(() => s.compareAndSwap('/', 'x', undefined, { value: 'y' }, 0)).toThrow(/Root is read only/);
    expect(() => s.compareAndSwap('/d', 'x', undefined, { value: 'y' }, 0)).toThrow(/Not a file/);
    expect(s.statsJson()).toMatchObject({ compareAndSwapSuccess: 1, compareAndSwapFail: 1 });
  });

  it('membershipReadProbe counts the two reads of etcd\'s membership validation (members found, removed_members missing)', () => {
    const s = new V2Store();
    mirrorMemberAdd(s, 'abc', { peerURLs: ['http://10.0.0.2:2380'], isLearner: false }, 0);
    const before = s.statsJson();
    s.membershipReadProbe();
    expect(s.statsJson()).toMatchObject({ getsSuccess: before.getsSuccess + 1, getsFail: before.getsFail + 1 });
    mirrorMemberRemove(s, 'abc', 0);
    s.membershipReadProbe();
    expect(s.statsJson()).toMatchObject({ getsSuccess: before.getsSuccess + 3, getsFail: before.getsFail + 1 });
  });
});
