/** Shared plumbing of the v3 services: unary adapter, call context, response headers. */
import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import type { CallContext, EtcdErrorCode, EtcdServerFacade } from '../../server/facade.js';
import type { ResponseHeader } from '../../pb/etcdserverpb/ResponseHeader.js';
import { type GrpcError, grpcErrorOf, toGrpcError } from './errors.js';

/** Limits etcd enforces at the API edge (flags --max-txn-ops, --max-request-bytes). */
export interface ApiLimits {
  readonly maxTxnOps: number;
  readonly maxRequestBytes: number;
}

/** What etcd adds to --max-request-bytes for gRPC messages: the receive limit, the watch fragment size. */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** Set by the request deserializer on a raft-bound request whose encoding exceeds maxRequestBytes. */
export const OVERSIZED: unique symbol = Symbol('oversized');

/**
 * Set by every request deserializer on a request grpc-go (etcd) would refuse before its handler: one
 * etcd's decoder does not take (grpc-go's "error unmarshalling request" texts), or, should a message
 * over the receive limit get past grpc-receive.ts, that limit's text. Handlers answer it as is.
 */
export const GRPC_REFUSED: unique symbol = Symbol('grpcRefused');

export interface Refusal {
  readonly code: Status;
  readonly details: string;
}

/** A request object that only carries a refusal. */
export function refusedRequest(code: Status, details: string): object {
  return { [GRPC_REFUSED]: { code, details } satisfies Refusal };
}

export function grpcRefusal(req: object): GrpcError | undefined {
  const r = (req as { [GRPC_REFUSED]?: Refusal })[GRPC_REFUSED];
  return r === undefined ? undefined : { code: r.code, details: r.details, message: r.details };
}

export function isOversized(req: object): boolean {
  return (req as { [OVERSIZED]?: true })[OVERSIZED] === true;
}

/** grpc-js's AuthContext, as far as it is read here. */
export interface PeerAuthContext {
  sslPeerCertificate?: { subject?: { CN?: string | string[] } };
}

interface AnyCall {
  readonly metadata: Pick<grpc.Metadata, 'get'>;
  getAuthContext?(): PeerAuthContext | null;
}

/**
 * The common name of the call's verified client certificate ('' when it has none), as etcd's
 * AuthInfoFromTLS reads it; undefined without one, or when the call says it comes through a gRPC
 * gateway (etcd ignores the name then).
 */
function commonNameOf(call: AnyCall): string | undefined {
  const cert = call.getAuthContext?.()?.sslPeerCertificate;
  if (cert === undefined) return undefined;
  if (call.metadata.get('grpcgateway-accept').length > 0) return undefined;
  const cn = cert.subject?.CN;
  return (Array.isArray(cn) ? cn[0] : cn) ?? '';
}

/**
 * The auth token: metadata "token" (etcd's clients), else "authorization" (what etcd also reads, the
 * gateway's header name); undefined when neither is sent.
 */
function tokenOf(call: AnyCall): string | undefined {
  let t = call.metadata.get('token');
  if (t.length === 0) t = call.metadata.get('authorization');
  return t.length === 0 ? undefined : String(t[0]);
}

/** The call's context: its auth token and certificate name; no allocation when there is neither. */
export function ctxOf(call: AnyCall): CallContext | undefined {
  const token = tokenOf(call);
  const commonName = commonNameOf(call);
  if (commonName !== undefined) return token === undefined ? { commonName } : { token, commonName };
  return token === undefined ? undefined : { token };
}

/** A context with an AbortSignal that fires when the client cancels (blocking calls). */
export function abortableCtx(call: AnyCall & { on(ev: 'cancelled', f: () => void): unknown }): CallContext {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  const token = tokenOf(call);
  const commonName = commonNameOf(call);
  return { signal: ac.signal, ...(token === undefined ? {} : { token }), ...(commonName === undefined ? {} : { commonName }) };
}

type Cancellable = { metadata: grpc.Metadata; on(ev: 'cancelled', f: () => void): unknown };

/** A unary handler whose facade call may block: passes an AbortSignal that fires when the client goes away. */
export function blocking<Req, Res>(fn: (req: Req, ctx: CallContext) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request, abortableCtx(call as unknown as Cancellable)).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toGrpcError(err)),
    );
  };
}

/** A request check: returns an error code to refuse the request before it reaches the facade. */
export type Check<Req> = (req: Req) => EtcdErrorCode | undefined;

/** grpc-js unary handler around a facade method, with optional check and size guard. */
export function unary<Req extends object, Res>(
  fn: (req: Req, ctx?: CallContext) => Promise<Res>,
  check?: Check<Req>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const req = call.request; // a refused request never gets here (server.ts refusing)
    const code = check === undefined ? undefined : check(req);
    if (code !== undefined) {
      callback(grpcErrorOf(code));
      return;
    }
    fn(req, ctxOf(call)).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toGrpcError(err)),
    );
  };
}

/** Builds ResponseHeaders for stream responses, caching the decimal forms of the 64-bit ids. */
export class HeaderMaker {
  private clusterId = -1n;
  private memberId = -1n;
  private clusterIdText = '0';
  private memberIdText = '0';

  constructor(private readonly facade: EtcdServerFacade) {}

  /** Header at `revision` (or the facade's current revision when omitted). */
  make(revision?: number): ResponseHeader {
    const h = this.facade.header();
    if (h.clusterId !== this.clusterId) {
      this.clusterId = h.clusterId;
      this.clusterIdText = h.clusterId.toString();
    }
    if (h.memberId !== this.memberId) {
      this.memberId = h.memberId;
      this.memberIdText = h.memberId.toString();
    }
    return {
      cluster_id: this.clusterIdText,
      member_id: this.memberIdText,
      revision: revision ?? h.revision,
      raft_term: h.raftTerm,
    };
  }
}

/** The check of raft-bound requests without other validation: only the size limit. */
export function sizeGuard<Req extends object>(req: Req): EtcdErrorCode | undefined {
  return isOversized(req) ? 'RequestTooLarge' : undefined;
}
