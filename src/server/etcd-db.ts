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
import type { LiveRevisions } from '../mvcc/index.js';
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
 * the chunks follow once the whole image is built; with `live` (captured in the same step), the
 * key bucket comes from it and the pages stream as they are laid out (etcdDbStreamLive).
 */
export function etcdDbStream(backend: Backend, live?: LiveRevisions): AsyncGenerator<Uint8Array> {
  const image = live ? etcdDbStreamLive(backend, live) : etcdDbImage(backend);
  image.catch(() => undefined); // the consumer sees the error; none is left unhandled if it never reads
  return (async function* () {
    yield* (await image).chunks;
  })();
}

/**
 * The same file with the key bucket taken from the key index (`live`, mvcc's capture of it, made in
 * the same turn as this call, so both show one revision; the history's stored bytes are read first)
 * and the other buckets read from the backend now. Streamed: the pages are laid out once without
 * bytes to learn the root and the page count the meta pages at the head of the file hold, then
 * again, handed out as they fill; the key bucket is never held whole, and only its history is read
 * from the disk.
 */
export async function etcdDbStreamLive(backend: Backend, live: LiveRevisions): Promise<{ size: number; chunks: Iterable<Buffer> }> {
  const [before, after] = backend.dumpAround(Bucket.key);
  try {
    await live.load();
  } catch (e) {
    await before.return(undefined);
    await after.return(undefined);
    throw e;
  }
  const head: [Buffer, Buffer][][] = [];
  const tail: [Buffer, Buffer][][] = [];
  for await (const c of before) head.push(c);
  for await (const c of after) tail.push(c);
  const dry = new BoltWriter({ dry: true });
  for (const _ of fillPages(dry, head, live, tail)) {
    // counting pages only
  }
  const { root, pgid } = dry.meta();
  const size = Number(pgid) * dry.pageSize;
  const stream = (function* () {
    try {
      yield BoltWriter.metaPages(root, pgid);
      const w = new BoltWriter({ streamed: true });
      yield* fillPages(w, head, live, tail);
      const m = w.meta();
      if (m.root !== root || m.pgid !== pgid) throw new Error(`snapshot: the file's layout changed between its two passes (root ${m.root} of ${m.pgid} pages, counted ${root} of ${pgid})`);
    } finally {
      live.release(); // its arrays serve the next save
    }
  })();
  return { size, chunks: stream };
}

/** The buckets filled from `head` (entries before the key bucket), `live`, then `tail`; yields pages as they close. */
function* fillPages(w: BoltWriter, head: [Buffer, Buffer][][], live: LiveRevisions, tail: [Buffer, Buffer][][]): Generator<Buffer> {
  const f = new Filler(w);
  for (const chunk of head) {
    f.addChunk(chunk);
    if (w.chunks.length > 0) yield* w.takeChunks();
  }
  const keys = f.builder(Bucket.key);
  for (let i = 0; i < live.count; i++) {
    keys.putEntry(live, i);
    if (w.chunks.length > 0) yield* w.takeChunks();
  }
  for (const chunk of tail) {
    f.addChunk(chunk);
    if (w.chunks.length > 0) yield* w.takeChunks();
  }
  f.finish();
  yield* w.takeChunks();
}

/** Backend entries (full keys, in key order) into the buckets of one file. */
class Filler {
  private readonly builders: Map<string, BucketBuilder>;
  private readonly resorted = new Map<string, [Buffer, Buffer][]>([[Bucket.members, []], [Bucket.membersRemoved, []]]);
  // The bucket of the previous entry (`<bucket>/`): entries come in key order, so most share it.
  private prefix = Buffer.alloc(0);
  private current: BucketBuilder | undefined;
  private later: [Buffer, Buffer][] | undefined;

  constructor(private readonly w: BoltWriter) {
    this.builders = new Map<string, BucketBuilder>(ETCD_BUCKETS.map((b) => [b, w.bucket()]));
  }

  builder(bucket: BucketName): BucketBuilder {
    return this.builders.get(bucket) as BucketBuilder;
  }

