// The grpc-gateway JSON mapping of etcd 3.4 (golang/protobuf jsonpb with OrigName), driven by the
// message descriptors that @grpc/proto-loader puts in the package definition:
//
//   output: .proto field names as written (`create_revision`, `ID`, `grantedTTL`), 64-bit integers
//           as decimal strings, bytes as base64, enums by name, zero scalars / empty lists / unset
//           messages left out, a present sub-message printed even when empty (`"header":{}`),
//           fields in declaration order.
//   input:  proto name or lowerCamelCase name; 64-bit integers as number or string; enums by name
//           or number; null means default; unknown fields ignored.
//
// Decoding yields the shape grpc-js hands to a service (proto-loader options keepCase, longs:
// String, bytes: Buffer, enums: String, defaults, oneofs), so the facade sees one shape from both
// APIs. Encoding accepts every shape proto-loader's permissive input types allow.
import type { PackageDefinition } from '@grpc/proto-loader';
import { GatewayDecodeError, decodeBase64Std } from './json-scan.js';
import { goJsonSyntaxError } from './json-syntax.js';

type Kind = 'long' | 'int' | 'float' | 'bool' | 'string' | 'bytes' | 'enum' | 'message';

interface FieldSpec {
  readonly name: string;
  readonly kind: Kind;
  readonly goType: string;
  readonly repeated: boolean;
  readonly typeRef: string; // full name of the message or enum, '' for scalars
  readonly oneof: string | undefined;
}

interface EnumSpec {
  readonly fullName: string;
  readonly byName: Map<string, number>;
  readonly byNumber: Map<number, string>;
}

export interface MessageSpec {
  readonly fullName: string;
  readonly fields: readonly FieldSpec[];
  readonly byJsonName: Map<string, FieldSpec>;
}

/**
 * proto-loader's descriptors do not say which fields belong to a oneof (every field reports
 * oneofIndex 0), so the oneof members of etcd's messages are named here; a test checks this table
 * against the .proto text.
 */
export const ONEOF_MEMBERS: Readonly<Record<string, { oneof: string; members: readonly string[] }>> = {
  'etcdserverpb.RequestOp': { oneof: 'request', members: ['request_range', 'request_put', 'request_delete_range', 'request_txn'] },
  'etcdserverpb.ResponseOp': { oneof: 'response', members: ['response_range', 'response_put', 'response_delete_range', 'response_txn'] },
  'etcdserverpb.Compare': { oneof: 'target_union', members: ['version', 'create_revision', 'mod_revision', 'value', 'lease'] },
  'etcdserverpb.WatchRequest': { oneof: 'request_union', members: ['create_request', 'cancel_request', 'progress_request'] },
};

const KIND_OF: Record<string, [Kind, string]> = {
  TYPE_INT64: ['long', 'int64'], TYPE_SINT64: ['long', 'int64'], TYPE_SFIXED64: ['long', 'int64'],
  TYPE_UINT64: ['long', 'uint64'], TYPE_FIXED64: ['long', 'uint64'],
  TYPE_INT32: ['int', 'int32'], TYPE_SINT32: ['int', 'int32'], TYPE_SFIXED32: ['int', 'int32'],
  TYPE_UINT32: ['int', 'uint32'], TYPE_FIXED32: ['int', 'uint32'],
  TYPE_DOUBLE: ['float', 'float64'], TYPE_FLOAT: ['float', 'float32'],
  TYPE_BOOL: ['bool', 'bool'], TYPE_STRING: ['string', 'string'], TYPE_BYTES: ['bytes', '[]uint8'],
  TYPE_ENUM: ['enum', 'int32'], TYPE_MESSAGE: ['message', 'struct'],
};

interface RawField { name: string; type: string; label: string; typeName: string }
interface RawEnum { name: string; value: { name: string; number: number }[] }
interface RawMessage { field: RawField[]; enumType?: RawEnum[]; nestedType?: unknown[] }

const lowerCamel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The JSON mapping for every message of a package definition. */
export class JsonCodec {
  private readonly messages = new Map<string, MessageSpec>();
  private readonly enums = new Map<string, EnumSpec>();

  constructor(pkg: PackageDefinition) {
    const raw = new Map<string, RawMessage>();
    for (const [fullName, def] of Object.entries(pkg)) {
      const d = def as { format?: string; type?: unknown };
      if (d.format === 'Protocol Buffer 3 DescriptorProto') raw.set(fullName, d.type as RawMessage);
      else if (d.format === 'Protocol Buffer 3 EnumDescriptorProto') this.addEnum(fullName, d.type as RawEnum);
    }
    for (const [fullName, m] of raw) for (const e of m.enumType ?? []) this.addEnum(`${fullName}.${e.name}`, e);
    for (const [fullName, m] of raw) this.messages.set(fullName, this.buildMessage(fullName, m, raw));
  }

