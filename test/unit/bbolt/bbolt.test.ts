// The bbolt room against a file real etcd 3.4.23 wrote (test/fixtures/bbolt/etcd34.db, made by
// make.sh there), and files we write read back by us and by real etcdctl's bbolt (snapshot status).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BoltDb, BoltFormatError, BoltWriter, checkDb, etcdDbStatus, type BucketBuilder } from '../../../src/bbolt/index.js';

const fixtures = fileURLToPath(new URL('../../fixtures/bbolt/', import.meta.url));
const etcdFile = readFileSync(join(fixtures, 'etcd34.db'));
const etcdStatus = JSON.parse(readFileSync(join(fixtures, 'etcd34.status.json'), 'utf8')) as Record<string, number>;
const dir = mkdtempSync(join(tmpdir(), 'bbolt-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const body = (f: Buffer): Buffer => f.subarray(0, f.length - 32);

/** `etcdctl snapshot status -w json` of these file bytes, with etcd's sha256 trailer appended. */
function etcdctlStatus(file: Buffer): Record<string, number> {
  const p = join(dir, `s${Math.random().toString(36).slice(2)}.db`);
  writeFileSync(p, Buffer.concat([file, createHash('sha256').update(file).digest()]));
  const out = execFileSync('/usr/bin/etcdctl', ['snapshot', 'status', p, '-w', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out) as Record<string, number>;
}

type Tree = Map<string, Buffer | Tree>;

function readTree(db: BoltDb, b = db.root()): Tree {
  const out: Tree = new Map();
  for (const e of b.entries()) out.set(e.key.toString('hex'), e.bucket ? readTree(db, db.childBucket(e.value)) : Buffer.from(e.value));
  return out;
}

/** The tree as lines `path key=value` (hex), for a cheap comparison. */
function flat(tree: Tree, path = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of [...tree.entries()].sort()) {
    if (Buffer.isBuffer(v)) out.push(`${path} ${k}=${v.toString('hex')}`);
    else out.push(`${path} ${k}/`, ...flat(v, `${path}/${k}`));
  }
  return out;
}

function sameTree(a: Tree, b: Tree): void {
  const fa = flat(a);
  const fb = flat(b);
  expect(fa.length).toBe(fb.length);
  expect(fa.join('\n') === fb.join('\n')).toBe(true);
}

function writeTree(w: BoltWriter, tree: Tree): BucketBuilder {
  const b = w.bucket();
  for (const k of [...tree.keys()].sort((x, y) => Buffer.compare(Buffer.from(x, 'hex'), Buffer.from(y, 'hex')))) {
    const v = tree.get(k) as Buffer | Tree;
    if (Buffer.isBuffer(v)) b.put(Buffer.from(k, 'hex'), v);
    else b.putBucket(Buffer.from(k, 'hex'), writeTree(w, v));
  }
  return b;
}

function writeFile(tree: Tree): Buffer {
  const w = new BoltWriter();
  const size = w.finish(writeTree(w, tree));
  const file = Buffer.concat(w.chunks);
  expect(file.length).toBe(size);
  return file;
}

describe('reading a file etcd 3.4.23 wrote', () => {
  const db = BoltDb.open(body(etcdFile));

  it('has what etcdctl snapshot status reported, and passes the check', () => {
    expect(etcdDbStatus(db)).toEqual(etcdStatus);
    expect(checkDb(db)).toEqual([]);
    expect(db.meta.freelist).toBe(0xffffffffffffffffn);
  });

  it("holds etcd's buckets, inline and paged, with the script's data", () => {
    const names = [...db.root().entries()].map((e) => e.key.toString());
    expect(names).toEqual(['alarm', 'auth', 'authRoles', 'authUsers', 'cluster', 'key', 'lease', 'members', 'members_removed', 'meta']);
    expect(db.bucket('meta')?.rootPage).toBe(0n);
    expect(db.bucket('key')?.rootPage).not.toBe(0n);
    const keys = [...(db.bucket('key')?.entries() ?? [])];
    expect(keys).toHaveLength(44);
    const big = keys.find((e) => e.value.includes(Buffer.from('big20000')));
    expect(big?.value.length).toBeGreaterThan(20000);
    const meta = new Map([...(db.bucket('meta')?.entries() ?? [])].map((e) => [e.key.toString(), e.value]));
    expect(meta.get('consistent_index')?.length).toBe(8);
    expect(meta.get('finishedCompactRev')?.readBigInt64BE(0)).toBe(10n);
    expect(db.bucket('nope')).toBeUndefined();
  });

  it('refuses what is not an etcd 3.4 bbolt file', () => {
    expect(() => BoltDb.open(Buffer.alloc(8192))).toThrow(BoltFormatError);
    const other = Buffer.from(body(etcdFile));
    for (const off of [16 + 8, 4096 + 16 + 8]) {
      other.writeUInt32LE(8192, off); // page size 8192 in both metas (checksums still wrong: both refused)
    }
    expect(() => BoltDb.open(other)).toThrow(/checksum|page size/);
    const rewritten = Buffer.from(writeFile(readTree(db)));
    rewritten.writeUInt32LE(16384, 16 + 8);
    rewritten.writeUInt32LE(16384, 4096 + 16 + 8);
    expect(() => BoltDb.open(rewritten)).toThrow(/checksum/);
    expect(() => BoltDb.open(body(etcdFile).subarray(0, 40000))).toThrow(/truncated/);
  });

  it('falls back to the other meta page when one is damaged, as bbolt does', () => {
    const damaged = Buffer.from(body(etcdFile));
    damaged[4096 + 16 + 20] ^= 1; // meta 1 (txid 48) broken; meta 0 (txid 49) still valid
    expect(BoltDb.open(damaged).meta.txid).toBe(49n);
    damaged[16 + 20] ^= 1;
    expect(() => BoltDb.open(damaged)).toThrow(/checksum error/);
  });
});

describe('writing', () => {
  it("rewrites etcd's file to the same contents, which real etcdctl reads with the same hash", () => {
    const tree = readTree(BoltDb.open(body(etcdFile)));
    const file = writeFile(tree);
    const db = BoltDb.open(file);
    sameTree(readTree(db), tree);
    expect(checkDb(db)).toEqual([]);
    const ours = etcdDbStatus(db);
    expect({ ...ours, totalSize: 0 }).toEqual({ ...etcdStatus, totalSize: 0 });
    expect(etcdctlStatus(file)).toEqual(ours);
  });

  it('writes many keys, big values, nested and inline buckets that read back, by us and by bbolt', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const tree: Tree = new Map();
    const many: Tree = new Map();
    for (let i = 0; i < 20000; i++) many.set(Buffer.from(`k${String(i).padStart(6, '0')}`).toString('hex'), Buffer.alloc(rnd(200), i % 251));
    many.set(Buffer.from('zz-big').toString('hex'), Buffer.alloc(30000, 1));
    many.set(Buffer.from('a'.repeat(5000)).toString('hex'), Buffer.alloc(10, 2)); // key bigger than a page
    tree.set(Buffer.from('many').toString('hex'), many);
    const nested: Tree = new Map([[Buffer.from('x').toString('hex'), Buffer.from('y')]]);
    const outer: Tree = new Map<string, Buffer | Tree>([
      [Buffer.from('inner').toString('hex'), nested],
      [Buffer.from('v').toString('hex'), Buffer.from('w')],
    ]);
    tree.set(Buffer.from('outer').toString('hex'), outer);
    tree.set(Buffer.from('empty').toString('hex'), new Map());
    const file = writeFile(tree);
    const db = BoltDb.open(file);
    sameTree(readTree(db), tree);
    expect(checkDb(db)).toEqual([]);
    expect(db.bucket('empty')?.rootPage).toBe(0n);
    expect(db.bucket('outer')?.bucket('inner')?.rootPage).toBe(0n);
    expect(etcdctlStatus(file)).toEqual(etcdDbStatus(db));
  });

  it('leaves no byte of its (uncleared) blocks in a page: every page is the same written into dirty memory', () => {
    const tree = readTree(BoltDb.open(body(etcdFile)));
    const clean = writeFile(tree);
    const dirty = vi.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation((n: number) => Buffer.alloc(n, 0xaa));
    try {
      const file = writeFile(tree);
      expect(dirty).toHaveBeenCalled();
      expect(file.equals(clean)).toBe(true);
    } finally {
      dirty.mockRestore();
    }
  });

  it('refuses keys out of order', () => {
    const w = new BoltWriter();
    const b = w.bucket();
    b.put(Buffer.from('b'), Buffer.alloc(0));
    expect(() => b.put(Buffer.from('a'), Buffer.alloc(0))).toThrow(/ascending/);
    expect(() => b.put(Buffer.from('b'), Buffer.alloc(0))).toThrow(/ascending/);
  });

  it('finds keys out of order in a file, across its leaf pages', () => {
    const many: Tree = new Map();
    for (let i = 0; i < 2000; i++) many.set(Buffer.from(`k${String(i).padStart(6, '0')}`).toString('hex'), Buffer.alloc(40, 3));
    const file = writeFile(new Map([[Buffer.from('b').toString('hex'), many]]));
    expect(checkDb(BoltDb.open(file))).toEqual([]);
    // k000500 (in a middle page) becomes k001999, the last key: out of order with the key after it
    const at = file.indexOf('k000500');
    file.write('k001999', at, 'latin1');
    expect(checkDb(BoltDb.open(file))).toEqual([`bucket /b: key ${Buffer.from('k000501').toString('hex')} out of order`]);
    // the first key of the third leaf page becomes one the second page holds
    file.write('k000500', at, 'latin1');
    const pages = [...(BoltDb.open(file).bucket('b')?.leafPages() ?? [])];
    expect(pages.length).toBeGreaterThan(2);
    const third = pages[2]!;
    const was = file.toString('latin1', third.keyStart(0), third.valueStart(0));
    file.write(file.toString('latin1', pages[1]!.keyStart(0), pages[1]!.valueStart(0)), third.keyStart(0), 'latin1');
    expect(checkDb(BoltDb.open(file))).toEqual([`bucket /b: key ${file.toString('hex', third.keyStart(0), third.valueStart(0))} out of order`]);
    file.write(was, third.keyStart(0), 'latin1');
    expect(checkDb(BoltDb.open(file))).toEqual([]);
    // a key equal to the one before it
    file.write('k000500', file.indexOf('k000501'), 'latin1');
    expect(checkDb(BoltDb.open(file))).toEqual([`bucket /b: key ${Buffer.from('k000500').toString('hex')} out of order`]);
  });

  it('reports a branch page that refers to itself, and does not walk it for ever', () => {
    const many: Tree = new Map();
    for (let i = 0; i < 2000; i++) many.set(Buffer.from(`k${String(i).padStart(6, '0')}`).toString('hex'), Buffer.alloc(40, 3));
    const file = writeFile(new Map([[Buffer.from('b').toString('hex'), many]]));
    const root = BoltDb.open(file).bucket('b')!.rootPage;
    // the root branch's first element (page header 16 bytes, element 16 bytes, its page id at 8)
    file.writeBigUInt64LE(root, Number(root) * 4096 + 16 + 8);
    const problems = checkDb(BoltDb.open(file));
    expect(problems).toContain('bbolt: tree too deep (a page refers to itself?)');
    expect(() => [...BoltDb.open(file).bucket('b')!.entries()]).toThrow(/too deep/);
  });

  it('writes an empty database', () => {
    const w = new BoltWriter();
    w.finish(w.bucket());
    const file = Buffer.concat(w.chunks);
    expect(file.length).toBe(3 * 4096);
    expect(etcdctlStatus(file)).toEqual({ hash: 0, revision: 0, totalKey: 0, totalSize: 3 * 4096 });
  });
});
