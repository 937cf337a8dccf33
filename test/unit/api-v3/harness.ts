// Test harness: a fake facade (every method rejects 'NotCapable' unless overridden), the real
// grpc server on 127.0.0.1:<free port>, and typed grpc-js clients built from our proto.
import * as grpc from '@grpc/grpc-js';
import * as net from 'node:net';
import { createGrpcServer, type GrpcServerOptions } from '../../../src/api/v3/index.js';
import { createH2Router } from '../../../src/api/v3/server.js';
import { etcdGrpc } from '../../../src/api/v3/proto.js';
import { EtcdError } from '../../../src/server/errors.js';
import type {
  EtcdServerFacade,
  HeaderInfo,
  WatchSink,
  WatchStream,
  WatcherSpec,
} from '../../../src/server/facade.js';

export const HEADER: HeaderInfo = {
  clusterId: 15118495548433857066n, // > 2^63: must survive as uint64
  memberId: 9372538179322589801n,
  raftTerm: 7,
  revision: 41,
};

export function header(revision = HEADER.revision) {
  return {
    cluster_id: HEADER.clusterId.toString(),
    member_id: HEADER.memberId.toString(),
    revision,
    raft_term: HEADER.raftTerm,
  };
}

/** A facade whose methods are `over` or reject with EtcdError('NotCapable'); records call names. */
export function fakeFacade(over: Partial<EtcdServerFacade>, calls: string[] = []): EtcdServerFacade {
  const base: Partial<EtcdServerFacade> = {
    header: () => HEADER,
    servingStatus: () => 'SERVING',
    version: () => ({ etcdserver: '3.4.23', etcdcluster: '3.4.0' }),
  };
  return new Proxy({} as EtcdServerFacade, {
    get(_t, prop: string) {
      // asked before every call (the learner gate): state, not a call of the facade's
      if (prop === 'isLearner') return (over as Record<string, unknown>)[prop] ?? (() => false);
      const f = (over as Record<string, unknown>)[prop] ?? (base as Record<string, unknown>)[prop];
      if (typeof f === 'function') {
        return (...args: unknown[]) => {
          calls.push(prop);
          return (f as (...a: unknown[]) => unknown)(...args);
        };
      }
      return async () => {
        calls.push(prop);
        throw new EtcdError('NotCapable');
      };
    },
  });
}

/** The server side of one watch stream, driven by the test. */
export class FakeWatchStream implements WatchStream {
  readonly specs: WatcherSpec[] = [];
  readonly canceled: number[] = [];
  closed = false;
  rev = HEADER.revision;
  constructor(readonly sink: WatchSink) {}
  watch(spec: WatcherSpec): number {
    this.specs.push(spec);
    return this.rev;
  }
  cancel(watchId: number): boolean {
    const known = this.specs.some((s) => s.watchId === watchId);
    if (known) this.canceled.push(watchId);
    return known;
  }
  revision(): number {
    return this.rev;
  }
  close(): void {
    this.closed = true;
  }
}

export interface Running {
  readonly port: number;
  readonly address: string;
  /** The grpc-js Server (startServer); none on the JavaScript HTTP/2 (startH2Server). */
  readonly server?: grpc.Server;
  stop(): Promise<void>;
}

export async function startServer(facade: EtcdServerFacade, opts?: GrpcServerOptions): Promise<Running> {
  const server = createGrpcServer(facade, opts);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    address: `127.0.0.1:${port}`,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

/** The same services over the JavaScript HTTP/2 (api/v3/h2-grpc.ts, the client port's default), on a plain listener. */
export async function startH2Server(facade: EtcdServerFacade, opts?: GrpcServerOptions): Promise<Running> {
  const router = createH2Router(facade, opts);
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    router.serve(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        listener.close(() => resolve());
      }),
  };
}

export function clients(address: string) {
  const pb = etcdGrpc();
  const creds = grpc.credentials.createInsecure();
  const opts = { 'grpc.max_send_message_length': 8 * 1024 * 1024 };
  return {
    kv: new pb.etcdserverpb.KV(address, creds, opts),
    watch: new pb.etcdserverpb.Watch(address, creds),
    lease: new pb.etcdserverpb.Lease(address, creds),
    cluster: new pb.etcdserverpb.Cluster(address, creds),
    maintenance: new pb.etcdserverpb.Maintenance(address, creds),
    auth: new pb.etcdserverpb.Auth(address, creds),
    health: new pb.grpc.health.v1.Health(address, creds),
    close() {
      for (const c of [this.kv, this.watch, this.lease, this.cluster, this.maintenance, this.auth, this.health]) c.close();
    },
  };
}

/** Promisify a unary client call: resolves the response or rejects with the ServiceError. */
export function call<Req, Res>(
  fn: (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res as Res))));
}
