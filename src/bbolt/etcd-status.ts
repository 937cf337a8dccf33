// What `etcdctl snapshot status` reports about an etcd database file, computed as etcd 3.4 does
// (clientv3/snapshot Status): CRC-32C over every top-level bucket's name and then its keys and
// values in order; the main revision of the last key in `key`; the number of keys; the file's size.
import { crc32c } from '../pkg/crc32c.js';
import { BoltFormatError } from './format.js';
import type { BoltDb, LeafPage } from './reader.js';

export interface EtcdDbStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

export function etcdDbStatus(db: BoltDb): EtcdDbStatus {
  let hash = 0;
  let revision = 0;
  let totalKey = 0;
  for (const b of db.root().entries()) {
    if (!b.bucket) throw new BoltFormatError(`cannot get hash of bucket ${b.key.toString()}`);
    hash = crc32c(b.key, hash);
    const isKey = b.key.toString() === 'key';
    for (const p of db.childBucket(b.value).leafPages()) {
      hash = pageHash(p, hash);
      totalKey += p.count;
      const last = p.count - 1;
      if (isKey && last >= 0 && p.valueStart(last) - p.keyStart(last) >= 8) revision = Number(p.buf.readBigInt64BE(p.keyStart(last)));
    }
  }
  return { hash, revision, totalKey, totalSize: db.size };
}

/**
 * The CRC of a leaf page's keys and values in order (a nested bucket's key alone: it reads as a nil
 * value). bbolt lays each key and value out after the previous ones, so most pages are one run of
 * bytes and one call: per entry, the two calls cost more than the checksum.
 */
function pageHash(p: LeafPage, hash: number): number {
  let start = -1;
  let end = -1;
  for (let i = 0; i < p.count; i++) {
    const k = p.keyStart(i);
    const e = p.isBucket(i) ? p.valueStart(i) : p.valueEnd(i);
    if (k !== end) {
      if (end > start) hash = crc32c(p.buf.subarray(start, end), hash);
      start = k;
    }
    end = e;
  }
  return end > start ? crc32c(p.buf.subarray(start, end), hash) : hash;
}
