// Snapshot install in the backend: the dump is the state at the call (pending writes included, later
// writes not), the image decoder takes any chunking, a stream is verified in passing, the database is
// replaced in place (reopen), and a crash at any step of the swap leaves the old or the new database.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Backend, Bucket, SWAP_FAILPOINTS, SnapshotDecoder, SnapshotFormatError, oldPathOf, prepareRestore, recoverSwap, restorePathOf,
  snapshotStream, swapInRestored, verifiedSnapshot,
} from '../../../src/backend/index.js';
import { disableAllFailpoints, enableFailpoint, FailpointError } from '../../../src/pkg/failpoints.js';

const B = (s: string) => Buffer.from(s);
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backend-install-test-'));
});
afterEach(async () => {
  disableAllFailpoints();
  await rm(dir, { recursive: true, force: true });
});

async function image(b: Backend): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of snapshotStream(b)) chunks.push(c);
  return Buffer.concat(chunks);
}

/** A database at `path` holding `which` under lease/which and consistent index `ci`. */
async function makeDb(path: string, which: string, ci: number, keys = 50): Promise<void> {
  const b = await Backend.open(path);
  b.put(Bucket.lease, B('which'), B(which));
  for (let i = 0; i < keys; i++) b.put(Bucket.key, B(`${which}${i}`), Buffer.alloc(100, i));
  b.setConsistentIndex(ci);
  await b.close();
}

async function whichDb(path: string): Promise<{ which: string; ci: number; keys: number }> {
  const b = await Backend.open(path);
  try {
    let keys = 0;
    for await (const _ of b.iterate(Bucket.key)) keys++;
    return { which: b.get(Bucket.lease, B('which'))!.toString(), ci: b.consistentIndex(), keys };
  } finally {
    await b.close();
  }
}

describe('backend dump and snapshot image', () => {
  it('is the state at the call: pending writes and the consistent index in, later writes out', async () => {
    const b = await Backend.open(join(dir, 'db'), { batchIntervalMs: 60_000 });
    b.put(Bucket.lease, B('a'), B('committed'));
    await b.commit();
    b.put(Bucket.lease, B('b'), B('pending'));
    b.del(Bucket.lease, B('a'));
    b.setConsistentIndex(9);
    const stream = snapshotStream(b); // captured here
    b.put(Bucket.lease, B('c'), B('after'));
    b.setConsistentIndex(10);
    await b.commit();
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c);
    await prepareRestore(join(dir, 'copy'), chunks);
    const copy = await Backend.open(restorePathOf(join(dir, 'copy')));
    const leases: string[] = [];
    for await (const [k, v] of copy.iterate(Bucket.lease)) leases.push(`${k}=${v}`);
    expect([leases, copy.consistentIndex()]).toEqual([['b=pending'], 9]);
    await copy.close();
    await b.close();
  });

  it('decodes the same records however the stream is cut, and refuses what is damaged', async () => {
    const b = await Backend.open(join(dir, 'db'));
    for (let i = 0; i < 20; i++) b.put(Bucket.key, B(`k${i}`), Buffer.alloc(i * 3, i));
    b.setConsistentIndex(3);
    const img = await image(b);
    await b.close();
    const whole = new SnapshotDecoder().push(img);
    expect(whole).toHaveLength(21);
    for (let cut = 0; cut <= img.length; cut += 7) {
      const d = new SnapshotDecoder();
      const recs = [...d.push(img.subarray(0, cut)), ...d.push(img.subarray(cut))];
      d.end();
      expect(recs).toEqual(whole);
    }
    const truncated = new SnapshotDecoder();
    truncated.push(img.subarray(0, img.length - 1));
    expect(() => truncated.end()).toThrow(SnapshotFormatError);
    const padded = new SnapshotDecoder();
    padded.push(Buffer.concat([img, Buffer.alloc(100)]));
    padded.end();
  });

  it('verifiedSnapshot passes the bytes through unchanged and throws on a damaged or cut stream', async () => {
    const b = await Backend.open(join(dir, 'db'));
    b.put(Bucket.lease, B('x'), B('y'));
    const img = await image(b);
    await b.close();
    const out: Uint8Array[] = [];
    for await (const c of verifiedSnapshot([img.subarray(0, 10), img.subarray(10)])) out.push(c);
    expect(Buffer.concat(out)).toEqual(img);
    const bad = Buffer.from(img);
    bad[12] ^= 1;
    await expect((async () => { for await (const _ of verifiedSnapshot([bad])) { /* drain */ } })()).rejects.toBeInstanceOf(SnapshotFormatError);
    await expect((async () => { for await (const _ of verifiedSnapshot([img.subarray(0, 20)])) { /* drain */ } })()).rejects.toBeInstanceOf(SnapshotFormatError);
  });
});

describe('replacing the database (reopen + swap)', () => {
  it('replaces the database in place: same Backend, the new contents and consistent index', async () => {
    const db = join(dir, 'db');
    await makeDb(join(dir, 'src'), 'new', 500);
    const src = await Backend.open(join(dir, 'src'));
    const img = await image(src);
    await src.close();
    await makeDb(db, 'old', 100);
    const b = await Backend.open(db, { batchIntervalMs: 60_000 });
    b.put(Bucket.lease, B('pending'), B('old'));
    await prepareRestore(db, [img]);
    await b.reopen(() => swapInRestored(db));
    expect([b.get(Bucket.lease, B('which'))?.toString(), b.get(Bucket.lease, B('pending')), b.consistentIndex()]).toEqual(['new', undefined, 500]);
    b.put(Bucket.lease, B('after'), B('1'));
    await b.close();
    expect(await whichDb(db)).toEqual({ which: 'new', ci: 500, keys: 50 });
    expect([existsSync(restorePathOf(db)), existsSync(oldPathOf(db))]).toEqual([false, false]);
  });

  it('a crash at any step leaves the old or the new database after start-up recovery, never neither', async () => {
    const seen: string[] = [];
    for (const point of ['prepare', ...SWAP_FAILPOINTS, 'done']) {
      const case_ = join(dir, point);
      const db = join(case_, 'db');
      await makeDb(join(case_, 'src'), 'new', 500);
      const src = await Backend.open(join(case_, 'src'));
      const img = await image(src);
      await src.close();
      await makeDb(db, 'old', 100);
      if (point === 'prepare') {
        // crashed while the new database was being built: a partial db.restore
        await expect(prepareRestore(db, [img.subarray(0, img.length >> 1)])).rejects.toBeInstanceOf(SnapshotFormatError);
        await makeDb(restorePathOf(db), 'partial', 1, 3);
      } else {
        await prepareRestore(db, [img]);
        if (point !== 'done') {
          enableFailpoint(point, 'panic');
          await expect(swapInRestored(db)).rejects.toBeInstanceOf(FailpointError);
          disableAllFailpoints();
        } else await swapInRestored(db);
      }
      const recovery = await recoverSwap(db);
      const state = await whichDb(db);
      expect(state).toEqual(state.which === 'old' ? { which: 'old', ci: 100, keys: 50 } : { which: 'new', ci: 500, keys: 50 });
      expect([existsSync(restorePathOf(db)), existsSync(oldPathOf(db))]).toEqual([false, false]);
      seen.push(`${point}:${state.which}:${recovery}`);
    }
    expect(seen).toEqual([
      'prepare:old:cleaned', // the swap had not begun: the old state stands (the server installs again)
      'backendBeforeSwap:old:cleaned',
      'backendAfterRenameOld:new:finished', // db.restore was complete: the swap is finished
      'backendAfterRenameNew:new:cleaned',
      'done:new:none',
    ]);
  });
});
