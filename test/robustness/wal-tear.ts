// Tear the tail of a killed member's WAL as a power loss tears a save that was in flight: after its
// last record, the leading sectors of one more entry record (a well-formed header whose length runs
// past a sector boundary, then payload bytes) are written and the rest is left as the preallocated
// zeros. Never the records
// already there: each was fsynced before the member acknowledged it, and a disk that loses those
// lies about fsync, which raft does not survive (a follower that lost an acknowledged entry is
// later told to commit past its log: etcd panics). The restarted member must drop the torn record.
import { openSync, closeSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { headerCheck, RecordType } from '../../src/wal/record.js';
import { scanSegment } from '../../src/wal/segment.js';

const HEADER_BYTES = 8;
const TRAILER_BYTES = 4;
const SECTOR = 512;

/** Write the leading sectors of one more record after the last one of the last WAL segment under dataDir; returns what was done. */
export function tearWalTail(dataDir: string, rng: () => number): string {
  const dir = join(dataDir, 'member', 'wal');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.wal')).sort();
  } catch {
    return `no WAL at ${dir}`;
  }
  const last = files[files.length - 1];
  if (!last) return 'no WAL segment';
  const file = join(dir, last);
  const buf = readFileSync(file);
  const scan = scanSegment(buf, file, undefined, true);
  const rec = scan.records[scan.records.length - 1];
  if (!rec) return `${last}: no records, not torn`;
  const end = rec.offset + HEADER_BYTES + rec.payload.length + TRAILER_BYTES;
  // a record whose payload runs 1..1024 bytes past the next sector boundary
  const first = Math.floor(end / SECTOR) * SECTOR + SECTOR;
  const payload = Math.max(1, first - end - HEADER_BYTES) + 1 + Math.floor(rng() * 1024);
  const limit = end + HEADER_BYTES + payload + TRAILER_BYTES;
  if (limit > buf.length) return `${last}: no room after the last record, not torn`;
  const record = Buffer.alloc(limit - end);
  record[0] = RecordType.Entry;
  record.writeUInt32LE(payload, 2);
  record.writeUInt16LE(headerCheck(record, 0), 6);
  for (let i = HEADER_BYTES; i < record.length; i++) record[i] = Math.floor(rng() * 256);
  // torn at a sector boundary strictly inside it (a sector is written whole or not at all)
  const stops = Math.floor((limit - 1 - first) / SECTOR) + 1;
  const stop = first + SECTOR * Math.floor(rng() * stops);
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, record, 0, stop - end, end);
  } finally {
    closeSync(fd);
  }
  return `WAL ${last}: ${stop - end} of ${record.length} bytes of an entry record written at ${end} (torn at sector ${stop / SECTOR})`;
}
