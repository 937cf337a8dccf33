/**
 * Whether etcd's request decoder (gogo/protobuf's generated Unmarshal, as in etcd 3.4.23's rpc.pb.go)
 * takes a message, and if not its error text, so that a refused request says what etcd says:
 * `proto: wrong wireType = 0 for field Key`, `proto: PutRequest: illegal tag 0 (wire type 0)`,
 * `proto: PutRequest: wiretype end group for non-group`, `proto: illegal wireType 7` (an unknown
 * field), `proto: integer overflow`, `proto: negative length found during unmarshaling`,
 * `unexpected EOF`. Checked against etcd 3.4.23 (test/unit/api-v3/gogo-check.test.ts).
 *
 * The walk follows gogo's: every varint (key, length or value) is at most 10 bytes, a length field
 * must fit in what is left, a known field must have its wire type (repeated numbers packed or not),
 * embedded messages are walked the same way, unknown fields are skipped (groups by depth).
 * One departure: a length that overflows int64 when added to the offset makes etcd's decoder panic
 * (the member exits); here it is a negative length, as newer gogo answers.
 */
import type { PackageDefinition } from '@grpc/proto-loader';

const EOF = 'unexpected EOF';
const OVERFLOW = 'proto: integer overflow';
const NEGATIVE = 'proto: negative length found during unmarshaling';
const END_OF_GROUP = 'proto: unexpected end of group';

interface FieldRule {
  /** The Go field name gogo's texts use (generator.CamelCase of the proto name). */
  readonly goName: string;
  readonly wire: number;
  /** Repeated scalars: packed (wire 2) is taken too. */
  readonly packable: boolean;
  /** For embedded messages: the message's full name. */
  readonly message?: string;
}

interface MessageRule {
  readonly name: string;
  readonly fields: Map<number, FieldRule>;
}

const WIRE_OF: Record<string, number> = {
  TYPE_DOUBLE: 1, TYPE_FIXED64: 1, TYPE_SFIXED64: 1, TYPE_FLOAT: 5, TYPE_FIXED32: 5, TYPE_SFIXED32: 5,
  TYPE_STRING: 2, TYPE_BYTES: 2, TYPE_MESSAGE: 2,
};

/** protoc-gen-gogo's CamelCase: "range_end" → "RangeEnd", "peerURLs" → "PeerURLs", "ID" → "ID". */
export function goCamelCase(s: string): string {
  let out = '';
  let i = 0;
  if (s.startsWith('_')) {
    out = 'X';
    i = 1;
  }
  const lower = (c: string | undefined): boolean => c !== undefined && c >= 'a' && c <= 'z';
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c === '_' && lower(s[i + 1])) continue;
    if (c >= '0' && c <= '9') {
      out += c;
      continue;
    }
    out += lower(c) ? c.toUpperCase() : c;
    while (lower(s[i + 1])) out += s[++i];
  }
  return out;
}

interface Descriptor {
  type?: { name: string; field: { name: string; number: number; label: string; type: string; typeName: string }[] };
}

/** The rules for every message of a proto-loader package definition, built on first use. */
export class GogoRules {
  private readonly rules = new Map<string, MessageRule>();

  constructor(private readonly pkg: PackageDefinition) {}

  /** A checker for the message `fullName` (e.g. "etcdserverpb.PutRequest"). */
  checker(fullName: string): (buf: Uint8Array) => string | undefined {
    return (buf) => this.walk(buf, 0, buf.length, fullName);
  }

  private rule(fullName: string): MessageRule {
    let r = this.rules.get(fullName);
    if (r !== undefined) return r;
    const d = this.pkg[fullName] as Descriptor | undefined;
    const fields = new Map<number, FieldRule>();
    r = { name: fullName.slice(fullName.lastIndexOf('.') + 1), fields };
    this.rules.set(fullName, r);
    for (const f of d?.type?.field ?? []) {
      const message = f.type === 'TYPE_MESSAGE' ? this.resolve(fullName, f.typeName) : undefined;
      const wire = WIRE_OF[f.type] ?? 0;
      fields.set(f.number, { goName: goCamelCase(f.name), wire, packable: f.label === 'LABEL_REPEATED' && wire !== 2, message });
    }
    return r;
  }

  /** A field's message type name as proto-loader writes it, made a full name. */
  private resolve(owner: string, typeName: string): string {
    const t = typeName.replace(/^\./, '');
    for (let scope = owner; scope.includes('.'); scope = scope.slice(0, scope.lastIndexOf('.'))) {
      const candidate = `${scope.slice(0, scope.lastIndexOf('.'))}.${t}`;
      if (this.pkg[candidate] !== undefined) return candidate;
      if (this.pkg[`${scope}.${t}`] !== undefined) return `${scope}.${t}`;
    }
    return t;
  }

