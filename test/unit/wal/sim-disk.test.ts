// The simulated disk keeps exactly what pkg/disk's contract promises across a crash, and nothing
// it does not promise survives every seed; pkg/path agrees with node:path.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirnamePath, joinPath, normalizePath } from '../../../src/pkg/path.js';
import { SimCrash, SimDisk } from '../../sim/disk.js';

const bytes = (s: string): Buffer => Buffer.from(s);

async function freshFile(disk: SimDisk, file: string, content: string): Promise<void> {
  const fh = await disk.open(file, 'create');
  await fh.write(bytes(content), 0, content.length, 0);
  await fh.datasync();
  await fh.close();
  await disk.fsyncDir(path.dirname(file));
}

describe('SimDisk', () => {
  it('keeps datasynced bytes and fsynced entries through any crash', async () => {
    for (let seed = 1; seed <= 50; seed++) {
      const disk = new SimDisk({ seed });
      await disk.mkdir('/d', { recursive: true });
      await disk.fsyncDir('/');
      await freshFile(disk, '/d/a', 'hello');
      const fh = await disk.open('/d/a', 'dsync');
      await fh.write(bytes('HE'), 0, 2, 0); // O_DSYNC: durable when it returns
      await disk.rename('/d/a', '/d/b');
      await disk.fsyncDir('/d');
      const after = disk.restart();
      expect(await after.readdir('/d')).toEqual(['b']);
      expect((await after.readFile('/d/b')).toString()).toBe('HEllo');
    }
  });

  it('loses unsynced writes and entries on some seeds, tears at sector granularity, never invents bytes', async () => {
    const seen = { lostWrite: 0, keptWrite: 0, tornWrite: 0, lostEntry: 0, keptEntry: 0 };
    const old = Buffer.alloc(2048, 0x11);
    const fresh = Buffer.alloc(2048, 0x22);
    for (let seed = 1; seed <= 200; seed++) {
      const disk = new SimDisk({ seed });
      await freshFile(disk, '/f', old.toString('latin1'));
      const fh = await disk.open('/f', 'readwrite');
      await fh.write(fresh, 0, fresh.length, 0);
      await disk.open('/g', 'create');
      const after = disk.restart();
      const got = await after.readFile('/f');
      expect(got.length).toBe(2048);
      const sectors = [0, 1, 2, 3].map((s) => got.subarray(s * 512, (s + 1) * 512));
      for (const s of sectors) expect(s.equals(old.subarray(0, 512)) || s.equals(fresh.subarray(0, 512))).toBe(true);
      const fromFresh = sectors.filter((s) => s[0] === 0x22).length;
      if (fromFresh === 0) seen.lostWrite++;
      else if (fromFresh === 4) seen.keptWrite++;
      else seen.tornWrite++;
      if ((await after.readdir('/')).includes('g')) seen.keptEntry++;
      else seen.lostEntry++;
    }
    for (const [k, n] of Object.entries(seen)) expect(n, k).toBeGreaterThan(0);
  });

  it('crashes at the chosen operation, and every later call throws SimCrash', async () => {
    const disk = new SimDisk({ seed: 1, crashAtOp: 3 });
    await disk.mkdir('/x');
    await disk.fsyncDir('/');
    await expect(disk.open('/x/y', 'create')).rejects.toBeInstanceOf(SimCrash);
    expect(disk.isCrashed).toBe(true);
    await expect(disk.readdir('/')).rejects.toBeInstanceOf(SimCrash);
    expect(await disk.restart().readdir('/')).toEqual(['x']);
  });

  it('reports a missing file as ENOENT, as Node does', async () => {
    const disk = new SimDisk({ seed: 1 });
    await expect(disk.readdir('/nope')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(disk.open('/nope', 'read')).rejects.toMatchObject({ code: 'ENOENT' });
    await disk.rm('/nope', { force: true });
  });
});

describe('pkg/path', () => {
  const cases = ['', '/', 'a', 'a/', '/a', '/a/b', 'a/b/c', 'a//b/', './a', '../a/b', '/..', 'a/../..', '/a/./b/../c/', '.', '..', 'x/y/..'];
  it("dirnamePath is node:path's posix dirname", () => {
    for (const c of cases) expect(dirnamePath(c), c).toBe(path.posix.dirname(c));
  });
  it("joinPath and normalizePath are node:path's, without a trailing slash", () => {
    const strip = (p: string): string => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
    for (const c of cases) {
      expect(normalizePath(c), c).toBe(strip(path.posix.normalize(c)));
      for (const d of ['b', '', '../c', 'x.wal', '/abs']) expect(joinPath(c, d), `${c} + ${d}`).toBe(strip(path.posix.join(c, d)));
    }
  });
});
