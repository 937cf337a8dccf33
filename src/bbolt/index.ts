/*
 * bbolt: etcd 3.4's database file format (go.etcd.io/bbolt v1.3.6), read and written by us.
 *
 * Format (format.ts has the byte layout): 4096-byte pages, pages 0 and 1 meta pages (the valid one
 * with the higher txid wins; FNV-64a checksum), a root bucket whose leaf entries are the top-level
 * buckets (etcd's: alarm, auth, authRoles, authUsers, cluster, key, lease, members, members_removed,
 * meta), each a B+tree of branch and leaf pages, or inline in its parent's leaf when small. Example:
 * etcd's `meta` bucket is a 175-byte inline value: header {root 0, sequence 0}, then a leaf page
 * header with count 3 and the elements consistent_index, finishedCompactRev, scheduledCompactRev.
 *
 * Contract: BoltDb.open(bytes) reads a whole file held in memory (without etcd's sha256 trailer)
 * and refuses, with BoltFormatError, anything but a 4096-byte-page version-2 file with a valid meta
 * page; its buckets yield entries as views of the bytes. BoltWriter writes a new file: buckets filled
 * in ascending key order, BoltWriter.finish(root) fixes the meta pages; `chunks` is then the file.
 * checkDb is bbolt's Tx.Check; etcdDbStatus is what `etcdctl snapshot status` prints.
 * Imports pkg only.
 */
export { BoltFormatError, ETCD_PAGE_BYTES, fnv64a } from './format.js';
export { BoltDb, BoltBucket, LeafPage, type BoltEntry } from './reader.js';
export { BoltWriter, BucketBuilder } from './writer.js';
export { checkDb } from './check.js';
export { etcdDbStatus, type EtcdDbStatus } from './etcd-status.js';
