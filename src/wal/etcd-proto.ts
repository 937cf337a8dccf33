// A minimal protobuf field reader for etcd's own files (WAL records, .snap files): enough to read
// walpb.Record, etcdserverpb.Metadata, raftpb.Entry/HardState/Snapshot and snappb.Snapshot.
export type Fields = Map<number, Array<bigint | Buffer>>;

/** The fields of a protobuf message: number → values (bigint for varints and fixed, Buffer for bytes). */
export function protoFields(b: Buffer, what: string): Fields {
  const out: Fields = new Map();
  let p = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (p >= b.length) throw new Error(`${what}: truncated varint`);
      const x = b[p++] as number;
      v |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) return v;
    }
  };
  while (p < b.length) {
    const tag = Number(varint());
    let v: bigint | Buffer;
    switch (tag & 7) {
      case 0: v = varint(); break;
      case 2: {
        const n = Number(varint());
        if (p + n > b.length) throw new Error(`${what}: field overruns its message`);
        v = b.subarray(p, p + n);
        p += n;
        break;
      }
      case 1: v = b.readBigUInt64LE(p); p += 8; break;
      case 5: v = BigInt(b.readUInt32LE(p)); p += 4; break;
      default: throw new Error(`${what}: wire type ${tag & 7}`);
    }
    const f = tag >>> 3;
    const list = out.get(f);
    if (list) list.push(v);
    else out.set(f, [v]);
  }
  return out;
}

export const fieldNum = (m: Fields, f: number): bigint => (m.get(f)?.at(-1) as bigint | undefined) ?? 0n;
export const fieldBytes = (m: Fields, f: number): Buffer => (m.get(f)?.at(-1) as Buffer | undefined) ?? Buffer.alloc(0);

/** A repeated uint64, packed or not. */
export function fieldNums(m: Fields, f: number, what: string): bigint[] {
  const out: bigint[] = [];
  for (const v of m.get(f) ?? []) {
    if (typeof v === 'bigint') out.push(v);
    else {
      // packed: a run of varints
      let p = 0;
      while (p < v.length) {
        let x = 0n;
        for (let shift = 0n; ; shift += 7n) {
          if (p >= v.length) throw new Error(`${what}: truncated packed varint`);
          const byte = v[p++] as number;
          x |= BigInt(byte & 0x7f) << shift;
          if (byte < 0x80) break;
        }
        out.push(x);
      }
    }
  }
  return out;
}
