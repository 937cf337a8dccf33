// A consistent dump of the whole backend for Maintenance.Snapshot and raft snapshots, and restore.
//
// Format: magic "ETSNAP01", then records [u32 BE key length][key][u32 BE value length][value] in key
// order, then the end mark 0xffffffff and the u32 BE crc32c of every byte before it. Example: one key
// "meta/a" = "1" → "ETSNAP01" 00000006 "meta/a" 00000001 "1" ffffffff <crc>.
import { ClassicLevel } from 'classic-level';
import { crc32c } from '../pkg/crc32c.js';
import type { Backend } from './backend.js';

export const snapshotMagic = Buffer.from('ETSNAP01');
const endMark = 0xffffffff;
/** Bytes per chunk yielded by snapshotStream. */
export const snapshotChunkBytes = 64 * 1024;

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Commit the pending batch, then stream every entry as of that moment (LevelDB iterator snapshot). */
export async function* snapshotStream(backend: Backend): AsyncGenerator<Buffer> {
  await backend.commit();
  const it = backend.db.iterator({});
  let crc = crc32c(snapshotMagic);
  let parts: Buffer[] = [snapshotMagic];
  let bytes = snapshotMagic.length;
  try {
    for (;;) {
      const chunk = await it.nextv(1000);
      for (const [k, v] of chunk) {
        for (const part of [u32(k.length), k, u32(v.length), v]) {
          crc = crc32c(part, crc);
          parts.push(part);
          bytes += part.length;
        }
        if (bytes >= snapshotChunkBytes) {
          yield Buffer.concat(parts);
          parts = [];
          bytes = 0;
        }
      }
      if (chunk.length === 0) break;
    }
  } finally {
    await it.close();
  }
  const end = u32(endMark);
  crc = crc32c(end, crc);
  parts.push(end, u32(crc));
  yield Buffer.concat(parts);
}

export class SnapshotFormatError extends Error {}

/** Create a LevelDB database at `path` (which must not hold one) from a snapshot byte stream. */
export async function restoreSnapshot(path: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
  const db = new ClassicLevel<Buffer, Buffer>(path, { keyEncoding: 'buffer', valueEncoding: 'buffer', errorIfExists: true });
  await db.open();
  try {
    let buf = Buffer.alloc(0);
    let crc = 0;
    let off = 0;
    let ops: { type: 'put'; key: Buffer; value: Buffer }[] = [];
    let done = false;
    const take = (n: number): Buffer | null => {
      if (buf.length - off < n) return null;
      const out = buf.subarray(off, off + n);
      off += n;
      return out;
    };
    let headerRead = false;
    for await (const chunk of source) {
      buf = Buffer.concat([buf.subarray(off), chunk]);
      off = 0;
      for (;;) {
        const start = off;
        if (!headerRead) {
          const m = take(8);
          if (!m) break;
          if (!m.equals(snapshotMagic)) throw new SnapshotFormatError('not a backend snapshot');
          crc = crc32c(m);
          headerRead = true;
          continue;
        }
        if (done) {
          // Zero padding may follow the end (the server aligns the stream to 512 bytes for etcdctl).
          if (buf.subarray(off).some((x) => x !== 0)) throw new SnapshotFormatError('data after the end of the snapshot');
          off = buf.length;
          break;
        }
        const kl = take(4);
        if (!kl) break;
        const klen = kl.readUInt32BE(0);
        if (klen === endMark) {
          const sum = take(4);
          if (!sum) { off = start; break; }
          if (sum.readUInt32BE(0) !== crc32c(kl, crc)) throw new SnapshotFormatError('snapshot checksum mismatch');
          done = true;
          continue;
        }
        const k = take(klen);
        const vl = k && take(4);
        const v = vl && take(vl.readUInt32BE(0));
        if (!k || !vl || !v) { off = start; break; }
        for (const part of [kl, k, vl, v]) crc = crc32c(part, crc);
        ops.push({ type: 'put', key: Buffer.from(k), value: Buffer.from(v) });
        if (ops.length >= 1000) {
          await db.batch(ops);
          ops = [];
        }
      }
    }
    if (!done) throw new SnapshotFormatError('snapshot is truncated');
    await db.batch(ops, { sync: true });
  } finally {
    await db.close();
  }
}
