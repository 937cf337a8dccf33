/**
 * Response encoders that leave proto3 zero values off the wire, as etcd's gogoproto encoders do.
 *
 * proto-loader's serializer is protobufjs's fromObject → encode, which writes every field the
 * handler's object sets, zeros included: `{ ID: '5', TTL: 30, error: '' }` became `… 0x22 0x00`
 * (an empty `error`) where etcd sends nothing, and a MemberList's `isLearner: false` became
 * `0x28 0x00`. Here the message is built by fromObject, then every zero scalar that is not a oneof
 * member (oneof members keep their presence) is dropped before encode, recursively.
 *
 * KV's, Watch's and LeaseKeepAlive's hand-made codecs already omit zeros; they replace these
 * serializers where they are installed.
 */
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { PROTO_DIR, PROTO_FILES } from './proto.js';

let root: protobuf.Root | undefined;

function protoRoot(): protobuf.Root {
  if (root === undefined) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => `${PROTO_DIR}${target.replace(/^.*\//, '')}`;
    root.loadSync([...PROTO_FILES], { keepCase: true });
    root.resolveAll();
  }
  return root;
}

function isZero(v: unknown): boolean {
  if (v === 0 || v === false || v === '') return true;
  if (v instanceof Uint8Array) return v.length === 0;
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number };
    return l.low === 0 && l.high === 0;
  }
  return false;
}

/** Deletes the zero scalars of `msg` (a protobufjs message instance) and of its sub-messages. */
function dropZeros(type: protobuf.Type, msg: Record<string, unknown>): void {
  for (const f of type.fieldsArray) {
    const v = msg[f.name];
    if (v == null || !Object.prototype.hasOwnProperty.call(msg, f.name)) continue;
    const sub = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    if (f.repeated) {
      if (sub) for (const m of v as Record<string, unknown>[]) dropZeros(sub, m);
    } else if (f.map) {
      if (sub) for (const m of Object.values(v as Record<string, Record<string, unknown>>)) dropZeros(sub, m);
    } else if (sub) {
      dropZeros(sub, v as Record<string, unknown>);
    } else if (!f.partOf && isZero(v)) {
      delete msg[f.name];
    }
  }
}

function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    const msg = type.fromObject(value as Record<string, unknown>);
    dropZeros(type, msg as unknown as Record<string, unknown>);
    return Buffer.from(type.encode(msg).finish());
  };
}

type AnyMethod = grpc.MethodDefinition<object, object> & { responseType?: { type?: { name?: string } } };

/**
 * `def` (a proto-loader service definition) with every response encoded without zero values; the
 * response type is looked up in the service's package (`/etcdserverpb.Lease/LeaseGrant` →
 * etcdserverpb.LeaseGrantResponse). Methods whose response type cannot be found keep their serializer.
 */
export function omitZeros(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, AnyMethod> = {};
  for (const [name, md] of Object.entries(def) as [string, AnyMethod][]) {
    const pkg = md.path.split('/')[1]?.replace(/\.[^.]*$/, '');
    const typeName = md.responseType?.type?.name;
    const type = pkg && typeName ? protoRoot().lookup(`${pkg}.${typeName}`) : null;
    out[name] = type instanceof protobuf.Type ? { ...md, responseSerialize: serializer(type) } : md;
  }
  return out as grpc.ServiceDefinition;
}