  message(fullName: string): MessageSpec {
    const m = this.messages.get(fullName);
    if (m === undefined) throw new Error(`json-codec: unknown message ${fullName}`);
    return m;
  }

  /** JSON value → the message object grpc-js would deliver (defaults filled in). */
  decode(spec: MessageSpec, json: unknown): Record<string, unknown> {
    if (json === null || json === undefined) json = {};
    if (typeof json !== 'object' || Array.isArray(json)) {
      throw new GatewayDecodeError(`json: cannot unmarshal ${jsonKind(json)} into Go value of type map[string]json.RawMessage`);
    }
    const out: Record<string, unknown> = {};
    for (const f of spec.fields) if (f.oneof === undefined) out[f.name] = this.defaultOf(f);
    for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
      const f = spec.byJsonName.get(key);
      if (f === undefined || value === null) continue;
      if (f.repeated) {
        if (!Array.isArray(value)) throw mismatch(value, `[]${f.goType}`);
        out[f.name] = value.map((v) => this.decodeSingle(f, v));
      } else {
        out[f.name] = this.decodeSingle(f, value);
      }
      if (f.oneof !== undefined) out[f.oneof] = f.name;
    }
    return out;
  }

  /** A message object (any proto-loader input shape) → its gateway JSON object. */
  encode(spec: MessageSpec, msg: object): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const src = msg as Record<string, unknown>;
    for (const f of spec.fields) {
      const v = src[f.name];
      if (v === undefined || v === null) continue;
      if (f.repeated) {
        if (!Array.isArray(v) || v.length === 0) continue;
        out[f.name] = v.map((x) => this.encodeSingle(f, x));
      } else if (f.kind === 'message') {
        out[f.name] = this.encode(this.message(f.typeRef), v as object);
      } else if (f.oneof !== undefined || !isZero(f, v, f.kind === 'enum' ? this.enumSpec(f).byNumber.get(0) : undefined)) {
        out[f.name] = this.encodeSingle(f, v);
      }
    }
    return out;
  }

  private decodeSingle(f: FieldSpec, v: unknown): unknown {
    switch (f.kind) {
      case 'long': return decodeLong(f, v);
      case 'int': case 'float': return decodeNumber(f, v);
      case 'bool':
        if (typeof v !== 'boolean') throw mismatch(v, 'bool');
        return v;
      case 'string':
        if (typeof v !== 'string') throw mismatch(v, 'string');
        return v;
      case 'bytes':
        if (typeof v !== 'string') throw mismatch(v, '[]uint8');
        return decodeBase64Std(v);
      case 'enum': return this.decodeEnum(f, v);
      case 'message': return this.decode(this.message(f.typeRef), v);
    }
  }

  private encodeSingle(f: FieldSpec, v: unknown): unknown {
    switch (f.kind) {
      case 'long': return longToString(v);
      case 'bytes': return typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('base64');
      case 'enum': return typeof v === 'number' ? (this.enumSpec(f).byNumber.get(v) ?? v) : v;
      case 'message': return this.encode(this.message(f.typeRef), v as object);
      default: return v;
    }
  }

  /** A number etcd's enum does not name stays a number, as proto-loader decodes it (a string would not survive the raft encoding). */
  private decodeEnum(f: FieldSpec, v: unknown): string | number {
    const e = this.enumSpec(f);
    if (typeof v === 'string') {
      if (e.byName.has(v)) return v;
      throw new GatewayDecodeError(`unknown value "${v}" for enum ${goEnumName(e.fullName)}`);
    }
    if (typeof v === 'number' && Number.isInteger(v)) return e.byNumber.get(v) ?? v;
    throw mismatch(v, goEnumName(e.fullName));
  }

  private enumSpec(f: FieldSpec): EnumSpec {
    const e = this.enums.get(f.typeRef);
    if (e === undefined) throw new Error(`json-codec: unknown enum ${f.typeRef}`);
    return e;
  }

  private defaultOf(f: FieldSpec): unknown {
    if (f.repeated) return [];
    switch (f.kind) {
      case 'long': return '0';
      case 'int': case 'float': return 0;
      case 'bool': return false;
      case 'string': return '';
      case 'bytes': return Buffer.alloc(0);
      case 'enum': return this.enumSpec(f).byNumber.get(0) ?? 0;
      case 'message': return null;
    }
  }

  private addEnum(fullName: string, e: RawEnum): void {
    const byName = new Map<string, number>();
    const byNumber = new Map<number, string>();
    for (const v of e.value) {
      byName.set(v.name, v.number);
      if (!byNumber.has(v.number)) byNumber.set(v.number, v.name);
    }
    this.enums.set(fullName, { fullName, byName, byNumber });
  }

  private buildMessage(fullName: string, m: RawMessage, raw: Map<string, RawMessage>): MessageSpec {
    const oneofs = ONEOF_MEMBERS[fullName];
    const fields: FieldSpec[] = m.field.map((rf) => {
      const [kind, goType] = KIND_OF[rf.type] ?? ['message', 'struct'];
      const typeRef = kind === 'message' || kind === 'enum' ? this.resolve(fullName, rf.typeName, raw) : '';
      const oneof = oneofs?.members.includes(rf.name) ? oneofs.oneof : undefined;
      return { name: rf.name, kind, goType, repeated: rf.label === 'LABEL_REPEATED', typeRef, oneof };
    });
    const byJsonName = new Map<string, FieldSpec>();
    for (const f of fields) {
      byJsonName.set(lowerCamel(f.name), f);
      byJsonName.set(f.name, f);
    }
    return { fullName, fields, byJsonName };
  }

  /** Protobuf scoping: the innermost enclosing scope that defines the name wins. */
  private resolve(scope: string, typeName: string, raw: Map<string, RawMessage>): string {
    const name = typeName.startsWith('.') ? typeName.slice(1) : typeName;
    const parts = scope.split('.');
    for (let n = parts.length; n >= 0; n--) {
      const candidate = [...parts.slice(0, n), name].join('.');
      if (raw.has(candidate) || this.enums.has(candidate)) return candidate;
    }
    throw new Error(`json-codec: cannot resolve type ${typeName} in ${scope}`);
  }
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v;
}

