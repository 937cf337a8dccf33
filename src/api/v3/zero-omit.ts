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
import { encodeWithoutZeros } from '../../pkg/proto3-zeros.js';
import { protoRoot } from './proto.js';

function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    const b = encodeWithoutZeros(type, value);
    return Buffer.from(b.buffer, b.byteOffset, b.length);
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
