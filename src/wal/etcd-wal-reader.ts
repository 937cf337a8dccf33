// Reader of etcd 3.4's own WAL (member/wal/*.wal) and .snap files, for taking over a real etcd's
// data dir (server/etcd-takeover.ts). Our WAL has its own format (./index.ts); this only reads etcd's.
//
// WAL frame: a little-endian uint64 whose low 56 bits are the record length and whose top byte, when
// its high bit is set, carries the padding length in its low 3 bits; then walpb.Record{type=1,
// crc=2, data=3}, then the padding. The crc is CRC-32C chained over every record's data across all
// segments (a crc record, type 4, first in each segment, carries the chain's value so far). Types:
// 1 metadata (etcdserverpb.Metadata{NodeID=1, ClusterID=2}), 2 entry (raftpb.Entry{Type=1, Term=2,
// Index=3, Data=4}), 3 hard state (raftpb.HardState{term=1, vote=2, commit=3}), 4 crc, 5 snapshot
// (walpb.Snapshot{index=1, term=2}). A zero length, or a record cut short at the end of the LAST
// segment (etcd preallocates segments with zeros; a kill can tear the last write), ends the log.
//
// .snap file: snappb.Snapshot{crc=1 (CRC-32C of data), data=2 = raftpb.Snapshot{data=1,
// metadata=2{conf_state=1{voters=1, learners=2, voters_outgoing=3, learners_next=4, auto_leave=5},
// index=2, term=3}}}; its data is etcd's v2 store as JSON.
import { crc32c } from '../pkg/crc32c.js';
import type { Snapshot } from '../raft/types.js';
import { fieldBytes, fieldNum, fieldNums, protoFields } from './etcd-proto.js';
import { SnapshotCorruptError, WalCorruptError, type WalSnapshotMarker } from './types.js';

export interface EtcdWalEntry {
  type: number;
  term: number;
  index: number;
  data: Buffer;
}

export interface EtcdWal {
  metadata: { nodeId: bigint; clusterId: bigint };
  /** Every entry in log order, a later one replacing the earlier ones from its index on (as etcd reads them). */
  entries: EtcdWalEntry[];
  hardState: { term: number; vote: bigint; commit: number };
  /** The snapshot records, in log order. */
  snapshots: WalSnapshotMarker[];
  /** Bytes dropped at the end of the last segment (a torn write), 0 if none. */
  tornBytes: number;
}

const REC_METADATA = 1;
const REC_ENTRY = 2;
const REC_STATE = 3;
const REC_CRC = 4;
const REC_SNAPSHOT = 5;

