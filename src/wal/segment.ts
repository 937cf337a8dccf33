// Segment files: names, listing, and the verifying scan that tells a torn tail from corruption.
import { knownZeroFrom, type Disk } from '../pkg/disk.js';
import { crc32cRange } from '../pkg/crc32c.js';
import { HEADER_BYTES, MAX_PAYLOAD_BYTES, expectedPayloadBytes, headerCheck, isKnownType, RecordType, TRAILER_BYTES } from './record.js';
import { WalCorruptError } from './types.js';

export const SECTOR_BYTES = 512;

export interface SegmentName {
  seq: number;
  /** The first entry index this segment was cut for (the last index written before it, plus one). */
  index: number;
  name: string;
}

const hex16 = (n: number): string => n.toString(16).padStart(16, '0');

export function segmentFileName(seq: number, index: number): string {
  return `${hex16(seq)}-${hex16(index)}.wal`;
}

export function parseSegmentName(name: string): SegmentName | undefined {
  const m = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/.exec(name);
  if (!m) return undefined;
  return { seq: Number.parseInt(m[1]!, 16), index: Number.parseInt(m[2]!, 16), name };
}

/** The segments of a WAL directory sorted by sequence; throws if a sequence number is missing. */
export async function listSegments(disk: Disk, walDir: string): Promise<SegmentName[]> {
  const names = (await disk.readdir(walDir)).map(parseSegmentName).filter((s): s is SegmentName => s !== undefined);
  names.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < names.length; i++) {
    if (names[i]!.seq !== names[i - 1]!.seq + 1) {
      throw new WalCorruptError(names[i]!.name, 0, `segment sequence jumps from ${names[i - 1]!.seq} to ${names[i]!.seq} (a segment is missing)`);
    }
  }
  return names;
}

/** Position of the last segment whose first index is <= index (the one that may contain it), or -1. */
export function searchIndex(segments: SegmentName[], index: number): number {
  for (let i = segments.length - 1; i >= 0; i--) if (segments[i]!.index <= index) return i;
  return -1;
}

/**
 * One verified record: where its payload lies in the segment buffer. The view (`payload`) is made
 * only when asked for: a restart reads ~100,000 records before the snapshot only for their index.
 */
export class ScannedRecord {
  constructor(
    readonly buf: Buffer,
    readonly type: RecordType,
    readonly offset: number,
    readonly payloadStart: number,
    readonly payloadEnd: number,
  ) {}

  /** A view into the segment buffer. */
  get payload(): Buffer {
    return this.buf.subarray(this.payloadStart, this.payloadEnd);
  }
}

/**
 * The records of a scan, kept as numbers in typed arrays: a restart scans ~100,000 records and keeps
 * them until the replay, and an object each was ~3.5 MB of heap for the scavenger to copy twice.
 */
export class RecordList {
  private types = new Uint8Array(256);
  private offsets = new Float64Array(256);
  private ends = new Float64Array(256);
  length = 0;

  constructor(readonly buf: Buffer) {}

  push(type: RecordType, offset: number, payloadEnd: number): void {
    if (this.length === this.types.length) {
      const grow = <T extends Uint8Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.types = grow(this.types);
      this.offsets = grow(this.offsets);
      this.ends = grow(this.ends);
    }
    this.types[this.length] = type;
    this.offsets[this.length] = offset;
    this.ends[this.length] = payloadEnd;
    this.length++;
  }

  type(i: number): RecordType {
    return this.types[i]! as RecordType;
  }

  /** Where the record starts in the segment. */
  offset(i: number): number {
    return this.offsets[i]!;
  }

  payloadStart(i: number): number {
    return this.offsets[i]! + HEADER_BYTES;
  }

  /** A view into the segment buffer. */
  payload(i: number): Buffer {
    return this.buf.subarray(this.offsets[i]! + HEADER_BYTES, this.ends[i]!);
  }

  /** Record i as an object (tests and tools). */
  at(i: number): ScannedRecord {
    return new ScannedRecord(this.buf, this.type(i), this.offsets[i]!, this.offsets[i]! + HEADER_BYTES, this.ends[i]!);
  }
}

export interface SegmentScan {
  /** The valid records, in order. */
  list: RecordList;
  /** The same as objects, made when asked for (tests and tools). */
  readonly records: ScannedRecord[];
  /** Offset just after the last valid record: where the next record goes. */
  end: number;
  /** Chain value after the last valid record. */
  crc: number;
  /** clean: only zeros (or nothing) after `end`; dirty: a zero byte at `end` but data later; torn: a partial record at `end`. */
  tail: 'clean' | 'dirty' | 'torn';
  reason?: string;
}

function scanResult(list: RecordList, end: number, crc: number, tail: SegmentScan['tail'], reason?: string): SegmentScan {
  return {
    list,
    get records(): ScannedRecord[] {
      return Array.from({ length: list.length }, (_, i) => list.at(i));
    },
    end,
    crc,
    tail,
    ...(reason === undefined ? {} : { reason }),
  };
}

const zeros = Buffer.alloc(64 * 1024);

