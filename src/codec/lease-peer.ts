// The protobuf bodies of etcd's lease forwarding between members (leasehttp): a follower posts
//   /leases           LeaseKeepAliveRequest{ID=1}              → LeaseKeepAliveResponse{ID=2, TTL=3}
//   /leases/internal  LeaseInternalRequest{1: LeaseTimeToLiveRequest{ID=1, keys=2}}
//                     → LeaseInternalResponse{1: LeaseTimeToLiveResponse{header=1, ID=2, TTL=3, grantedTTL=4, keys=5}}
// to the leader. e.g. a keep-alive of lease 0x10 is the bytes 08 10. Zero scalars are left out, as Go does.

class Writer {
  private readonly parts: number[] = [];
  varint(v: bigint): this {
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
    return this;
  }
  int(field: number, v: bigint | number | boolean): this {
    const n = typeof v === 'boolean' ? (v ? 1n : 0n) : BigInt(v);
    return n === 0n ? this : this.varint(BigInt(field << 3)).varint(n);
  }
  bytes(field: number, b: Uint8Array): this {
    this.varint(BigInt((field << 3) | 2)).varint(BigInt(b.length));
    for (const x of b) this.parts.push(x);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Each field's values: varints as bigint, length-delimited as bytes. Throws RangeError when malformed. */
function readFields(b: Uint8Array): Map<number, Array<bigint | Uint8Array>> {
  const out = new Map<number, Array<bigint | Uint8Array>>();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (i >= b.length) throw new RangeError('unexpected EOF');
      const c = b[i++]!;
      v |= BigInt(c & 0x7f) << shift;
      if (c < 0x80) return BigInt.asUintN(64, v);
    }
    throw new RangeError('proto: integer overflow');
  };
  while (i < b.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const list = out.get(field) ?? [];
    out.set(field, list);
    switch (key & 7) {
      case 0: list.push(varint()); break;
      case 1: i += 8; break;
      case 5: i += 4; break;
      case 2: {
        const n = Number(varint());
        if (i + n > b.length) throw new RangeError('unexpected EOF');
        list.push(b.subarray(i, i + n));
        i += n;
        break;
      }
      default: throw new RangeError(`proto: illegal wireType ${key & 7}`);
    }
    if (i > b.length) throw new RangeError('unexpected EOF');
  }
  return out;
}

const int64Of = (f: Map<number, Array<bigint | Uint8Array>>, n: number): bigint => {
  const v = f.get(n)?.at(-1);
  return typeof v === 'bigint' ? BigInt.asIntN(64, v) : 0n;
};
const msgOf = (f: Map<number, Array<bigint | Uint8Array>>, n: number): Uint8Array | undefined => {
  const v = f.get(n)?.at(-1);
  return v instanceof Uint8Array ? v : undefined;
};

export function encodeLeaseKeepAliveRequest(id: bigint): Uint8Array {
  return new Writer().int(1, id).done();
}

export function decodeLeaseKeepAliveRequest(b: Uint8Array): { id: bigint } {
  return { id: int64Of(readFields(b), 1) };
}

export function encodeLeaseKeepAliveResponse(r: { id: bigint; ttl: number }): Uint8Array {
  return new Writer().int(2, r.id).int(3, r.ttl).done();
}

export function decodeLeaseKeepAliveResponse(b: Uint8Array): { id: bigint; ttl: number } {
  const f = readFields(b);
  return { id: int64Of(f, 2), ttl: Number(int64Of(f, 3)) };
}

export function encodeLeaseInternalRequest(r: { id: bigint; keys: boolean }): Uint8Array {
  return new Writer().bytes(1, new Writer().int(1, r.id).int(2, r.keys).done()).done();
}

export function decodeLeaseInternalRequest(b: Uint8Array): { id: bigint; keys: boolean } {
  const inner = readFields(msgOf(readFields(b), 1) ?? new Uint8Array(0));
  return { id: int64Of(inner, 1), keys: int64Of(inner, 2) !== 0n };
}

export interface LeaseTimeToLive {
  id: bigint;
  ttl: number;
  grantedTTL: number;
  keys: Uint8Array[];
}

export function encodeLeaseInternalResponse(r: LeaseTimeToLive): Uint8Array {
  const inner = new Writer().bytes(1, new Uint8Array(0)).int(2, r.id).int(3, r.ttl).int(4, r.grantedTTL);
  for (const k of r.keys) inner.bytes(5, k);
  return new Writer().bytes(1, inner.done()).done();
}

export function decodeLeaseInternalResponse(b: Uint8Array): LeaseTimeToLive {
  const inner = readFields(msgOf(readFields(b), 1) ?? new Uint8Array(0));
  const keys = (inner.get(5) ?? []).filter((k): k is Uint8Array => k instanceof Uint8Array).map((k) => Uint8Array.from(k));
  return { id: int64Of(inner, 2), ttl: Number(int64Of(inner, 3)), grantedTTL: Number(int64Of(inner, 4)), keys };
}
