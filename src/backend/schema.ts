// The one list of every key prefix ("bucket") in the backend database, and the meta keys.
//
// A LevelDB key is `<bucket name>/<key inside the bucket>`, e.g. the revision key of (main 5, sub 0)
// in the `key` bucket is the ASCII bytes "key/" followed by 17 bytes 00..05 5f 00..00.

export const Bucket = {
  /** MVCC: revision key (8-byte main, '_', 8-byte sub, optional 't' for a tombstone) → KeyValue proto. */
  key: 'key',
  /** consistent_index, scheduledCompactRev, finishedCompactRev. */
  meta: 'meta',
  /** lessor: lease id → lease record. */
  lease: 'lease',
  /** auth: enabled flag and auth revision. */
  auth: 'auth',
  authUsers: 'authUsers',
  authRoles: 'authRoles',
  /** membership: member id → member; removed member ids; cluster version. */
  members: 'members',
  membersRemoved: 'members_removed',
  cluster: 'cluster',
  /** alarms: (member id, alarm type) → empty. */
  alarm: 'alarm',
} as const;

export type BucketName = (typeof Bucket)[keyof typeof Bucket];

export const MetaKey = {
  consistentIndex: Buffer.from('consistent_index'),
  scheduledCompactRev: Buffer.from('scheduledCompactRev'),
  finishedCompactRev: Buffer.from('finishedCompactRev'),
} as const;

const prefixes = new Map<string, Buffer>(Object.values(Bucket).map((b) => [b, Buffer.from(`${b}/`)]));

/** The LevelDB key prefix of a bucket ("key/"). */
export function bucketPrefix(bucket: BucketName): Buffer {
  const p = prefixes.get(bucket);
  if (!p) throw new Error(`unknown bucket ${bucket}`);
  return p;
}

/** The full LevelDB key of `key` in `bucket`. */
export function dbKey(bucket: BucketName, key: Uint8Array): Buffer {
  return Buffer.concat([bucketPrefix(bucket), key]);
}
