// Directory, delete, root and hidden-key behaviour observed against etcd 3.4.23 (observed-etcd.md).
import { describe, expect, it } from 'vitest';
import type { V2Store } from '../../../src/v2store/index.js';
import { answer, freshMember, T0 } from './helpers.js';

const t = T0 + 1000;
const n = (k: string, v: string, m: number, c = m): string =>
  `{"key":"${k}","value":"${v}","modifiedIndex":${m},"createdIndex":${c}}`;
const d = (k: string, m: number, c = m): string => `{"key":"${k}","dir":true,"modifiedIndex":${m},"createdIndex":${c}}`;

/** A member with: /d1 (dir, 4) /d1/a/b (file, 5) /e2 (file, 6) /cd (file, 7). */
function seeded(): V2Store {
  const s = freshMember();
  s.set('/d1', { dir: true }, t);
  s.set('/d1/a/b', { value: 'x' }, t);
  s.set('/e2', { value: '1' }, t);
  s.set('/cd', { value: '1' }, t);
  return s;
}

type Case = [label: string, run: (s: V2Store) => unknown, status: number, body: string];

const cases: Case[] = [
  ['set file over dir', (s) => s.set('/d1', { value: 'x' }, t), 403, '{"errorCode":102,"message":"Not a file","cause":"/d1","index":7}'],
  ['set through file', (s) => s.set('/d1/a/b/c', { value: 'x' }, t), 400, '{"errorCode":104,"message":"Not a directory","cause":"/d1/a/b","index":7}'],
  ['dir replaces file', (s) => s.set('/d1/a/b', { dir: true }, t), 200,
    `{"action":"set","node":${d('/d1/a/b', 8)},"prevNode":${n('/d1/a/b', 'x', 5)}}`],
  ['set dir over dir', (s) => s.set('/d1', { dir: true }, t), 403, '{"errorCode":102,"message":"Not a file","cause":"/d1","index":7}'],
  ['create dir over dir', (s) => s.create('/d1', { dir: true }, t), 412, '{"errorCode":105,"message":"Key already exists","cause":"/d1","index":7}'],
  ['update dir: event has new index', (s) => s.update('/d1', {}, t), 200, `{"action":"update","node":${d('/d1', 8, 4)},"prevNode":${d('/d1', 4)}}`],
  ['update dir with value', (s) => s.update('/d1', { value: 'q' }, t), 403, '{"errorCode":102,"message":"Not a file","cause":"/d1","index":7}'],
  ['cas on dir', (s) => s.compareAndSwap('/d1', 'a', undefined, { value: 'q' }, t), 403, '{"errorCode":102,"message":"Not a file","cause":"/d1","index":7}'],
  ['set root', (s) => s.set('/', { value: 'x' }, t), 400, '{"errorCode":107,"message":"Root is read only","cause":"/","index":7}'],
  ['update root', (s) => s.update('/', { value: 'x' }, t), 400, '{"errorCode":107,"message":"Root is read only","cause":"/","index":7}'],
  ['cas root', (s) => s.compareAndSwap('/', 'x', undefined, { value: '1' }, t), 400, '{"errorCode":107,"message":"Root is read only","cause":"/","index":7}'],
  ['create root', (s) => s.create('/', { value: 'x' }, t), 400, '{"errorCode":107,"message":"Root is read only","cause":"/","index":7}'],
  ['delete root', (s) => s.delete('/', { dir: true, recursive: true }, t), 400, '{"errorCode":107,"message":"Root is read only","cause":"/","index":7}'],
  ['cad root: no cause', (s) => s.compareAndDelete('/', 'x', undefined, t), 403, '{"errorCode":102,"message":"Not a file","index":7}'],
  ['POST on root', (s) => s.create('/', { value: 'x', unique: true }, t), 201, `{"action":"create","node":${n('/00000000000000000008', 'x', 8)}}`],
  ['POST dir', (s) => s.create('/newq', { dir: true, unique: true }, t), 201, `{"action":"create","node":${d('/newq/00000000000000000008', 8)}}`],
  ['POST on file', (s) => s.create('/e2', { value: '3', unique: true }, t), 400, '{"errorCode":104,"message":"Not a directory","cause":"/e2","index":7}'],
  ['set empty value', (s) => s.set('/e1', {}, t), 201, `{"action":"set","node":${n('/e1', '', 8)}}`],
  ['delete dir without dir', (s) => s.delete('/d1', {}, t), 403, '{"errorCode":102,"message":"Not a file","cause":"/d1","index":7}'],
  ['delete non-empty dir', (s) => s.delete('/d1', { dir: true }, t), 403, '{"errorCode":108,"message":"Directory not empty","cause":"/d1","index":7}'],
  ['delete missing', (s) => s.delete('/nokey9', { dir: true }, t), 404, '{"errorCode":100,"message":"Key not found","cause":"/nokey9","index":7}'],
  ['delete recursive', (s) => s.delete('/d1', { recursive: true }, t), 200, `{"action":"delete","node":${d('/d1', 8, 4)},"prevNode":${d('/d1', 4)}}`],
  ['delete file with dir=true', (s) => s.delete('/e2', { dir: true }, t), 200,
    `{"action":"delete","node":{"key":"/e2","modifiedIndex":8,"createdIndex":6},"prevNode":${n('/e2', '1', 6)}}`],
  ['get through file', (s) => s.get('/e2/x', {}, t), 400, '{"errorCode":104,"message":"Not a directory","cause":"/e2","index":7}'],
  ['get under missing', (s) => s.get('/nokey/x/y', {}, t), 404, '{"errorCode":100,"message":"Key not found","cause":"/nokey","index":7}'],
  ['create under file', (s) => s.create('/e2/x', { value: '1' }, t), 400, '{"errorCode":104,"message":"Not a directory","cause":"/e2","index":7}'],
  ['update under file', (s) => s.update('/e2/x', { value: '1' }, t), 400, '{"errorCode":104,"message":"Not a directory","cause":"/e2","index":7}'],
  ['delete under file', (s) => s.delete('/e2/x/y', {}, t), 400, '{"errorCode":104,"message":"Not a directory","cause":"/e2","index":7}'],
  ['cad value fails', (s) => s.compareAndDelete('/cd', '2', undefined, t), 412, '{"errorCode":101,"message":"Compare failed","cause":"[2 != 1]","index":7}'],
  ['cad both fail', (s) => s.compareAndDelete('/cd', '2', 2, t), 412, '{"errorCode":101,"message":"Compare failed","cause":"[2 != 1] [2 != 7]","index":7}'],
  ['cad uint64 index', (s) => s.compareAndDelete('/cd', undefined, 18446744073709551615n, t), 412, '{"errorCode":101,"message":"Compare failed","cause":"[18446744073709551615 != 7]","index":7}'],
  ['cas index past 2^53', (s) => s.compareAndSwap('/cd', undefined, 9007199254740993n, { value: 'q' }, t), 412, '{"errorCode":101,"message":"Compare failed","cause":"[9007199254740993 != 7]","index":7}'],
  ['cad ok', (s) => s.compareAndDelete('/cd', '1', 0, t), 200,
    `{"action":"compareAndDelete","node":{"key":"/cd","modifiedIndex":8,"createdIndex":7},"prevNode":${n('/cd', '1', 7)}}`],
  ['cad dir', (s) => s.compareAndDelete('/d1', undefined, 4, t), 403, '{"errorCode":102,"message":"Not a file","cause":"/d1","index":7}'],
  ['refresh set of a dir', (s) => s.set('/d1', { refresh: true, ttlSeconds: 10 }, t), 403, '{"errorCode":102,"message":"Not a file","cause":"/d1","index":7}'],
  ['refresh set of a missing key', (s) => s.set('/rnx', { refresh: true, ttlSeconds: 10 }, t), 404, '{"errorCode":100,"message":"Key not found","cause":"/rnx","index":7}'],
  ['cleaned key', (s) => s.set('//n1//a/../b/', { value: '1' }, t), 201, `{"action":"set","node":${n('/n1/b', '1', 8)}}`],
];

