/**
 * etcdserverpb.Request (etcd's etcdserver.proto, proto2 with gogoproto), by hand: what etcd 3.4 puts
 * in a raft entry, bare (not inside an InternalRaftRequest), for a /v2/keys write or quorum read, a
 * SYNC (v2 TTL expiry at the leader's time), a member's attribute publication (PUT
 * /0/members/<hex id>/attributes) and the cluster version (PUT /0/version).
 *
 *   ID=1 uint64, Method=2, Path=3, Val=4 strings, Dir=5 bool, PrevValue=6 string, PrevIndex=7 uint64,
 *   PrevExist=8 bool (nullable), Expiration=9 int64 (unix ns, 0 = none), Wait=10 bool, Since=11 uint64,
 *   Recursive=12, Sorted=13, Quorum=14 bools, Time=15 int64 (unix ns), Stream=16 bool, Refresh=17 bool
 *   (nullable)
 *
 * Writing is gogoproto's: fields in number order, every non-nullable field even when zero, PrevExist
 * and Refresh only when set. e.g. etcd's publish of member c6969d0c7670b0b4:
 *   08 <ID> 12 03 "PUT" 1a 26 "/0/members/c6969d0c7670b0b4/attributes" 22 37 {"name":...} 28 00 32 00
 *   38 00 48 00 50 00 58 00 60 00 68 00 70 00 78 00 80 01 00
 * Reading is gogoproto's Unmarshal, decision for decision (GogoDecodeError on what it refuses): the
 * caller tells a bare Request from an InternalRaftRequest by whether the latter refuses the bytes.
 * Strings are read as UTF-8 (Go keeps the bytes; an ill-formed sequence becomes U+FFFD here).
 */

export interface V2Request {
  ID: bigint;
  Method: string;
  Path: string;
  Val: string;
  Dir: boolean;
  PrevValue: string;
  PrevIndex: bigint;
  /** undefined: not given (nil). */
  PrevExist?: boolean;
  /** Unix nanoseconds; 0: no TTL. */
  Expiration: bigint;
  Wait: boolean;
  Since: bigint;
  Recursive: boolean;
  Sorted: boolean;
  Quorum: boolean;
  /** Unix nanoseconds: the leader's clock, for SYNC. */
  Time: bigint;
  Stream: boolean;
  /** undefined: not given (nil). */
  Refresh?: boolean;
}

/** A Request with every field at its zero value and `fields` over them. */
export function newV2Request(fields: Partial<V2Request> = {}): V2Request {
  return {
    ID: 0n, Method: '', Path: '', Val: '', Dir: false, PrevValue: '', PrevIndex: 0n, Expiration: 0n, Wait: false,
    Since: 0n, Recursive: false, Sorted: false, Quorum: false, Time: 0n, Stream: false, ...fields,
  };
}

/** What gogoproto's Unmarshal refuses, with its reason. */
export class GogoDecodeError extends Error {}

/**
 * Inside the readers a refusal is thrown as this one object, its reason kept aside: no stack is
 * captured, and telling a bare Request from an InternalRaftRequest is a refusal per v2 entry (an
 * Error cost ~5 µs of a ~8 µs decode). The exported readers turn it into a GogoDecodeError.
 */
const REFUSED: unique symbol = Symbol('gogoproto refused');
let refusal = '';

export function refuse(reason: string): never {
  refusal = reason;
  throw REFUSED;
}

/** Runs `read`, returning undefined where gogoproto refuses the bytes. */
export function unlessRefused<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    if (err === REFUSED) return undefined;
    throw err;
  }
}

/** Runs `read`, throwing GogoDecodeError where gogoproto refuses the bytes. */
function orDecodeError<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err === REFUSED) throw new GogoDecodeError(refusal);
    throw err;
  }
}

// ---- writing ----
//
// 64-bit values go through two uint32 halves: V8 (Node 20) has crashed optimizing loops over
// BigInt.asUintN(64, ...) values ("Phi of kRepTagged (UnsignedBigInt64) cannot be changed").

let lo = 0;
let hi = 0;

/** Sets lo/hi from a 64-bit value (an int64 as its two's complement). */
function halves(v: bigint): void {
  const u = BigInt.asUintN(64, v);
  lo = Number(u & 0xffffffffn);
  hi = Number(u >> 32n);
}

function varintSize(v: bigint): number {
  if (v === 0n) return 1;
  halves(v);
  const bits = hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(lo);
  return bits === 0 ? 1 : Math.ceil(bits / 7);
}

