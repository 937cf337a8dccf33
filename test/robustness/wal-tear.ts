// Tear the tail of a killed member's WAL: truncate its last segment inside its last record, as a
// write cut short by a power loss leaves it. Only the last record is cut: losing more than the final
// save would be a disk that lies about fsync, which raft does not survive (nor does etcd), and the
// rig tears only followers, whose last save the leader still holds and sends again.
import { readdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { scanSegment } from '../../src/wal/segment.js';

const HEADER_BYTES = 8;
const TRAILER_BYTES = 4;

/** Truncate the last WAL segment under dataDir inside its last record; returns what was done. */
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
  // a segment holding only its opening records (crc, metadata, hard state of a cut) is left alone
  if (!rec || scan.records.length <= 3) return `${last}: only ${scan.records.length} records, not torn`;
  const end = rec.offset + HEADER_BYTES + rec.payload.length + TRAILER_BYTES;
  const cut = rec.offset + 1 + Math.floor(rng() * (end - rec.offset - 1));
  truncateSync(file, cut);
  return `WAL ${last} truncated at ${cut} (last record, type ${String.fromCharCode(rec.type)}, was ${rec.offset}..${end}; ${buf.length - cut} bytes dropped of a ${buf.length}-byte file)`;
}
