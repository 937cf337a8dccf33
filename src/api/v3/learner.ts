/*
 * A learner serves only what etcd 3.4's interceptors let it (isRPCSupportedForLearner): Status and
 * serializable Range among unary calls, no stream at all; everything else is refused with
 * "etcdserver: rpc not supported for learner" before the handler runs. The JSON gateway, which etcd
 * serves through the same gRPC server, asks supportedForLearner too.
 */
import type * as grpc from '@grpc/grpc-js';
import { grpcErrorOf } from './errors.js';

type AnyMethod = grpc.MethodDefinition<object, object>;
type Call = { request?: object; emit(e: 'error', err: unknown): boolean };

/** etcd's isRPCSupportedForLearner for a unary call (`service` without its package). */
export function supportedForLearner(service: string, method: string, req: object | undefined): boolean {
  if (service === 'Maintenance' && method === 'Status') return true;
  return service === 'KV' && method === 'Range' && (req as { serializable?: boolean } | undefined)?.serializable === true;
}

/** `impl` with every method refusing while `isLearner()` says this member is a learner. */
export function learnerGate(
  service: string,
  def: grpc.ServiceDefinition,
  impl: grpc.UntypedServiceImplementation,
  isLearner: () => boolean,
): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = { ...impl };
  for (const [method, md] of Object.entries(def) as [string, AnyMethod][]) {
    const h = impl[method] as ((call: Call, cb?: (err: unknown) => void) => void) | undefined;
    if (h === undefined) continue;
    const unaryCall = !md.requestStream && !md.responseStream;
    out[method] = ((call: Call, cb?: (err: unknown) => void) => {
      if (!isLearner() || (unaryCall && supportedForLearner(service, method, call.request))) return h(call, cb);
      const err = grpcErrorOf('NotSupportedForLearner');
      if (cb !== undefined) cb(err);
      else call.emit('error', err);
    }) as grpc.UntypedHandleCall;
  }
  return out;
}
