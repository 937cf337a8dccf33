/**
 * api/v3: etcd's v3 gRPC API over the server facade.
 *
 * Model: each RPC is validated as etcd 3.4's v3rpc layer does (empty key, txn op count and
 * overlapping writes, ignore_* conflicts, member URLs, request size for raft-bound calls), then
 * handed to `EtcdServerFacade` (src/server/facade.ts); a rejected `EtcdError` is mapped by the one
 * table in errors.ts to etcd's gRPC code and exact message. Watch multiplexes watchers on one
 * stream (watch.ts); LeaseKeepAlive renews one request at a time; Snapshot streams 32 KiB pieces
 * and a trailing sha256.
 *
 * Wire format: proto/ (etcd 3.4 field numbers), loaded by proto.ts with keepCase, int64 as decimal
 * strings, bytes as Buffer, enums as names. Example: `etcdctl put foo bar` arrives as
 * PutRequest{key:<66 6f 6f>, value:<62 61 72>, lease:'0', ...} and the facade answers
 * {header:{cluster_id:'14841639068965178418', member_id:'10276657743932975437', revision:2, raft_term:2}}.
 *
 * Contract: `createGrpcServer(facade, opts)` returns an unbound grpc.Server; the caller binds it
 * (tests: bindAsync('127.0.0.1:0')) or injects client-port connections (createConnectionInjector).
 * The facade must answer `header()` synchronously. Errors for the JSON gateway: `toErrorInfo`.
 */
export { createGrpcServer, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_TXN_OPS, GRPC_OVERHEAD_BYTES } from './server.js';
export type { GrpcServerOptions } from './server.js';
export { errorInfo, toErrorInfo, toGrpcError, httpStatusOf, ALL_ERROR_CODES } from './errors.js';
export type { ErrorInfo } from './errors.js';
export { etcdGrpc, packageDefinition, PROTO_DIR, PROTO_LOADER_OPTIONS } from './proto.js';
export { checkPut, checkRange, checkDelete, checkTxn, checkPeerURLs } from './validate.js';