function mismatch(v: unknown, goType: string): GatewayDecodeError {
  const what = typeof v === 'number' && !Number.isInteger(v) ? `number ${v}` : jsonKind(v);
  return new GatewayDecodeError(`json: cannot unmarshal ${what} into Go value of type ${goType}`);
}

/** `etcdserverpb.RangeRequest.SortOrder` → Go's `etcdserverpb.RangeRequest_SortOrder`. */
function goEnumName(fullName: string): string {
  const [pkg, ...rest] = fullName.split('.');
  return `${pkg}.${rest.join('_')}`;
}

const INT_TEXT = /^-?(0|[1-9][0-9]*)$/;
const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

function decodeLong(f: FieldSpec, v: unknown): string {
  let text: string;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw mismatch(v, f.goType);
    text = BigInt(v).toString();
  } else if (typeof v === 'string') {
    text = v.trim();
    if (!INT_TEXT.test(text)) {
      if (NUMBER_TEXT.test(text)) throw new GatewayDecodeError(`json: cannot unmarshal number ${text} into Go value of type ${f.goType}`);
      throw new GatewayDecodeError(text === '' ? 'unexpected end of JSON input' : goJsonSyntaxError(text));
    }
  } else {
    throw mismatch(v, f.goType);
  }
  const n = BigInt(text);
  const [min, max] = f.goType === 'uint64' ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
  if (n < min || n > max) throw new GatewayDecodeError(`json: cannot unmarshal number ${text} into Go value of type ${f.goType}`);
  return n.toString();
}

function decodeNumber(f: FieldSpec, v: unknown): number {
  const n = typeof v === 'string' && NUMBER_TEXT.test(v.trim()) ? Number(v.trim()) : v;
  if (typeof n !== 'number') throw mismatch(v, f.goType);
  if (f.kind === 'int' && !Number.isInteger(n)) throw mismatch(n, f.goType);
  return n;
}

function longToString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v).toString() : String(Math.trunc(v));
  return String(v); // bigint, or a Long (its toString honours `unsigned`)
}

function isZero(f: FieldSpec, v: unknown, enumZeroName?: string): boolean {
  switch (f.kind) {
    case 'long': return v === 0 || v === '0' || v === 0n || (typeof v === 'object' && String(v) === '0');
    case 'int': case 'float': return v === 0;
    case 'bool': return v === false;
    case 'string': return v === '';
    case 'bytes': return (v as { length: number }).length === 0;
    case 'enum': return v === 0 || v === enumZeroName;
    case 'message': return false;
  }
}
