// The takeover of an etcd 3.4 data dir at the file level (server/etcd-takeover.ts), from files real
// etcd 3.4.23 wrote (the bbolt fixture, the solo.wal fixture): what is built, what is kept aside, and
// a start after a crash in the middle of the takeover. (End to end with real etcd:
// test/integration/etcd-takeover.test.ts.)
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { isEtcdDataDir, maybeTakeOverEtcdDataDir } from '../../../src/server/etcd-takeover.js';
import { nodeIo } from '../../../src/server/io.js';
import { nodeDisk } from '../../../src/platform/fs.js';
import { WAL, readEtcdWal, readWalMetadata } from '../../../src/wal/index.js';
import { removeDir, tempDir } from './helpers.js';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const logger = pino({ level: 'silent' });
let dir = '';
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeDir(d);
});
async function newDir(): Promise<string> {
  dir = await tempDir();
  dirs.push(dir);
  return dir;
}

/** A data dir laid out as etcd 3.4 leaves it: member/snap/db (bbolt) and member/wal/*.wal. */
async function etcdDataDir(): Promise<string> {
  await newDir();
  const db = await readFile(path.join(fixtures, 'bbolt', 'etcd34.db'));
  await mkdir(path.join(dir, 'member', 'snap'), { recursive: true });
  await mkdir(path.join(dir, 'member', 'wal'), { recursive: true });
  await writeFile(path.join(dir, 'member', 'snap', 'db'), db.subarray(0, db.length - 32)); // a snapshot's sha256 trailer off
  await copyFile(path.join(fixtures, 'etcd-entries', 'solo.wal'), path.join(dir, 'member', 'wal', '0000000000000000-0000000000000000.wal'));
  return dir;
}

describe('taking over an etcd 3.4 data dir', () => {
  it("builds our member dir with etcd's ids and keeps etcd's files aside, even over a stale attempt", async () => {
    const d = await etcdDataDir();
    await mkdir(path.join(d, 'member.takeover', 'wal'), { recursive: true }); // a crash before the first rename
    expect(await isEtcdDataDir(nodeDisk, d)).toBe(true);
    await maybeTakeOverEtcdDataDir(nodeIo, d, 'solo', false, logger);

    const etcdWal = readEtcdWal(await readFile(path.join(fixtures, 'etcd-entries', 'solo.wal')));
    expect(await isEtcdDataDir(nodeDisk, d)).toBe(false);
    expect(existsSync(path.join(d, 'member.takeover'))).toBe(false);
    const md = await readWalMetadata(path.join(d, 'member', 'wal'));
    expect(md).toMatchObject({ memberId: etcdWal.metadata.nodeId, clusterId: etcdWal.metadata.clusterId, name: 'solo' });
    const opened = await WAL.open(path.join(d, 'member', 'wal'), { index: 0, term: 0 }, { logger });
    expect(opened.entries.map((e) => [e.index, e.term, Buffer.from(e.data).toString('hex')])).toEqual(
      etcdWal.entries.map((e) => [e.index, e.term, e.data.toString('hex')]));
    expect(opened.hardState).toEqual(etcdWal.hardState);
    await opened.wal.close();
    const aside = (await readdir(d)).filter((f) => f.startsWith('member.etcd34-'));
    expect(aside).toHaveLength(1);
    expect(await readdir(path.join(d, aside[0] as string, 'wal'))).toEqual(['0000000000000000-0000000000000000.wal']);
    expect((await readFile(path.join(d, aside[0] as string, 'snap', 'db'))).length).toBeGreaterThan(0);
  });

  it('finishes a takeover that a crash left between its two renames', async () => {
    await newDir();
    await mkdir(path.join(dir, 'member.takeover', 'wal'), { recursive: true });
    await mkdir(path.join(dir, 'member.etcd34-x'));
    await maybeTakeOverEtcdDataDir(nodeIo, dir, 'solo', false, logger);
    expect((await readdir(dir)).sort()).toEqual(['member', 'member.etcd34-x']);
    expect(await readdir(path.join(dir, 'member'))).toEqual(['wal']);
  });

  it('leaves a data dir of ours alone and refuses --wal-dir for an etcd one', async () => {
    await newDir();
    await maybeTakeOverEtcdDataDir(nodeIo, dir, 'solo', false, logger);
    expect(await readdir(dir)).toEqual([]);
    const d = await etcdDataDir();
    await expect(maybeTakeOverEtcdDataDir(nodeIo, d, 'solo', true, logger)).rejects.toThrow(/--wal-dir/);
  });
});
