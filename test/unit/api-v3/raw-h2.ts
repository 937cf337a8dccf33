// Raw HTTP/2 gRPC requests for the short path's tests (unary-path.test.ts, stream-call.test.ts):
// what a client sees, and grpc-js's answer rewritten in the headers etcd (grpc-go) sends; and the
// grpc-js server both tests start, with or without the short path in front.
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'vitest';
import { encodeGrpcMessage, UnaryPath } from '../../../src/api/v3/unary-path.js';

export interface Server { server: grpc.Server; port: number; path?: UnaryPath }

/** A grpc-js server on a free port serving `def`; with `short`, the short path in front (`streams`: its bidi streams). */
export async function startServer(def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation, maxReceive: number,
  short: boolean, streams?: readonly string[]): Promise<Server> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxReceive, 'grpc.enable_channelz': 0 });
  server.addService(def, impl);
  let path: UnaryPath | undefined;
  if (short) {
    path = new UnaryPath(maxReceive);
    path.addService(def, impl, true, streams);
    expect(path.install(server)).toBe(true); // fails if a grpc-js release moves the hook
  }
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { server, port, path };
}

export const frame = (body: string | Buffer, flag = 0): Buffer => {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const f = Buffer.alloc(5 + b.length);
  f[0] = flag;
  f.writeUInt32BE(b.length, 1);
  b.copy(f, 5);
  return f;
};

export interface Answer { headers: Record<string, unknown>; trailers: Record<string, unknown>; body: string; date: boolean }

/** One raw HTTP/2 request; the answer with the date header reduced to whether there was one. */
export function raw(port: number, path: string, body: Buffer[], extra: http2.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra });
    const a: Answer = { headers: {}, trailers: {}, body: '', date: false };
    const clean = (h: object): Record<string, unknown> => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'date'));
    req.on('response', (h) => {
      a.headers = clean(h);
      a.date = 'date' in h;
    });
    req.on('trailers', (h) => (a.trailers = clean(h)));
    req.on('data', (d: Buffer) => (a.body += d.toString('latin1')));
    req.on('error', () => {}); // a refused request closes; the answer is what arrived
    req.on('close', () => {
      session.close();
      resolve(a);
    });
    for (const b of body) req.write(b);
    req.end();
  });
}

/**
 * grpc-js's answer as etcd would send it: headers `:status` and `content-type: application/grpc`
 * only, and `grpc-message` empty on success or the same text in grpc-go's encoding.
 */
export function inEtcdHeaders(a: Answer): Answer {
  if (a.headers[':status'] === undefined) return a; // reset, no answer
  const trailersOnly = 'grpc-status' in a.headers;
  const st = trailersOnly ? a.headers : a.trailers;
  const status = String(st['grpc-status']);
  const message = status === '0' ? '' : encodeGrpcMessage(decodeURIComponent(String(st['grpc-message'] ?? '')));
  const grpcJsOnly = new Set([':status', 'content-type', 'grpc-status', 'grpc-message', 'grpc-accept-encoding', 'grpc-encoding']);
  const rest = Object.fromEntries(Object.entries(st).filter(([k]) => !grpcJsOnly.has(k)));
  const statusFields = { 'grpc-status': status, 'grpc-message': message, ...rest };
  const headers = { ':status': 200, 'content-type': 'application/grpc' };
  return trailersOnly
    ? { headers: { ...headers, ...statusFields }, trailers: {}, body: a.body, date: false }
    : { headers, trailers: statusFields, body: a.body, date: false };
}
