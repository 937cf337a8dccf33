// The persisted lease record and its store interface.
//
// Each lease is one backend entry, written in the SAME batch as the raft entry that changed it:
//   key   = the id as 8 bytes big-endian two's complement (etcd's lease bucket key)
//   value = etcd's leasepb.Lease protobuf: 1:ID int64, 2:TTL int64, 3:RemainingTTL int64 (varints,
//           zero fields omitted)
// Example: lease 100 (0x64) with TTL 30 and no checkpoint →
//   key 00 00 00 00 00 00 00 64, value 08 64 10 1e
// The TTL stored is the granted TTL after the minimum-TTL raise. Expiry times are never stored:
// a recovered lease does not expire until its member is promoted (then: now + extend + TTL).

export interface LeaseRecord {
  id: bigint;
  ttl: number; // seconds, as granted (after the minimum raise)
  remainingTTL: number; // seconds from the last checkpoint; 0 = unset (use ttl)
}

/** What the lessor needs from the backend; the server adapts it to the current write batch. */
export interface LeaseStore {
  put(id: bigint, value: Uint8Array): void;
  delete(id: bigint): void;
  loadAll(): Iterable<[bigint, Uint8Array]>;
}

const U64 = (1n << 64n) - 1n;

function putVarint(out: number[], v: bigint): void {
  let u = v & U64; // int64 → two's-complement uint64, as protobuf encodes negative int64
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
}

function readVarint(b: Uint8Array, pos: number): [bigint, number] {
  let v = 0n;
  for (let shift = 0n, i = pos; i < b.length && shift < 70n; shift += 7n, i++) {
    const byte = b[i]!;
    v |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return [BigInt.asIntN(64, v), i + 1];
  }
  throw new Error('lease: corrupt record (truncated varint)');
}

export function encodeLeaseRecord(r: LeaseRecord): Uint8Array {
  const out: number[] = [];
  const fields: [number, bigint][] = [[1, r.id], [2, BigInt(r.ttl)], [3, BigInt(r.remainingTTL)]];
  for (const [num, v] of fields) {
    if (v === 0n) continue;
    out.push(num << 3); // wire type 0 (varint)
    putVarint(out, v);
  }
  return Uint8Array.from(out);
}

export function decodeLeaseRecord(b: Uint8Array): LeaseRecord {
  const r: LeaseRecord = { id: 0n, ttl: 0, remainingTTL: 0 };
  let pos = 0;
  while (pos < b.length) {
    const [tag, next] = readVarint(b, pos);
    if ((tag & 7n) !== 0n) throw new Error(`lease: corrupt record (wire type ${tag & 7n})`);
    const [v, after] = readVarint(b, next);
    pos = after;
    if (tag >> 3n === 1n) r.id = v;
    else if (tag >> 3n === 2n) r.ttl = Number(v);
    else if (tag >> 3n === 3n) r.remainingTTL = Number(v);
  }
  return r;
}

export function leaseKey(id: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, id, false);
  return b;
}

export function leaseIdFromKey(key: Uint8Array): bigint {
  if (key.length !== 8) throw new Error(`lease: bad key length ${key.length}`);
  return new DataView(key.buffer, key.byteOffset, 8).getBigInt64(0, false);
}
