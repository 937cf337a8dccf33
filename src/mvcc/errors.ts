// Domain outcomes of the MVCC store as coded values. The API edge maps codes to etcd's text:
//   compacted   → "etcdserver: mvcc: required revision has been compacted"
//   future-rev  → "etcdserver: mvcc: required revision is a future revision"
//   key-not-found → "etcdserver: key not found"   lease-not-found → "etcdserver: requested lease not found"
//   watch-id-exists → (watch create refused: id in use on this stream)

export type MvccErrorCode = 'compacted' | 'future-rev' | 'key-not-found' | 'lease-not-found' | 'watch-id-exists';

export class MvccError extends Error {
  constructor(readonly code: MvccErrorCode, readonly compactRevision = 0) {
    super(`mvcc: ${code}`);
  }
}
