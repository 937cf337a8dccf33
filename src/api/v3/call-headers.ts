/** What a call served on its HTTP/2 stream reads from its request (unary-path.ts, stream-call.ts). */
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

/** A grpc-timeout value in ms, as grpc-js reads it, or grpc-js's refusal of a malformed one. */
export function timeoutMs(value: string): number | RecvStatus {
  const m = DEADLINE_REGEX.exec(value);
  if (m === null) return { code: Status.INTERNAL, details: `Invalid grpc-timeout value "${value}"` };
  return (Number(m[1]) * DEADLINE_UNIT_MS[m[2]!]!) | 0;
}
