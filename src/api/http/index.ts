// api/http: the HTTP/1.1 side of the client port (2379) — /health, /version, /metrics and etcd
// 3.4's grpc-gateway JSON API under /v3 (and /v3beta) — as one fastify instance that never listens:
// platform/'s client-port multiplexer hands each accepted HTTP/1.1 socket to `app.server`.
//
// Wire format (what etcd 3.4.23 does; observed pairs in test/unit/api-http/observed-etcd.md):
//
//   POST /v3/kv/put   {"key":"Zm9v","value":"YmFy"}                       (bytes are base64)
//   200 application/json
//   {"header":{"cluster_id":"1511…","member_id":"1366…","revision":"2","raft_term":"2"}}
//   POST /v3/kv/range {}     → 400 {"error":"etcdserver: key is not provided","message":"…","code":3}
//   POST /v3/watch    {"create_request":{"key":"Zm9v"}} → chunked {"result":{…,"created":true}}\n …
//   GET  /health      → 200 {"health":"true"}   |  503 {"health":"false"}\n
//   GET  /version     → {"etcdserver":"3.4.23","etcdcluster":"3.4.0"}
//
// int64 fields are decimal strings, enums names, zero values omitted, output names as in the .proto.
//
// Contract: the lead calls `createHttpApp(facade, opts)` once per member, awaits `app.ready()`, and
// emits sockets on `app.server` (a node http.Server); http1Handler(facade, …) answers the hot requests
// (/health, /version, the v2 keys) on platform/http1 before a connection is handed to `app.server`. Every gateway call goes through the same
// EtcdServerFacade methods and the same request checks (src/api/v3/validate.ts) and error table
// (src/api/v3/errors.ts) as gRPC; gateway calls are counted in the grpc_server_* metrics as etcd's
// are. The server owns the metric objects (src/pkg/metrics.ts); this room only renders them.
export { createHttpApp, gatewayBodyBytesMax, type HttpAppOptions, type RawHandler } from './app.js';
export { HEALTH_READ_TIMEOUT_MS } from './health.js';
export { http1Handler, type Http1AppOptions, type Http1RouteHandler } from './http1.js';
export { STREAM_PENDING_TEXT_MAX, WATCH_SEND_BUFFER_BYTES_MAX } from './gateway-stream.js';