  addChunk(chunk: [Buffer, Buffer][]): void {
    for (const [full, value] of chunk) {
      if (!hasPrefix(full, this.prefix)) {
        const slash = full.indexOf(0x2f);
        const bucket = full.toString('latin1', 0, Math.max(slash, 0));
        this.current = this.builders.get(bucket);
        if (!this.current || slash < 0) throw new Error(`backend key outside etcd's buckets: ${full.toString('hex')}`);
        this.later = this.resorted.get(bucket);
        this.prefix = Buffer.from(full.subarray(0, slash + 1));
      }
      const prefix = this.prefix;
      if (this.later) this.later.push(toEtcdEntry(prefix.toString('latin1', 0, prefix.length - 1) as BucketName, full.subarray(prefix.length), value));
      else (this.current as BucketBuilder).putFrom(full, prefix.length, value);
    }
  }

  /** The deferred buckets, then the root: the file's size. */
  finish(): number {
    for (const [bucket, entries] of this.resorted) {
      const b = this.builders.get(bucket) as BucketBuilder;
      for (const [k, v] of entries.sort((x, y) => Buffer.compare(x[0], y[0]))) b.put(k, v);
    }
    const root = this.w.bucket();
    for (const name of ETCD_BUCKETS) root.putBucket(Buffer.from(name), this.builders.get(name) as BucketBuilder);
    return this.w.finish(root);
  }
}

async function imageOfDump(dump: AsyncGenerator<[Buffer, Buffer][]>): Promise<EtcdDbImage> {
  const w = new BoltWriter();
  const f = new Filler(w);
  for await (const chunk of dump) f.addChunk(chunk);
  const size = f.finish();
  return { size, chunks: w.chunks };
}

/**
 * The entries of etcd's database file as our backend keeps them (`<bucket>/<key>` → value), in
 * chunks of full LevelDB keys, less the buckets in `skip`. Buckets we do not know are refused: their
 * data would be lost.
 */
export function* backendEntriesOfEtcdDb(db: BoltDb, chunkEntries = 1000, skip: ReadonlySet<string> = new Set()): Generator<Array<[Buffer, Buffer]>> {
  const known = new Set<string>(ETCD_BUCKETS);
  let out: Array<[Buffer, Buffer]> = [];
  for (const b of db.root().entries()) {
    const name = b.key.toString();
    if (!b.bucket || !known.has(name)) throw new Error(`etcd database has a bucket this member does not know: ${JSON.stringify(name)}`);
    if (skip.has(name)) continue;
    const prefix = Buffer.from(`${name}/`);
    const plain = name !== Bucket.members && name !== Bucket.membersRemoved;
    for (const p of db.childBucket(b.value).leafPages()) {
      const buf = p.buf;
      for (let i = 0; i < p.count; i++) {
        if (p.isBucket(i)) throw new Error(`etcd database has a nested bucket in ${name}`);
        const ks = p.keyStart(i);
        const vs = p.valueStart(i);
        let full: Buffer;
        let v: Buffer;
        if (plain) {
          full = Buffer.allocUnsafe(prefix.length + vs - ks);
          buf.copy(full, prefix.length, ks, vs);
          v = buf.subarray(vs, p.valueEnd(i)); // a view of the file's bytes, which outlive the entries' use
        } else {
          const [k, value] = memberEntry(name as BucketName, buf.subarray(ks, vs), buf.subarray(vs, p.valueEnd(i)));
          full = Buffer.allocUnsafe(prefix.length + k.length);
          full.set(k, prefix.length);
          v = value;
        }
        full.set(prefix, 0);
        out.push([full, v]);
        if (out.length >= chunkEntries) {
          yield out;
          out = [];
        }
      }
    }
  }
  if (out.length > 0) yield out;
}

/** A members or members_removed entry of etcd's (JSON member, hex id key) as our backend keeps it. */
function memberEntry(bucket: BucketName, key: Buffer, value: Buffer): [Buffer, Buffer] {
  if (bucket === Bucket.members) {
    const { member } = decodeConfChangeContext(value);
    return [idKey(member.id), Buffer.from(encodeMember(member))];
  }
  return [idKey(BigInt(`0x${key.toString()}`)), Buffer.alloc(0)];
}

function idKey(id: bigint): Buffer {
  const k = Buffer.alloc(8);
  k.writeBigUInt64BE(id);
  return k;
}
