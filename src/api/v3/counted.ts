/**
 * grpc_server_* metrics for every RPC, as etcd's go-grpc-prometheus interceptors count them: started,
 * handled by status code, and stream messages. Wraps a service implementation; the per-method series
 * are tallies (plain numbers added to the counters at scrape time), so a counted call costs a few additions.
 */
import type * as grpc from '@grpc/grpc-js';
import { GRPC_CODE_NAMES, tally, type EtcdMetrics, type GrpcType, type Tally } from '../../pkg/metrics.js';

type AnyMethod = grpc.MethodDefinition<object, object>;
type Handler = (call: never, callback?: never) => void;

function typeOf(md: AnyMethod): GrpcType {
  if (md.requestStream) return md.responseStream ? 'bidi_stream' : 'client_stream';
  return md.responseStream ? 'server_stream' : 'unary';
}

function children(m: EtcdMetrics, type: GrpcType, service: string, method: string) {
  // /metrics prints labels in the order of this object: etcd's (alphabetical) order.
  const labels = { grpc_method: method, grpc_service: service, grpc_type: type };
  const handled: Tally[] = [];
  return {
    started: tally(m.grpcStarted, labels),
    received: tally(m.grpcMsgReceived, labels),
    sent: tally(m.grpcMsgSent, labels),
    handled(code: number): void {
      (handled[code] ??= tally(m.grpcHandled, { grpc_code: GRPC_CODE_NAMES[code] ?? 'Unknown', ...labels })).inc();
    },
  };
}

function clientVersion(call: { metadata?: { get(key: string): (string | Buffer)[] } }): string {
  const v = call.metadata?.get('client-api-version')[0];
  return v === undefined ? 'unknown' : String(v);
}

/** The same service with the bytes of each message received and sent added to etcd's client byte counters. */
export function countingBytes(m: EtcdMetrics, def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, AnyMethod> = {};
  for (const [method, md] of Object.entries(def) as [string, AnyMethod][]) {
    const { requestDeserialize: decode, responseSerialize: encode } = md;
    out[method] = {
      ...md,
      requestDeserialize: (buf: Buffer) => {
        m.grpcBytes.received += buf.length;
        return decode(buf);
      },
      responseSerialize: (res: object) => {
        const buf = encode(res);
        m.grpcBytes.sent += buf.length;
        return buf;
      },
    };
  }
  return out;
}

export function counted(
  m: EtcdMetrics,
  service: string,
  def: grpc.ServiceDefinition,
  impl: grpc.UntypedServiceImplementation,
): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(impl) as [string, Handler][]) {
    const md = def[method] as AnyMethod | undefined;
    if (!md) continue;
    const type = typeOf(md);
    const c = children(m, type, service, method);
    if (type === 'unary') {
      out[method] = ((call: never, callback: grpc.sendUnaryData<object>) => {
        c.started.inc();
        m.countClientRequest('unary', clientVersion(call));
        c.received.inc();
        handler(call, ((err: grpc.ServiceError | null, res?: object) => {
          if (!err) c.sent.inc();
          c.handled(err ? (err.code ?? 2) : 0);
          callback(err, res);
        }) as never);
      }) as never;
    } else {
      out[method] = ((call: grpc.ServerDuplexStream<object, object>) => {
        c.started.inc();
        m.countClientRequest('stream', clientVersion(call));
        let code = 0;
        call.on('data', () => c.received.inc());
        call.once('error', (e: { code?: number }) => (code = e.code ?? 2));
        call.once('cancelled', () => (code = 1));
        call.once('close', () => c.handled(code));
        handler(call as never);
      }) as never;
    }
  }
  return out;
}
