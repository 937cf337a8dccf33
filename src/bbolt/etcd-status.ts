// What `etcdctl snapshot status` reports about an etcd database file, computed as etcd 3.4 does
// (clientv3/snapshot Status): CRC-32C over every top-level bucket's name and then its keys and
// values in order; the main revision of the last key in `key`; the number of keys; the file's size.
import { crc32c } from '../pkg/crc32c.js';
import { BoltFormatError } from './format.js';
import type { BoltDb } from './reader.js';

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
    for (const e of db.childBucket(b.value).entries()) {
      hash = crc32c(e.key, hash);
      if (!e.bucket) hash = crc32c(e.value, hash); // a nested bucket reads as a nil value
      if (isKey && e.key.length >= 8) revision = Number(e.key.readBigInt64BE(0));
      totalKey++;
    }
  }
  return { hash, revision, totalKey, totalSize: db.size };
}
