// A consistent dump of the whole backend (Maintenance.Snapshot, and the database a leader sends with a
// raft snapshot), its incremental reader, and restore.
//
// Format: magic "ETSNAP01", then records [u32 BE key length][key][u32 BE value length][value] in key
// order, then the end mark 0xffffffff and the u32 BE crc32c of every byte before it. Example: one key
// "meta/a" = "1" → "ETSNAP01" 00000006 "meta/a" 00000001 "1" ffffffff <crc>.
import { crc32c } from '../pkg/crc32c.js';
import type { Backend } from './backend.js';
import { levelEngines } from '../platform/level.js';
import type { EngineOp, Engines } from './engine.js';
import { closingOnReturn } from './merge.js';

export const snapshotMagic = Buffer.from('ETSNAP01');
const endMark = 0xffffffff;
/** Bytes per chunk yielded by snapshotStream. */
export const snapshotChunkBytes = 64 * 1024;
/** Records per LevelDB batch when restoring. */
const restoreBatchRecords = 1000;
/** restoreEntries' batches handed to LevelDB and not yet written. */
const RESTORE_IN_FLIGHT = 2;

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/**
 * The backend as of this call, pending writes included (captured synchronously: Backend.dump), as a
 * stream of the format above. Writes made after the call are not in it. Read it to the end or call
 * its return(): it holds a LevelDB iterator until then.
 */
export function snapshotStream(backend: Backend): AsyncGenerator<Buffer> {
  const dump = backend.dump();
  return closingOnReturn(encodeDump(dump), async () => void (await dump.return(undefined)));
}

async function* encodeDump(dump: AsyncGenerator<[Buffer, Buffer][]>): AsyncGenerator<Buffer> {
  let crc = crc32c(snapshotMagic);
  let parts: Buffer[] = [snapshotMagic];
  let bytes = snapshotMagic.length;
  for await (const chunk of dump) {
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
  }
  const end = u32(endMark);
  crc = crc32c(end, crc);
  parts.push(end, u32(crc));
  yield Buffer.concat(parts);
}

export class SnapshotFormatError extends Error {}

/**
 * Reads the format incrementally: push() each chunk as it arrives and get the records it completed;
 * end() once the stream ended (throws unless the end mark and a matching checksum were seen).
 * Zero padding may follow the end (the server aligns the stream to 512 bytes for etcdctl).
 */
export class SnapshotDecoder {
  private buf = Buffer.alloc(0);
  private off = 0;
  private crc = 0;
  private headerRead = false;
  private done = false;

  /** The records completed by this chunk (copied unless `collect` is false: then none are returned). */
  push(chunk: Uint8Array, collect = true): Array<[Buffer, Buffer]> {
    this.buf = Buffer.concat([this.buf.subarray(this.off), chunk]);
    this.off = 0;
    const out: Array<[Buffer, Buffer]> = [];
    for (;;) {
      if (this.done) {
        if (this.buf.subarray(this.off).some((x) => x !== 0)) throw new SnapshotFormatError('data after the end of the snapshot');
        this.off = this.buf.length;
        return out;
      }
      if (!this.headerRead) {
        if (!this.readHeader()) return out;
        continue;
      }
      const start = this.off;
      const record = this.readRecord();
      if (record === undefined) {
        this.off = start;
        return out;
      }
      if (record !== null && collect) out.push([Buffer.from(record[0]), Buffer.from(record[1])]);
    }
  }

  end(): void {
    if (!this.done) throw new SnapshotFormatError('snapshot is truncated');
  }

  private take(n: number): Buffer | undefined {
    if (this.buf.length - this.off < n) return undefined;
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }

  private readHeader(): boolean {
    const m = this.take(8);
    if (!m) return false;
    if (!m.equals(snapshotMagic)) throw new SnapshotFormatError('not a backend snapshot');
    this.crc = crc32c(m);
    this.headerRead = true;
    return true;
  }

  /** A record, null for the end mark (checked), undefined when the buffer holds only part of one. */
  private readRecord(): [Buffer, Buffer] | null | undefined {
    const kl = this.take(4);
    if (!kl) return undefined;
    const klen = kl.readUInt32BE(0);
    if (klen === endMark) {
      const sum = this.take(4);
      if (!sum) return undefined;
      if (sum.readUInt32BE(0) !== crc32c(kl, this.crc)) throw new SnapshotFormatError('snapshot checksum mismatch');
      this.done = true;
      return null;
    }
    const k = this.take(klen);
    const vl = k && this.take(4);
    const v = vl && this.take(vl.readUInt32BE(0));
    if (!k || !vl || !v) return undefined;
    for (const part of [kl, k, vl, v]) this.crc = crc32c(part, this.crc);
    return [k, v];
  }
}

/**
 * Passes a snapshot stream through unchanged while checking its format; throws SnapshotFormatError
 * (after the chunk that shows it, or at the end) when it is not a whole, intact snapshot.
 */
export async function* verifiedSnapshot(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const dec = new SnapshotDecoder();
  for await (const chunk of source) {
    dec.push(chunk, false);
    yield chunk;
  }
  dec.end();
}

/** Create a LevelDB database at `path` (which must not hold one) from a snapshot byte stream, synced. */
export async function restoreSnapshot(path: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, engines: Engines = levelEngines): Promise<void> {
  const db = await engines.open(path, { errorIfExists: true });
  try {
    const dec = new SnapshotDecoder();
    let ops: EngineOp[] = [];
    for await (const chunk of source) {
      for (const [key, value] of dec.push(chunk)) ops.push({ type: 'put', key, value });
      if (ops.length >= restoreBatchRecords) {
        await db.batch(ops, false);
        ops = [];
      }
    }
    dec.end();
    await db.batch(ops, true);
  } finally {
    await db.close();
  }
}

/** Create a LevelDB database at `path` (which must not hold one) from chunks of full keys and values, synced. */
export async function restoreEntries(
  path: string,
  source: AsyncIterable<Array<[Buffer, Buffer]>> | Iterable<Array<[Buffer, Buffer]>>,
  engines: Engines = levelEngines,
): Promise<void> {
  const db = await engines.open(path, { errorIfExists: true });
  // Two batches in flight: LevelDB writes one on libuv's pool while this thread reads the next chunk
  // and hands it over (the binding converts a batch on the calling thread). The entries are a bbolt
  // file's (bucket, key) pairs, each once, so the order the two land in does not matter.
  const inFlight = new Set<Promise<void>>();
  try {
    for await (const chunk of source) {
      if (inFlight.size >= RESTORE_IN_FLIGHT) await Promise.race(inFlight);
      const p: Promise<void> = db.batch(chunk.map(([key, value]) => ({ type: 'put' as const, key, value })), false)
        .then(() => void inFlight.delete(p));
      p.catch(() => undefined); // seen by the race or the all below; never an unhandled rejection meanwhile
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    await db.batch([], true);
  } finally {
    await Promise.allSettled(inFlight);
    await db.close();
  }
}