function writeVarint(out: Buffer, pos: number, v: bigint): number {
  if (v === 0n) {
    out[pos] = 0;
    return pos + 1;
  }
  halves(v);
  let l = lo;
  let h = hi;
  while (h !== 0) {
    out[pos++] = (l & 0x7f) | 0x80;
    l = ((l >>> 7) | (h << 25)) >>> 0;
    h >>>= 7;
  }
  while (l > 0x7f) {
    out[pos++] = (l & 0x7f) | 0x80;
    l >>>= 7;
  }
  out[pos++] = l;
  return pos;
}

function smallVarintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function writeSmallVarint(out: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  return pos;
}

export function encodeV2Request(r: V2Request): Buffer {
  const method = Buffer.byteLength(r.Method);
  const path = Buffer.byteLength(r.Path);
  const val = Buffer.byteLength(r.Val);
  const prevValue = Buffer.byteLength(r.PrevValue);
  const size =
    5 + varintSize(r.ID) + varintSize(r.PrevIndex) + varintSize(r.Expiration) + varintSize(r.Since) + varintSize(r.Time) +
    4 + smallVarintSize(method) + method + smallVarintSize(path) + path + smallVarintSize(val) + val + smallVarintSize(prevValue) + prevValue +
    2 * 5 + 3 + // Dir, Wait, Recursive, Sorted, Quorum (tag, byte), Stream (two-byte tag, byte)
    (r.PrevExist !== undefined ? 2 : 0) + (r.Refresh !== undefined ? 3 : 0);
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  const str = (tag: number, s: string, n: number): void => {
    out[pos++] = tag;
    pos = writeSmallVarint(out, pos, n);
    if (n > 0) pos += out.write(s, pos, 'utf8');
  };
  const bool = (tag: number, v: boolean): void => {
    out[pos++] = tag;
    out[pos++] = v ? 1 : 0;
  };
  const num = (tag: number, v: bigint): void => {
    out[pos++] = tag;
    pos = writeVarint(out, pos, v);
  };
  num(0x08, r.ID);
  str(0x12, r.Method, method);
  str(0x1a, r.Path, path);
  str(0x22, r.Val, val);
  bool(0x28, r.Dir);
  str(0x32, r.PrevValue, prevValue);
  num(0x38, r.PrevIndex);
  if (r.PrevExist !== undefined) bool(0x40, r.PrevExist);
  num(0x48, r.Expiration);
  bool(0x50, r.Wait);
  num(0x58, r.Since);
  bool(0x60, r.Recursive);
  bool(0x68, r.Sorted);
  bool(0x70, r.Quorum);
  num(0x78, r.Time);
  out[pos++] = 0x80;
  bool(0x01, r.Stream);
  if (r.Refresh !== undefined) {
    out[pos++] = 0x88;
    bool(0x01, r.Refresh);
  }
  if (pos !== size) throw new Error(`v2-request: wrote ${pos} bytes, sized ${size}`);
  return out;
}

// ---- reading, as gogoproto's generated Unmarshal ----

/**
 * A cursor over one message's bytes with gogoproto's primitive reads: varints of at most 10 bytes
 * (the bits past 64 dropped), lengths checked against what is left.
 */
export class GogoReader {
  pos = 0;
  /** The last varint read: its low and high 32 bits. */
  lo = 0;
  hi = 0;

  constructor(
    readonly data: Uint8Array,
    readonly end = data.length,
  ) {}