/** etcd's segments in name (sequence) order, read as one log. */
export function readEtcdWal(segments: Buffer | Buffer[], names?: string[]): EtcdWal {
  const files = Array.isArray(segments) ? segments : [segments];
  const wal: EtcdWal = { metadata: { nodeId: 0n, clusterId: 0n }, entries: [], hardState: { term: 0, vote: 0n, commit: 0 }, snapshots: [], tornBytes: 0 };
  let crc = 0;
  let seenMetadata = false;
  files.forEach((file, i) => {
    const last = i === files.length - 1;
    const corrupt = (p: number, reason: string): WalCorruptError => new WalCorruptError(`etcd WAL ${names?.[i] ?? `segment ${i}`}`, p, reason);
    for (let p = 0; p + 8 <= file.length;) {
      const word = file.readBigUInt64LE(p);
      const len = Number(word & 0xffffffffffffffn);
      const top = Number(word >> 56n);
      if (len === 0) break;
      const end = p + 8 + len;
      if (end > file.length) {
        if (last) { wal.tornBytes = file.length - p; break; }
        throw corrupt(p, `record overruns the segment`);
      }
      let rec;
      try {
        rec = protoFields(file.subarray(p + 8, end), 'etcd WAL record');
      } catch (e) {
        if (last) { wal.tornBytes = file.length - p; break; }
        throw corrupt(p, `${(e as Error).message}`);
      }
      const type = Number(fieldNum(rec, 1));
      const data = fieldBytes(rec, 3);
      const want = Number(fieldNum(rec, 2));
      if (type === REC_CRC) {
        if (crc !== 0 && want !== crc) throw corrupt(p, `crc record ${want} disagrees with the chain ${crc}`);
        crc = want;
        p = end + (top & 0x80 ? top & 7 : 0);
        continue;
      }
      const next = crc32c(data, crc);
      if (want !== next) {
        // a torn last write: the rest of the last segment is not trusted (etcd repairs the same way)
        if (last) { wal.tornBytes = file.length - p; break; }
        throw corrupt(p, `crc mismatch`);
      }
      crc = next;
      p = end + (top & 0x80 ? top & 7 : 0);
      const m = protoFields(data, 'etcd WAL record data');
      if (type === REC_METADATA) {
        const md = { nodeId: fieldNum(m, 1), clusterId: fieldNum(m, 2) };
        if (seenMetadata && (md.nodeId !== wal.metadata.nodeId || md.clusterId !== wal.metadata.clusterId)) throw corrupt(p, `metadata differs between segments`);
        wal.metadata = md;
        seenMetadata = true;
      } else if (type === REC_ENTRY) {
        const e = { type: Number(fieldNum(m, 1)), term: Number(fieldNum(m, 2)), index: Number(fieldNum(m, 3)), data: Buffer.from(fieldBytes(m, 4)) };
        let keep = wal.entries.length;
        while (keep > 0 && (wal.entries[keep - 1] as EtcdWalEntry).index >= e.index) keep--;
        wal.entries.length = keep;
        wal.entries.push(e);
      } else if (type === REC_STATE) {
        if (data.length > 0) wal.hardState = { term: Number(fieldNum(m, 1)), vote: fieldNum(m, 2), commit: Number(fieldNum(m, 3)) };
      } else if (type === REC_SNAPSHOT) {
        wal.snapshots.push({ index: Number(fieldNum(m, 1)), term: Number(fieldNum(m, 2)) });
      } else throw corrupt(p, `unknown record type ${type}`);
    }
  });
  if (!seenMetadata) throw new WalCorruptError('etcd WAL', 0, 'no metadata record');
  return wal;
}

/** etcd's .snap file as a raft snapshot (data: etcd's v2 store JSON); SnapshotCorruptError if it is damaged. */
export function readEtcdSnap(file: Buffer): Snapshot {
  try {
    return decodeEtcdSnap(file);
  } catch (e) {
    throw e instanceof SnapshotCorruptError ? e : new SnapshotCorruptError((e as Error).message, 'etcd .snap');
  }
}

function decodeEtcdSnap(file: Buffer): Snapshot {
  const outer = protoFields(file, 'etcd .snap');
  const data = fieldBytes(outer, 2);
  if (data.length === 0) throw new SnapshotCorruptError('empty', 'etcd .snap');
  if (crc32c(data) !== Number(fieldNum(outer, 1))) throw new SnapshotCorruptError('crc mismatch', 'etcd .snap');
  const snap = protoFields(data, 'raftpb.Snapshot');
  const md = protoFields(fieldBytes(snap, 2), 'raftpb.SnapshotMetadata');
  const cs = protoFields(fieldBytes(md, 1), 'raftpb.ConfState');
  return {
    data: new Uint8Array(fieldBytes(snap, 1)),
    metadata: {
      index: Number(fieldNum(md, 2)),
      term: Number(fieldNum(md, 3)),
      confState: {
        voters: fieldNums(cs, 1, 'ConfState'),
        learners: fieldNums(cs, 2, 'ConfState'),
        votersOutgoing: fieldNums(cs, 3, 'ConfState'),
        learnersNext: fieldNums(cs, 4, 'ConfState'),
        autoLeave: fieldNum(cs, 5) !== 0n,
      },
    },
  };
}
