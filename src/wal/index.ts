/*
 * wal/: the durable raft log.
 *
 * MODEL. An append-only sequence of records in segment files under <data-dir>/member/wal/, named
 * %016x-%016x.wal (sequence, index of the first entry the segment was cut for), as etcd names them.
 * Segments are 64,000,000 bytes by default and cut when full. The first one is created sparse (a new
 * member starts at once); every later one is preallocated with written zeros (overwrites then need
 * no block allocation, so a flush is a pure data flush): it is filled as `next.wal.tmp` in the
 * background once the current segment is half full, gets its first records while still a temp file,
 * then is renamed into place and the directory fsync'ed. Every segment starts with a CRC record (the
 * chain value the previous segment ended with) and a metadata record (member and cluster id); a cut
 * also copies the current hard state. A new WAL starts with a snapshot marker {0,0}.
 *
 * RECORD FORMAT (little-endian), 12 bytes of overhead:
 *   0    u8   type: 'C' 0x43 crc, 'D' 0x44 metadata, 'E' 0x45 entry, 'M' 0x4d snapshot marker,
 *             'S' 0x53 hard state. Never 0: a zero byte where a record would start is the end of the log.
 *   1    u8   reserved, 0
 *   2    u32  n = payload length
 *   6    u16  header check = crc32c(bytes 0..6) & 0xffff (a damaged length is never trusted)
 *   8    n    payload
 *   8+n  u32  crc = crc32c(bytes 0..8+n, seed), seed = the previous record's crc (the chain); for the
 *             CRC record the seed is its own payload.
 * Payloads: C u32 previous crc | D u64 memberId, u64 clusterId[, u16 n, n bytes name] | S u64 term, u64 commit, u64 vote |
 *           M u64 index, u64 term | E u64 index, u64 term, u8 entry type, data.
 *
 * Worked example: entry {index 5, term 2, EntryNormal, data "hi"} after a record whose crc was 0x12345678:
 *   45 00 | 13 00 00 00 (n = 19) | 0b 43 (check 0x430b)
 *   05 00 00 00 00 00 00 00 | 02 00 00 00 00 00 00 00 | 00 | 68 69
 *   ce 17 95 06 (crc 0x069517ce = crc32c(the 27 bytes before it, 0x12345678); the next record's seed)
 *
 * READING (open). Records are verified from the segment that may hold the caller's snapshot marker to
 * the end: header check, length, chain crc, segment sequence, CRC records joining the segments,
 * metadata equal in all. In the LAST segment, damage a torn write explains is repaired (the file is
 * cut at the damaged record, zero-filled again, and a warning logged with file, offset and bytes
 * dropped). A torn write leaves whole 512-byte sectors unwritten, i.e. zero (segments are zero-filled
 * or sparse): so "torn" means a partial record at the end of the file; a failed record in which, from
 * some sector boundary inside it, the rest of that sector is all zeros; a junk header followed only by
 * zeros; or a zero byte where a record starts with non-zero bytes later (the unwritten start of a
 * write whose later sectors landed). Any other damage, and any damage in an earlier segment, throws
 * WalCorruptError naming the file and offset; a caller marker absent from the log (or with another
 * term) is a WalSnapshotError ('not-found', 'mismatch', 'no-segment'). An entry whose index was
 * already read replaces that entry and all after it (a new leader overwrote an uncommitted suffix),
 * as etcd. Known limit: a flipped bit in a record of the last segment that also holds a naturally
 * all-zero sector (e.g. a value of zeros) is taken for a torn write and the tail from it dropped.
 *
 * WRITING. save(hardState, entries) encodes all records of the batch into one reused buffer and
 * issues ONE positioned write (pwrite at the known tail offset) through a handle opened with O_DSYNC,
 * which is write and fdatasync in one system call: every proposal of the Ready shares that flush
 * (group commit). With mustSync=false the write goes through the plain handle and a later save with
 * mustSync, sync() or close() fdatasyncs it. Operations are serialized; an I/O error is fatal for the
 * WAL (every later call rejects with it). Failpoints: walBeforeWrite, walAfterWrite (in 'dsync' mode
 * the same moment as after the flush), walAfterSync, walCutBeforeRename.
 *
 * CONTRACT. The server owns one WAL: create() on first boot or open(walDir, marker) on restart, then
 * save() once per Ready before sending messages that depend on it, saveSnapshot() after the snapshot
 * file is saved (Snapshotter.save), releaseTo(snapshotIndex) afterwards, close() at stop. On restart:
 * markers = WAL.snapshotMarkers(walDir); snap = snapshotter.loadNewestAvailable(markers); open(walDir,
 * snap ? {index, term} : {0, 0}), or the same in one read of the log: openAtChosen(walDir, markers =>
 * the loaded snapshot's marker). A lock file (.lock: pid and process start time) keeps a second process out.
 * Every file operation goes through a pkg/disk Disk (WalOptions.disk, the last argument of exists,
 * snapshotMarkers, readWalMetadata and the Snapshotter; default Node's, platform/fs.ts nodeDisk), so the
 * simulation runs this code over a disk that loses unflushed writes and tears the last one at a crash.
 */
export { WAL } from './wal.js';
export { Snapshotter, snapFileName } from './snapshotter.js';
export { segmentFileName } from './segment.js';
export { readWalMetadata } from './reader.js';
export type { Disk, DiskFile } from '../pkg/disk.js';
export {
  DEFAULT_SEGMENT_BYTES,
  SnapshotCorruptError,
  WalCorruptError,
  WalSnapshotError,
  type WalMetadata,
  type WalOptions,
  type WalSnapshotMarker,
  type WalSyncMode,
} from './types.js';
export { readEtcdWal, readEtcdSnap, type EtcdWal, type EtcdWalEntry } from './etcd-wal-reader.js';