  /** Reads a varint into lo/hi: at most 10 bytes, the bits past 64 dropped (as gogoproto). */
  varintHalves(): void {
    const d = this.data;
    let p = this.pos;
    let l = 0;
    let h = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) refuse('unexpected EOF');
      const b = d[p++]!;
      const bits = b & 0x7f;
      if (i < 4) l |= bits << (7 * i);
      else if (i === 4) {
        l |= (bits & 0xf) << 28;
        h |= bits >>> 4;
      } else h |= bits << (7 * i - 32);
      if (b < 0x80) {
        this.pos = p;
        this.lo = l >>> 0;
        this.hi = h >>> 0;
        return;
      }
    }
    refuse('proto: integer overflow');
  }

  /** A varint as uint64. */
  varint(): bigint {
    this.varintHalves();
    return this.hi === 0 ? BigInt(this.lo) : (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** A varint as a Go bool (any of its 64 bits set). */
  bool(): boolean {
    this.varintHalves();
    return (this.lo | this.hi) !== 0;
  }

  /** A length-delimited field's length: refused when negative as a Go int, or past the end. */
  length(): number {
    this.varintHalves();
    if (this.hi >= 0x80000000) refuse('proto: negative length found during unmarshaling');
    const n = this.hi * 4294967296 + this.lo;
    if (n > this.end - this.pos) refuse('unexpected EOF');
    return n;
  }

  /** A field key: [field number as Go's int32(wire >> 3), wire type]; end group and field ≤ 0 refused. */
  key(message: string): [number, number] {
    this.varintHalves();
    const field = ((this.lo >>> 3) | (this.hi << 29)) | 0;
    const wireType = this.lo & 7;
    if (wireType === 4) refuse(`proto: ${message}: wiretype end group for non-group`);
    if (field <= 0) refuse(`proto: ${message}: illegal tag ${field} (wire type ${wireType})`);
    return [field, wireType];
  }

  /** Skips an unknown field whose key starts at `keyStart` (gogoproto's skip, then its bounds check). */
  skipField(keyStart: number): void {
    const n = skipLength(this.data, keyStart, this.end);
    if (keyStart + n > this.end) refuse('unexpected EOF');
    this.pos = keyStart + n;
  }

  expectWireType(got: number, want: number, field: string): void {
    if (got !== want) refuse(`proto: wrong wireType = ${got} for field ${field}`);
  }
}

/** gogoproto's skip<Package>: the length of the field whose key starts at `start` (no bounds check after a fixed or length-delimited value; the caller checks). */
function skipLength(d: Uint8Array, start: number, end: number): number {
  const r = new GogoReader(d, end);
  r.pos = start;
  r.varintHalves();
  const wireType = r.lo & 7;
  switch (wireType) {
    case 0:
      r.varintHalves();
      return r.pos - start;
    case 1:
      return r.pos + 8 - start;
    case 2: {
      r.varintHalves();
      if (r.hi >= 0x80000000) refuse('proto: negative length found during unmarshaling');
      // past the end: the caller's bounds check refuses it (etcd's int may wrap first: garbage either way)
      return r.pos - start + Math.min(r.hi * 4294967296 + r.lo, end + 1);
    }
    case 3:
      for (;;) {
        const inner = r.pos;
        r.varintHalves();
        if ((r.lo & 7) === 4) return r.pos - start;
        r.pos = inner + skipLength(d, inner, end);
      }
    case 4:
      return r.pos - start;
    case 5:
      return r.pos + 4 - start;
    default:
      refuse(`proto: illegal wireType ${wireType}`);
  }
}

const utf8 = new TextDecoder();

function readString(r: GogoReader): string {
  const n = r.length();
  const s = n === 0 ? '' : utf8.decode(r.data.subarray(r.pos, r.pos + n));
  r.pos += n;
  return s;
}

const STRING_FIELDS = { 2: 'Method', 3: 'Path', 4: 'Val', 6: 'PrevValue' } as const;
const UINT_FIELDS = { 1: 'ID', 7: 'PrevIndex', 11: 'Since' } as const;
const INT_FIELDS = { 9: 'Expiration', 15: 'Time' } as const;
const BOOL_FIELDS = { 5: 'Dir', 10: 'Wait', 12: 'Recursive', 13: 'Sorted', 14: 'Quorum', 16: 'Stream' } as const;

/** Reads data[start, end) as gogoproto's Request.Unmarshal does; throws GogoDecodeError where it fails. */
export function readV2Request(data: Uint8Array, start = 0, end = data.length): V2Request {
  return orDecodeError(() => readRequest(data, start, end));
}

/** readV2Request inside the readers (a refusal thrown as REFUSED). */
export function readRequest(data: Uint8Array, start: number, end: number): V2Request {
  const m = newV2Request();
  const r = new GogoReader(data, end);
  r.pos = start;
  while (r.pos < end) {
    const keyStart = r.pos;
    const [field, wireType] = r.key('Request');
    if (field in STRING_FIELDS) {
      const name = STRING_FIELDS[field as keyof typeof STRING_FIELDS];
      r.expectWireType(wireType, 2, name);
      m[name] = readString(r);
    } else if (field in UINT_FIELDS) {
      const name = UINT_FIELDS[field as keyof typeof UINT_FIELDS];
      r.expectWireType(wireType, 0, name);
      m[name] = r.varint();
    } else if (field in INT_FIELDS) {
      const name = INT_FIELDS[field as keyof typeof INT_FIELDS];
      r.expectWireType(wireType, 0, name);
      m[name] = BigInt.asIntN(64, r.varint());
    } else if (field in BOOL_FIELDS) {
      const name = BOOL_FIELDS[field as keyof typeof BOOL_FIELDS];
      r.expectWireType(wireType, 0, name);
      m[name] = r.bool();
    } else if (field === 8) {
      r.expectWireType(wireType, 0, 'PrevExist');
      m.PrevExist = r.bool();
    } else if (field === 17) {
      r.expectWireType(wireType, 0, 'Refresh');
      m.Refresh = r.bool();
    } else {
      r.skipField(keyStart);
    }
  }
  return m;
}

/** A bare Request's entry data, as etcd's applyEntryNormal reads it after InternalRaftRequest refused it. */
export function decodeV2Request(data: Uint8Array): V2Request {
  return readV2Request(data);
}
