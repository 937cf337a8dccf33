// The etcd WAL reader now lives in src/wal (used by the takeover of a real etcd's data dir).
export { readEtcdWal, type EtcdWal, type EtcdWalEntry } from '../../../src/wal/etcd-wal-reader.js';
