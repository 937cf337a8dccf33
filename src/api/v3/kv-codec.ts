/**
 * KV's hot methods on the hand-made codecs of src/codec/kv.ts instead of protobufjs (why, and the
 * rules they keep, are there).
 */
import type * as grpc from '@grpc/grpc-js';
import {
  decodePutRequest,
  decodeRangeRequest,
  decodeTxnRequest,
  encodeDeleteRangeResponse,
  encodePutResponse,
  encodeRangeResponse,
  encodeTxnResponse,
} from '../../codec/kv.js';

type AnyMethod = grpc.MethodDefinition<object, object>;

/** etcdserverpb.KV's definition with these codecs on its hot methods (Compact keeps protobufjs). */
export function withKvCodecs(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const m = (name: string, codec: Partial<AnyMethod>): AnyMethod => ({ ...(def[name] as AnyMethod), ...codec }) as AnyMethod;
  return {
    ...def,
    Range: m('Range', { requestDeserialize: decodeRangeRequest, responseSerialize: encodeRangeResponse as AnyMethod['responseSerialize'] }),
    Put: m('Put', { requestDeserialize: decodePutRequest, responseSerialize: encodePutResponse as AnyMethod['responseSerialize'] }),
    DeleteRange: m('DeleteRange', { responseSerialize: encodeDeleteRangeResponse as AnyMethod['responseSerialize'] }),
    Txn: m('Txn', { requestDeserialize: decodeTxnRequest, responseSerialize: encodeTxnResponse as AnyMethod['responseSerialize'] }),
  };
}