/** True if buf[from, to) holds only zero bytes (the part its reader found zero is not read again). */
export function allZero(buf: Buffer, from: number, to: number): boolean {
  to = Math.max(from, Math.min(to, knownZeroFrom(buf)));
  for (let s = from; s < to; s += zeros.length) {
    const e = Math.min(to, s + zeros.length);
    if (buf.compare(zeros, 0, e - s, s, e) !== 0) return false;
  }
  return true;
}

/**
 * A write that did not complete leaves whole sectors as they were before it: zeros (segments are
 * preallocated with zeros). Evidence of such a sector inside [start, end): a sector boundary after
 * `start` from which the rest of that sector (within the file) is all zero.
 */
function unwrittenSectorIn(buf: Buffer, start: number, end: number): boolean {
  for (let b = (Math.floor(start / SECTOR_BYTES) + 1) * SECTOR_BYTES; b < end; b += SECTOR_BYTES) {
    if (allZero(buf, b, Math.min(b + SECTOR_BYTES, buf.length))) return true;
  }
  return false;
}

interface ScanContext {
  buf: Buffer;
  file: string;
  isLast: boolean;
}

/** A damaged record: a torn tail if this is the last segment and the damage looks like one, else corruption. */
function damaged(ctx: ScanContext, at: number, reason: string, tornLooking: boolean): string {
  if (ctx.isLast && tornLooking) return reason;
  throw new WalCorruptError(ctx.file, at, reason);
}

/** Returns the record's end offset and checks it, or a torn reason (string). */
function checkRecord(ctx: ScanContext, pos: number): { end: number; type: RecordType } | string {
  const { buf } = ctx;
  if (pos + HEADER_BYTES > buf.length) return damaged(ctx, pos, 'partial record header at end of file', true);
  if (headerCheck(buf, pos) !== buf.readUInt16LE(pos + 6)) {
    // Torn: part of the header never written; or nothing (no payload, no trailer) after a junk header.
    const torn = unwrittenSectorIn(buf, pos, pos + HEADER_BYTES) || allZero(buf, pos + HEADER_BYTES, buf.length);
    return damaged(ctx, pos, 'record header check failed', torn);
  }
  const type = buf[pos]!;
  const n = buf.readUInt32LE(pos + 2);
  if (!isKnownType(type) || buf[pos + 1] !== 0) throw new WalCorruptError(ctx.file, pos, `unknown record type 0x${type.toString(16)}`);
  const want = expectedPayloadBytes(type);
  if (n > MAX_PAYLOAD_BYTES || (want !== undefined && n !== want) || (type === RecordType.Entry && n < 17) || (type === RecordType.Metadata && n < 16)) {
    throw new WalCorruptError(ctx.file, pos, `record of type 0x${type.toString(16)} has impossible length ${n}`);
  }
  const end = pos + HEADER_BYTES + n + TRAILER_BYTES;
  if (end > buf.length) return damaged(ctx, pos, `record of ${end - pos} bytes extends beyond end of file`, true);
  return { end, type };
}

/**
 * Verify every record of one segment. `previousCrc`: the chain value the previous segment ended
 * with, if it was read (undefined for the first segment read). Throws WalCorruptError on damage that
 * a torn write cannot explain; in the last segment, reports a torn or dirty tail instead.
 */
export function scanSegment(buf: Buffer, file: string, previousCrc: number | undefined, isLast: boolean): SegmentScan {
  const ctx: ScanContext = { buf, file, isLast };
  const records = new RecordList(buf);
  let pos = 0;
  let crc = 0;
  for (;;) {
    if (pos >= buf.length) return scanResult(records, pos, crc, 'clean');
    if (buf[pos] === 0) {
      if (allZero(buf, pos, buf.length)) return scanResult(records, pos, crc, 'clean');
      const reason = 'non-zero bytes after the end of the log';
      damaged(ctx, pos, reason, true);
      return scanResult(records, pos, crc, 'dirty', reason);
    }
    const rec = checkRecord(ctx, pos);
    if (typeof rec === 'string') return scanResult(records, pos, crc, 'torn', rec);
    const stored = buf.readUInt32LE(rec.end - TRAILER_BYTES);
    let seed = crc;
    if (pos === 0) {
      if (rec.type !== RecordType.Crc) throw new WalCorruptError(file, pos, 'segment does not start with a CRC record');
      seed = buf.readUInt32LE(pos + HEADER_BYTES);
    } else if (rec.type === RecordType.Crc) {
      throw new WalCorruptError(file, pos, 'CRC record inside a segment');
    }
    if (crc32cRange(buf, pos, rec.end - TRAILER_BYTES, seed) !== stored) {
      const reason = 'record checksum mismatch';
      damaged(ctx, pos, reason, unwrittenSectorIn(buf, pos, rec.end));
      return scanResult(records, pos, crc, 'torn', reason);
    }
    if (pos === 0 && previousCrc !== undefined && seed !== previousCrc) {
      throw new WalCorruptError(file, pos, `CRC chain broken: segment continues from ${seed}, previous segment ended at ${previousCrc}`);
    }
    records.push(rec.type, pos, rec.end - TRAILER_BYTES);
    crc = stored;
    pos = rec.end;
  }
}
