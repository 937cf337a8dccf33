/** What a call served on its HTTP/2 stream reads from its request, and its status (unary-path.ts, stream-call.ts, h2-call.ts). */
import type * as http2 from 'node:http2';
import * as tls from 'node:tls';
import { status as Status } from '@grpc/grpc-js';
import type { PeerAuthContext } from './common.js';
import type { RecvStatus } from './grpc-receive.js';

const DEADLINE_REGEX = /(\d{1,8})\s*([HMSmun])/;
const DEADLINE_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** Each connection's client certificate, as grpc-js's getAuthContext gives it. */
const PEER_AUTH = new WeakMap<http2.Http2Session, PeerAuthContext>();

/** A metadata key's values, as grpc-js's Metadata.get gives them (`-bin` keys decoded from base64). */
export function metadataOf(headers: http2.IncomingHttpHeaders, key: string): (string | Buffer)[] {
  const v = headers[key];
  if (v === undefined) return [];
  const vs = Array.isArray(v) ? v : [v];
  return key.endsWith('-bin') ? vs.map((x) => Buffer.from(x, 'base64')) : vs;
}

/** grpc-js's getAuthContext (the verified client certificate), read once per connection. */
export function authContextOf(stream: http2.ServerHttp2Stream): PeerAuthContext {
  const session = stream.session;
  if (session === undefined) return {};
  let a = PEER_AUTH.get(session);
  if (a === undefined) {
    const socket = session.socket;
    a = socket instanceof tls.TLSSocket && socket.authorized ? { sslPeerCertificate: socket.getPeerCertificate() } : {};
    PEER_AUTH.set(session, a);
  }
  return a;
}

/** A handler's error as a status (its metadata's headers go into the trailers). */
export interface GrpcStatus {
  code: number;
  details: string;
  metadata?: { toHttp2Headers(): http2.OutgoingHttpHeaders } | null;
}

/** grpc-js's serverErrorToStatus: a handler's error as the status the client receives. */
export function statusOf(err: unknown): GrpcStatus {
  const e = (err ?? {}) as { code?: unknown; details?: unknown; message?: unknown; metadata?: GrpcStatus['metadata'] };
  const s: GrpcStatus = { code: Status.UNKNOWN, details: typeof e.message === 'string' ? e.message : 'Unknown Error', metadata: e.metadata ?? null };
  if (typeof e.code === 'number' && Number.isInteger(e.code)) {
    s.code = e.code;
    if (typeof e.details === 'string') s.details = e.details;
  }
  return s;
}

/** A grpc-timeout value in ms, as grpc-js reads it, or grpc-js's refusal of a malformed one. */
export function timeoutMs(value: string): number | RecvStatus {
  const m = DEADLINE_REGEX.exec(value);
  if (m === null) return { code: Status.INTERNAL, details: `Invalid grpc-timeout value "${value}"` };
  return (Number(m[1]) * DEADLINE_UNIT_MS[m[2]!]!) | 0;
}
