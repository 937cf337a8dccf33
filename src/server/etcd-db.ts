// Our backend as etcd 3.4's database file, and back: the bbolt file `etcdctl snapshot save` gets
// (and etcd's restore reads), and the entries a LevelDB backend gets from a file etcd wrote.
//
// Every bucket but two holds the same keys and values in both (checked against etcd 3.4.23 in
// test/unit/server/etcd-db.test.ts). Members differ: etcd keys `members` by the member id in hex
// without leading zeros and stores json.Marshal(Member) ({"id":<decimal>,"peerURLs":[...],...}),
// `members_removed` by the same hex id with the value "removed"; ours key both by the 8-byte
// big-endian id, with our member JSON and an empty value.
import { BoltWriter, type BoltDb, type BucketBuilder } from '../bbolt/index.js';
import { Bucket, type Backend, type BucketName } from '../backend/index.js';
import { decodeConfChangeContext, decodeMember, encodeConfChangeMember, encodeMember } from '../membership/index.js';

/** Every bucket etcd 3.4 creates, in bbolt's (byte) order; each is written even when empty. */
const ETCD_BUCKETS: readonly BucketName[] = (Object.values(Bucket) as BucketName[]).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
const REMOVED_VALUE = Buffer.from('removed');

export interface EtcdDbImage {
  size: number;
  chunks: Buffer[];
}

/** Whether `buf` starts with the non-empty `prefix` (a few bytes: compared in JavaScript). */
function hasPrefix(buf: Buffer, prefix: Buffer): boolean {
  const n = prefix.length;
  if (n === 0 || buf.length < n) return false;
  for (let i = 0; i < n; i++) if (buf[i] !== prefix[i]) return false;
  return true;
}

function idHex(id: bigint): Buffer {
  return Buffer.from(id.toString(16));
}

/** Our members/members_removed entry as etcd's, or the entry itself for every other bucket. */
function toEtcdEntry(bucket: BucketName, key: Buffer, value: Buffer): [Buffer, Buffer] {
  if (bucket === Bucket.members) {
    const m = decodeMember(value);
    return [idHex(m.id), Buffer.from(encodeConfChangeMember(m))];
  }
  if (bucket === Bucket.membersRemoved) return [idHex(key.readBigUInt64BE(0)), REMOVED_VALUE];
  return [key, value];
}

/**
 * The backend as of this call (pending writes included: Backend.dump) as etcd 3.4's bbolt file,
 * with etcd's ten buckets. Held in memory.
 */
export function etcdDbImage(backend: Backend): Promise<EtcdDbImage> {
  return imageOfDump(backend.dump());
}

/**
 * The same as a stream (a raft snapshot's database between members): the dump is captured now,
 * the chunks follow once the whole image is built.
 */
export function etcdDbStream(backend: Backend): AsyncGenerator<Uint8Array> {
  const image = etcdDbImage(backend);
  image.catch(() => undefined); // the consumer sees the error; none is left unhandled if it never reads
  return (async function* () {
    yield* (await image).chunks;
  })();
}

async function imageOfDump(dump: AsyncGenerator<[Buffer, Buffer][]>): Promise<EtcdDbImage> {
  const w = new BoltWriter();
  const builders = new Map<string, BucketBuilder>(ETCD_BUCKETS.map((b) => [b, w.bucket()]));
  const resorted = new Map<string, [Buffer, Buffer][]>([[Bucket.members, []], [Bucket.membersRemoved, []]]);
  // The bucket of the previous entry (`<bucket>/`): entries come in key order, so most share it.
  let prefix = Buffer.alloc(0);
  let builder: BucketBuilder | undefined;
  let later: [Buffer, Buffer][] | undefined;
  for await (const chunk of dump) {
    for (const [full, value] of chunk) {
      if (!hasPrefix(full, prefix)) {
        const slash = full.indexOf(0x2f);
        const bucket = full.toString('latin1', 0, Math.max(slash, 0));
        builder = builders.get(bucket);
        if (!builder || slash < 0) throw new Error(`backend key outside etcd's buckets: ${full.toString('hex')}`);
        later = resorted.get(bucket);
        prefix = Buffer.from(full.subarray(0, slash + 1));
      }
      if (later) later.push(toEtcdEntry(prefix.toString('latin1', 0, prefix.length - 1) as BucketName, full.subarray(prefix.length), value));
      else (builder as BucketBuilder).putFrom(full, prefix.length, value);
    }
  }
  for (const [bucket, entries] of resorted) {
    const b = builders.get(bucket) as BucketBuilder;
    for (const [k, v] of entries.sort((x, y) => Buffer.compare(x[0], y[0]))) b.put(k, v);
  }
  const root = w.bucket();
  for (const name of ETCD_BUCKETS) root.putBucket(Buffer.from(name), builders.get(name) as BucketBuilder);
  const size = w.finish(root);
  return { size, chunks: w.chunks };
}

/**
 * The entries of etcd's database file as our backend keeps them (`<bucket>/<key>` → value), in
 * chunks of full LevelDB keys. Buckets we do not know are refused: their data would be lost.
 */
export function* backendEntriesOfEtcdDb(db: BoltDb, chunkEntries = 1000): Generator<Array<[Buffer, Buffer]>> {
  const known = new Set<string>(ETCD_BUCKETS);
  let out: Array<[Buffer, Buffer]> = [];
  for (const b of db.root().entries()) {
    const name = b.key.toString();
    if (!b.bucket || !known.has(name)) throw new Error(`etcd database has a bucket this member does not know: ${JSON.stringify(name)}`);
    const prefix = Buffer.from(`${name}/`);
    for (const e of db.childBucket(b.value).entries()) {
      if (e.bucket) throw new Error(`etcd database has a nested bucket in ${name}`);
      const [k, v] = fromEtcdEntry(name as BucketName, e.key, e.value);
      out.push([Buffer.concat([prefix, k]), Buffer.from(v)]);
      if (out.length >= chunkEntries) {
        yield out;
        out = [];
      }
    }
  }
  if (out.length > 0) yield out;
}

function fromEtcdEntry(bucket: BucketName, key: Buffer, value: Buffer): [Buffer, Buffer] {
  if (bucket === Bucket.members) {
    const { member } = decodeConfChangeContext(value);
    return [idKey(member.id), Buffer.from(encodeMember(member))];
  }
  if (bucket === Bucket.membersRemoved) return [idKey(BigInt(`0x${key.toString()}`)), Buffer.alloc(0)];
  return [key, value];
}

function idKey(id: bigint): Buffer {
  const k = Buffer.alloc(8);
  k.writeBigUInt64BE(id);
  return k;
}
