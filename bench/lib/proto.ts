// gRPC clients for the load generator: etcd's v3 services (KV, Watch, Lease) loaded at run time from
// the project's proto/ with @grpc/proto-loader and driven through raw @grpc/grpc-js, the same wire
// contract etcd's clients use. Each `connect()` is its own TCP connection (local subchannel pool), as
// etcd's benchmark tool opens one grpc.ClientConn per --conns.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));
const CONNECT_TIMEOUT_MS = 10_000; // hang guard for the first connection of each channel
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024; // replies as large as a 64 MiB range are accepted

/** A loosely typed unary method: request object in, reply object out (proto-loader's object form). */
export type Unary = (req: object, cb: (err: grpc.ServiceError | null, res: any) => void) => void;

export interface Conn {
  channel: grpc.Channel;
  kv: grpc.Client & { Put: Unary; Range: Unary; Txn: Unary };
  watch: grpc.Client & { Watch: () => grpc.ClientDuplexStream<object, any> };
  lease: grpc.Client & { LeaseGrant: Unary; LeaseKeepAlive: () => grpc.ClientDuplexStream<object, any> };
}

let pkg: any;
/** The etcdserverpb package of proto/rpc.proto (KV, Watch, Lease, Maintenance, ...), loaded once. */
export function load(): any {
  if (!pkg) {
    const def = protoLoader.loadSync('rpc.proto', {
      includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, defaults: false, oneofs: true,
    });
    pkg = (grpc.loadPackageDefinition(def) as any).etcdserverpb;
  }
  return pkg;
}

/** One new TCP connection to `endpoint` (host:port) carrying the KV, Watch and Lease services. */
export async function connect(endpoint: string): Promise<Conn> {
  const p = load();
  const opts: grpc.ChannelOptions = {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  };
  const creds = grpc.credentials.createInsecure();
  const kv = new p.KV(endpoint, creds, opts);
  const channel: grpc.Channel = kv.getChannel();
  const watch = new p.Watch(endpoint, creds, { ...opts, channelOverride: channel });
  const lease = new p.Lease(endpoint, creds, { ...opts, channelOverride: channel });
  await new Promise<void>((resolve, reject) => {
    kv.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (err?: Error) => (err ? reject(err) : resolve()));
  });
  return { channel, kv, watch, lease };
}

export function closeConn(c: Conn): void {
  c.kv.close();
  c.channel.close();
}

/** Promise form of a unary call. */
export function call<T = any>(fn: Unary, self: object, req: object): Promise<T> {
  return new Promise((resolve, reject) => fn.call(self, req, (err, res) => (err ? reject(err) : resolve(res as T))));
}

/** A short description of a failed call, for error samples ("UNAVAILABLE: ...", "HTTP 404"). */
export function describeError(err: unknown): string {
  const e = err as { code?: number; details?: string; message?: string };
  if (typeof e.code === 'number' && e.details !== undefined) return `${grpc.status[e.code] ?? e.code}: ${e.details}`;
  return e.message ?? String(err);
}

// Hot path of put and range: the request is encoded by hand (etcdserverpb field numbers: PutRequest
// key=1 value=2; RangeRequest key=1 serializable=7) and the reply is not decoded, so the generator
// spends its CPU on the call itself rather than on protobufjs reflection.
const identity = (b: Buffer): Buffer => b;
const emptyMeta = new grpc.Metadata();

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function field(tag: number, bytes: Buffer): Buffer[] {
  return [Buffer.from([tag, ...varint(bytes.length)]), bytes];
}

export function encodePut(key: Buffer, value: Buffer): Buffer {
  return Buffer.concat([...field(0x0a, key), ...field(0x12, value)]);
}

export function encodeRange(key: Buffer, serializable: boolean): Buffer {
  return Buffer.concat([...field(0x0a, key), ...(serializable ? [Buffer.from([0x38, 1])] : [])]);
}

/** The metadata of every request of a run: its auth token, if any. */
export function tokenMeta(token: string | undefined): grpc.Metadata {
  if (token === undefined) return emptyMeta;
  const md = new grpc.Metadata();
  md.set('token', token);
  return md;
}

/** A unary call with an encoded request; resolves with the undecoded reply bytes. */
export function rawUnary(client: grpc.Client, method: '/etcdserverpb.KV/Put' | '/etcdserverpb.KV/Range', req: Buffer, md = emptyMeta): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(method, identity, identity, req, md, (err, res) => (err ? reject(err) : resolve(res!))));
}
