// The Put-only gRPC server of the HTTP/2 probes (bench/workers-probe.ts, bench/h2-probe.ts) on
// node:http2: one unary KV/Put per stream, its message gathered, decoded and handed to `propose`,
// answered with the revision `propose` gives back. The JavaScript HTTP/2 of bench/lib/js-h2.ts
// answers with the same bytes (putAnswer).
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { decodePutRequest, encodePutResponse } from '../../src/codec/kv.js';

const OK_HEADERS = { ':status': 200, 'content-type': 'application/grpc' };
const OK_TRAILERS = { 'grpc-status': '0', 'grpc-message': '' };
export const PUT_PATH = '/etcdserverpb.KV/Put';

export type Propose = (key: Buffer, value: Buffer, done: (rev: number) => void) => void;

/** The raft thread's own work per put, stood in for by a spin of `us` µs. */
export function spin(us: number): void {
  const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000));
  while (process.hrtime.bigint() < end);
}

/** A PutResponse with revision `rev` in its 5-byte gRPC frame (uncompressed). */
export function putAnswer(rev: number): Buffer {
  const body = encodePutResponse({ header: { cluster_id: 1, member_id: 2, revision: rev, raft_term: 2 } } as never);
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = 0;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}

/** The key and value of a PutRequest's bytes (without the gRPC frame). */
export function putKeyValue(message: Buffer): { key: Buffer; value: Buffer } {
  const req = decodePutRequest(message) as { key?: Buffer; value?: Buffer };
  return { key: req.key ?? Buffer.alloc(0), value: req.value ?? Buffer.alloc(0) };
}

/** One unary Put on `stream`: gather its message, `propose` the decoded key, answer with the revision. */
export function serveStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, propose: Propose): void {
  if (headers[':path'] !== PUT_PATH) {
    stream.respond({ ...OK_HEADERS, 'grpc-status': '12', 'grpc-message': 'not in the probe' }, { endStream: true });
    return;
  }
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => {
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const { key, value } = putKeyValue(buf.subarray(5));
    propose(key, value, (rev) => {
      if (stream.destroyed) return;
      stream.respond(OK_HEADERS, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
      stream.end(putAnswer(rev));
    });
  });
}

/** A node:http2 server (cleartext, prior knowledge) on 127.0.0.1:`port`, each stream to `onStream`. */
export function listenNodeH2(port: number, reusePort: boolean,
  onStream: (s: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders) => void): Promise<net.Server> {
  const h2 = http2.createServer();
  h2.on('stream', onStream);
  const tcp = net.createServer({ noDelay: true }, (s) => h2.emit('connection', s));
  return listenOn(tcp, port, reusePort);
}

export function listenOn(tcp: net.Server, port: number, reusePort = false): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ host: '127.0.0.1', port, reusePort } as net.ListenOptions, () => resolve(tcp));
  });
}