describe('directories, deletes, root (observed etcd 3.4.23)', () => {
  it.each(cases)('%s', (_label, run, status, body) => {
    const s = seeded();
    const got = answer(() => run(s) as never);
    expect({ status: got.status, body: got.body }).toEqual({ status, body });
  });

  it('a failed write leaves index and tree untouched', () => {
    const s = seeded();
    const before = s.save().toString();
    for (const [, run, status] of cases) if (status >= 400) answer(() => run(s) as never);
    expect(s.index()).toBe(7);
    expect(JSON.parse(s.save().toString()).root).toEqual(JSON.parse(before).root);
  });

  it('updating a directory keeps its modifiedIndex in the tree (etcd quirk)', () => {
    const s = seeded();
    s.update('/d1', { ttlSeconds: 100 }, t);
    expect(s.get('/d1', {}, t).serialize()).toContain('"modifiedIndex":4,"createdIndex":4}}');
  });

  it('hides "_" names from listings but serves them directly', () => {
    const s = freshMember();
    s.set('/_h', { value: '1' }, t);
    s.set('/_hd/x', { value: '1' }, t);
    s.set('/v', { value: '1' }, t);
    expect(s.get('/', { recursive: true, sorted: true }, t).serialize())
      .toBe(`{"action":"get","node":{"dir":true,"nodes":[${n('/v', '1', 6)}]}}`);
    expect(s.get('/_hd', {}, t).serialize())
      .toBe(`{"action":"get","node":{"key":"/_hd","dir":true,"nodes":[${n('/_hd/x', '1', 5)}],"modifiedIndex":5,"createdIndex":5}}`);
  });

  it('an empty root lists as {"dir":true} and /0 is invisible', () => {
    const s = freshMember();
    expect(s.get('/', { recursive: true }, t).serialize()).toBe('{"action":"get","node":{"dir":true}}');
    expect(answer(() => s.get('/0', {}, t)).body).toBe('{"errorCode":100,"message":"Key not found","cause":"/0","index":3}');
    expect(answer(() => s.get('/1', {}, t)).body).toBe('{"errorCode":100,"message":"Key not found","cause":"/1","index":3}');
  });

  it('a delete shows the prevNode ttl left at the delete time (observed)', () => {
    const s = freshMember();
    s.create('/rnx', { ttlSeconds: 10 }, t);
    expect(s.delete('/rnx', {}, t + 2500).serialize()).toBe('{"action":"delete","node":{"key":"/rnx","modifiedIndex":5,"createdIndex":4},'
      + `"prevNode":{"key":"/rnx","value":"","expiration":"${new Date(t + 10_000).toISOString()}","ttl":8,"modifiedIndex":4,"createdIndex":4}}`);
  });

  it('sorted listings sort by key', () => {
    const s = freshMember();
    for (const k of ['b', 'a', 'c']) s.set(`/z/${k}`, { value: k }, t);
    const keys = s.get('/z', { sorted: true }, t).node.nodes?.map((x) => x.key);
    expect(keys).toEqual(['/z/a', '/z/b', '/z/c']);
  });
});
