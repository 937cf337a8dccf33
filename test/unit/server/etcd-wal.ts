// Test-only reader of an etcd 3.4 WAL segment (member/wal/*.wal), to look at what real etcd wrote.
// Frame: a little-endian uint64 whose low 56 bits are the record length and whose top byte, when its
// high bit is set, carries the padding length in its low 3 bits; then walpb.Record{type=1 int64,
// crc=2 uint32, data=3 bytes}, then the padding. The CRC is CRC-32C chained over every record's data
// (a crc record, type 4, carries the chain's value so far). Record types: 1 metadata
// (etcdserverpb.Metadata{NodeID=1, ClusterID=2}), 2 entry (raftpb.Entry{Type=1, Term=2, Index=3,
// Data=4}), 3 state (raftpb.HardState{term=1, vote=2, commit=3}), 4 crc, 5 snapshot (walpb.Snapshot).
import { crc32c } from '../../../src/pkg/crc32c.js';

export interface EtcdWalEntry {
  type: number;
  term: number;
  index: number;
  data: Buffer;
}

export interface EtcdWal {
  metadata: { nodeId: bigint; clusterId: bigint };
  /** Every entry record in file order, later ones replacing earlier ones at the same index (as etcd reads them). */
  entries: EtcdWalEntry[];
  hardState: { term: number; vote: bigint; commit: number };
}

/** The fields of a protobuf message: number → values (bigint for varints, Buffer for bytes). */
function fields(b: Buffer): Map<number, Array<bigint | Buffer>> {
  const out = new Map<number, Array<bigint | Buffer>>();
  let p = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (p >= b.length) throw new Error('etcd-wal: truncated varint');
      const x = b[p++]!;
      v |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) return v;
    }
  };
  while (p < b.length) {
    const tag = Number(varint());
    const f = tag >>> 3;
    let v: bigint | Buffer;
    switch (tag & 7) {
      case 0: v = varint(); break;
      case 2: { const n = Number(varint()); v = b.subarray(p, p + n); p += n; break; }
      case 1: v = b.readBigUInt64LE(p); p += 8; break;
      case 5: v = BigInt(b.readUInt32LE(p)); p += 4; break;
      default: throw new Error(`etcd-wal: wire type ${tag & 7}`);
    }
    out.set(f, [...(out.get(f) ?? []), v]);
  }
  return out;
}

const num = (m: Map<number, Array<bigint | Buffer>>, f: number): bigint => (m.get(f)?.at(-1) as bigint | undefined) ?? 0n;
const bytes = (m: Map<number, Array<bigint | Buffer>>, f: number): Buffer => (m.get(f)?.at(-1) as Buffer | undefined) ?? Buffer.alloc(0);

export function readEtcdWal(file: Buffer): EtcdWal {
  const wal: EtcdWal = { metadata: { nodeId: 0n, clusterId: 0n }, entries: [], hardState: { term: 0, vote: 0n, commit: 0 } };
  let crc = 0;
  for (let p = 0; p + 8 <= file.length;) {
    const word = file.readBigUInt64LE(p);
    const len = Number(word & 0xffffffffffffffn);
    const top = Number(word >> 56n);
    if (len === 0) break;
    const rec = fields(file.subarray(p + 8, p + 8 + len));
    p += 8 + len + (top & 0x80 ? top & 7 : 0);
    const type = Number(num(rec, 1));
    const data = bytes(rec, 3);
    const want = Number(num(rec, 2));
    if (type === 4) {
      if (crc !== 0 && want !== crc) throw new Error('etcd-wal: crc record disagrees');
      crc = want;
      continue;
    }
    crc = crc32c(data, crc);
    if (want !== crc) throw new Error(`etcd-wal: bad crc at offset ${p}`);
    const m = fields(data);
    if (type === 1) wal.metadata = { nodeId: num(m, 1), clusterId: num(m, 2) };
    else if (type === 2) {
      const e = { type: Number(num(m, 1)), term: Number(num(m, 2)), index: Number(num(m, 3)), data: Buffer.from(bytes(m, 4)) };
      const keep = wal.entries.findIndex((x) => x.index >= e.index);
      if (keep >= 0) wal.entries.length = keep;
      wal.entries.push(e);
    } else if (type === 3) {
      if (data.length > 0) wal.hardState = { term: Number(num(m, 1)), vote: num(m, 2), commit: Number(num(m, 3)) };
    }
  }
  return wal;
}
