// platform/fs.ts helpers the WAL relies on: preallocation really writes zeros, the lock file, nodeDisk.
import { spawnSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNotFound, writeFileDurable as writeFileDurableOn } from '../../../src/pkg/disk.js';
import { acquireLockFile, LockedError, nodeDisk, preallocate, truncateAndZeroFill, writeFileDurable } from '../../../src/platform/fs.js';
import { tempDir } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('platform/fs', () => {
  it('preallocate zero-fills after the existing bytes; truncateAndZeroFill cuts and refills', async () => {
    const file = path.join(dir, 'f');
    await fsp.writeFile(file, 'abc');
    const fh = await fsp.open(file, 'r+');
    await preallocate(fh, 3 * 1024 * 1024 + 5);
    let b = await fsp.readFile(file);
    expect(b.length).toBe(3 * 1024 * 1024 + 5);
    expect(b.subarray(0, 3).toString()).toBe('abc');
    expect(b.subarray(3).every((x) => x === 0)).toBe(true);
    expect((await fsp.stat(file)).blocks * 512).toBeGreaterThanOrEqual(3 * 1024 * 1024); // written, not a hole
    await fh.write(Buffer.from('xyz'), 0, 3, 1000);
    await truncateAndZeroFill(fh, 2, 4096);
    await fh.close();
    b = await fsp.readFile(file);
    expect(b.length).toBe(4096);
    expect(b.subarray(0, 2).toString()).toBe('ab');
    expect(b.subarray(2).every((x) => x === 0)).toBe(true);
  });

  it('writeFileDurable leaves only the final file', async () => {
    const file = path.join(dir, 'x.snap');
    await writeFileDurable(file, Buffer.from('data'));
    expect(await fsp.readdir(dir)).toEqual(['x.snap']);
    expect(await fsp.readFile(file, 'utf8')).toBe('data');
  });

  it('the lock file excludes live holders and is taken over from dead ones', async () => {
    const file = path.join(dir, '.lock');
    await fsp.writeFile(file, `${process.ppid}\n`); // a live process that is not us
    await expect(acquireLockFile(file)).rejects.toBeInstanceOf(LockedError);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await fsp.writeFile(file, `${dead}\n`);
    const lock = await acquireLockFile(file);
    expect((await fsp.readFile(file, 'utf8')).split(' ')[0]).toBe(String(process.pid));
    await expect(acquireLockFile(file)).rejects.toBeInstanceOf(LockedError);
    await lock.release();
    await expect(fsp.stat(file)).rejects.toThrow();
  });

  it('a lock file naming our own pid (or a live pid started at another time) is stale: a restarted container reuses pids', async () => {
    const file = path.join(dir, '.lock');
    await fsp.writeFile(file, `${process.pid} 1\n`);
    const lock = await acquireLockFile(file);
    await lock.release();
    await fsp.writeFile(file, `${process.ppid} 1\n`); // parent is alive, but did not start at tick 1
    const again = await acquireLockFile(file);
    const [second] = await Promise.allSettled([acquireLockFile(file)]);
    expect(second.status).toBe('rejected');
    await again.release();
  });

  it('two concurrent acquires in one process: exactly one wins', async () => {
    const file = path.join(dir, '.lock');
    const results = await Promise.allSettled([acquireLockFile(file), acquireLockFile(file)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'fulfilled') await r.value.release();
  });

  it('nodeDisk: the four open modes, positioned and synchronous writes, sizes, ENOENT', async () => {
    const file = path.join(dir, 'n');
    await expect(nodeDisk.open(file, 'readwrite')).rejects.toSatisfy(isNotFound);
    const created = await nodeDisk.open(file, 'create');
    await created.write(Buffer.from('xxhello'), 2, 5, 0);
    await created.extendSparse(16);
    expect(await created.size()).toBe(16);
    await created.close();
    const rw = await nodeDisk.open(file, 'readwrite');
    const ds = await nodeDisk.open(file, 'dsync');
    await ds.write(Buffer.from('HE'), 0, 2, 0);
    rw.writeSync(Buffer.from('!'), 0, 1, 5);
    rw.datasyncSync();
    await rw.preallocate(32);
    const buf = Buffer.alloc(8);
    expect(await rw.read(buf, 0, 8, 0)).toBe(8);
    expect(buf.toString('latin1')).toBe('HEllo!\0\0');
    await rw.close();
    await ds.close();
    expect((await nodeDisk.readFile(file)).length).toBe(32);
    const again = await nodeDisk.open(file, 'create'); // an existing file is emptied
    expect(await again.size()).toBe(0);
    await again.close();
    await expect(writeFileDurableOn(nodeDisk, path.join(dir, 'sub', 'w'), Buffer.from('w'))).rejects.toSatisfy(isNotFound);
    await nodeDisk.mkdir(path.join(dir, 'sub'), { recursive: true });
    await writeFileDurableOn(nodeDisk, path.join(dir, 'sub', 'w'), Buffer.from('w'));
    expect((await nodeDisk.readdir(path.join(dir, 'sub'))).sort()).toEqual(['w']);
  });
});