  /** gogo's Unmarshal of buf[start, end) as `fullName`: undefined when taken, else its error text. */
  private walk(buf: Uint8Array, start: number, end: number, fullName: string): string | undefined {
    const msg = this.rule(fullName);
    let i = start;
    while (i < end) {
      const key = readVarint(buf, i, end);
      if (typeof key === 'string') return key;
      const wireType = typeof key === 'number' ? key & 7 : Number(key & 7n);
      const fieldNum = typeof key === 'number' ? key >>> 3 : Number(BigInt.asIntN(32, key >> 3n));
      if (wireType === 4) return `proto: ${msg.name}: wiretype end group for non-group`;
      if (fieldNum <= 0) return `proto: ${msg.name}: illegal tag ${fieldNum} (wire type ${key})`;
      const f = msg.fields.get(fieldNum);
      const after = f === undefined ? skip(buf, i, end) : this.field(buf, varintEnd, end, f, wireType);
      if (typeof after === 'string') return after;
      i = after;
    }
    return undefined;
  }

  /** One known field's value at i: the offset after it, or the error. */
  private field(buf: Uint8Array, i: number, end: number, f: FieldRule, wireType: number): number | string {
    if (wireType !== f.wire && !(f.packable && wireType === 2)) return `proto: wrong wireType = ${wireType} for field ${f.goName}`;
    if (wireType === 0) {
      const v = readVarint(buf, i, end);
      return typeof v === 'string' ? v : varintEnd;
    }
    if (wireType === 1 || wireType === 5) return fixedEnd(i, wireType, end);
    const post = lengthEnd(buf, i, end);
    if (typeof post === 'string') return post;
    const first = varintEnd;
    if (f.message !== undefined) return this.walk(buf, first, post, f.message) ?? post;
    if (!f.packable) return post;
    let j = first; // packed: gogo reads each element up to the buffer's end, not the field's
    while (j < post) {
      const next = f.wire === 0 ? readVarint(buf, j, end) : fixedEnd(j, f.wire, end);
      if (typeof next === 'string') return next;
      j = f.wire === 0 ? varintEnd : (next as number);
    }
    return f.wire === 0 ? j : post;
  }
}

function fixedEnd(i: number, wireType: number, end: number): number | string {
  const n = i + (wireType === 1 ? 8 : 4);
  return n > end ? EOF : n;
}

/** A length-delimited field's length at i: the offset of its end (its first byte in varintEnd), or the error. */
function lengthEnd(buf: Uint8Array, i: number, end: number): number | string {
  const len = readVarint(buf, i, end);
  if (typeof len === 'string') return len;
  if (typeof len === 'number') return varintEnd + len > end ? EOF : varintEnd + len;
  const n = BigInt.asIntN(64, len);
  if (n < 0n) return NEGATIVE;
  const post = BigInt(varintEnd) + n;
  if (post > 0x7fffffffffffffffn) return NEGATIVE; // etcd 3.4.23 panics here
  return post > BigInt(end) ? EOF : Number(post);
}

/** gogo's skipRpc from i (an unknown field's key): the offset after the field, or the error. */
function skip(buf: Uint8Array, i: number, end: number): number | string {
  let depth = 0;
  while (i < end) {
    const key = readVarint(buf, i, end);
    if (typeof key === 'string') return key;
    i = varintEnd;
    const wireType = typeof key === 'number' ? key & 7 : Number(key & 7n);
    if (wireType === 0) {
      const v = readVarint(buf, i, end);
      if (typeof v === 'string') return v;
      i = varintEnd;
    } else if (wireType === 1 || wireType === 5) {
      i += wireType === 1 ? 8 : 4;
    } else if (wireType === 2) {
      const post = lengthEnd(buf, i, end);
      if (typeof post === 'string') return post;
      i = post;
    } else if (wireType === 3) {
      depth++;
    } else if (wireType === 4) {
      if (depth === 0) return END_OF_GROUP;
      depth--;
    } else {
      return `proto: illegal wireType ${wireType}`;
    }
    if (depth === 0) return i > end ? EOF : i;
  }
  return EOF;
}

/** Where the last varint read ended. */
let varintEnd = 0;

/**
 * The varint at i as gogo reads it: at most 10 bytes (else overflow), within the buffer (else EOF); a
 * number below 2^28, else the uint64 (bits past 64 dropped, as Go's shifts drop them). Sets varintEnd.
 */
function readVarint(buf: Uint8Array, i: number, end: number): number | bigint | string {
  let v = 0;
  let j = i;
  for (let shift = 0; ; shift += 7) {
    if (shift >= 64) return OVERFLOW;
    if (j >= end) return EOF;
    const b = buf[j++]!;
    if (shift < 28) v |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  varintEnd = j;
  if (j - i <= 4) return v;
  let big = 0n;
  for (let k = j - 1; k >= i; k--) big = (big << 7n) | BigInt(buf[k]! & 0x7f);
  return BigInt.asUintN(64, big);
}
