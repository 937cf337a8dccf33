// The JSON gateway as a fastify plugin, registered once per prefix (/v3 and /v3beta, as etcd 3.4).
// Bodies are taken raw whatever the Content-Type (curl -d sends form encoding), unknown paths under
// the prefix answer `Not Found\n` and known paths with another method `Method Not Allowed\n`,
// exactly as etcd's gateway mux does.
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PackageDefinition } from '@grpc/proto-loader';
import type { CallContext, EtcdServerFacade } from '../../server/facade.js';
import { countRpcHandled, countRpcStarted, type EtcdMetrics } from '../../pkg/metrics.js';
import { errorInfo, toErrorInfo } from '../v3/errors.js';
import { supportedForLearner } from '../v3/learner.js';
import { UNARY_ROUTES, type GatewayLimits, type UnaryRoute } from './gateway-routes.js';
import { readBody, sendError, StreamWriter } from './gateway-io.js';
import { sizeRefusal } from './gateway-size.js';
import { GatewayWatchSession, serveKeepAlive, serveSnapshot } from './gateway-stream.js';
import type { JsonCodec } from './json-codec.js';
import { GatewayDecodeError, firstJsonValue } from './json-scan.js';

export interface GatewayOptions {
  readonly facade: EtcdServerFacade;
  readonly codec: JsonCodec;
  /** For protobuf sizes of large requests (the limits apply to the encoded request, as in etcd). */
  readonly pkg: PackageDefinition;
  readonly maxRequestBytes: number;
  readonly metrics: EtcdMetrics | undefined;
  readonly limits: GatewayLimits;
  /** A unary request body (JSON text, base64 inflated) larger than this is refused. */
  readonly bodyBytesMax: number;
}

const OTHER_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH'] as const;
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_RESOURCE_EXHAUSTED = 8;

export function textReply(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .send(text);
}

/** The auth token a gateway client sends (etcd reads the `Authorization` header). */
export function callContext(request: FastifyRequest): CallContext | undefined {
  const token = request.headers.authorization;
  return token === undefined ? undefined : { token };
}

/** The call context of a blocking call: its signal aborts when the client closes the connection first. */
function abortableContext(request: FastifyRequest, reply: FastifyReply): CallContext {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return { ...callContext(request), signal: controller.signal };
}

export async function gatewayPlugin(app: FastifyInstance, opts: GatewayOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  app.setNotFoundHandler((_req, reply) => textReply(reply, 404, 'Not Found\n'));
  const notAllowed = (_req: FastifyRequest, reply: FastifyReply) => textReply(reply, 405, 'Method Not Allowed\n');

  const openStreams = new Set<StreamWriter>();
  app.addHook('preClose', (done) => {
    for (const w of openStreams) w.shutdown();
    done();
  });
  const streamWriter = (reply: FastifyReply): StreamWriter => {
    const headers = reply.getHeaders();
    reply.hijack();
    const writer = new StreamWriter(reply.raw, headers);
    openStreams.add(writer);
    writer.onClose(() => openStreams.delete(writer));
    return writer;
  };

  for (const route of UNARY_ROUTES) {
    opts.codec.message(route.request); // fail at startup, not per request, on a misnamed message
    opts.codec.message(route.response);
    app.post(route.path, (req, reply) => unary(route, opts, req, reply));
    app.route({ method: [...OTHER_METHODS], url: route.path, handler: notAllowed });
  }
  // a learner serves no stream: etcd's interceptor refuses it, and its gateway relays the first receive's error
  const gated = (serve: (o: GatewayOptions, req: FastifyRequest, w: StreamWriter) => Promise<void>) =>
    (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const w = streamWriter(reply);
      if (opts.facade.isLearner?.() !== true) return serve(opts, req, w);
      const info = errorInfo('NotSupportedForLearner');
      w.refuse(info.grpcCode, info.message, info.httpStatus);
      return Promise.resolve();
    };
  app.post('/watch', gated(watch));
  app.post('/lease/keepalive', gated(keepAlive));
  app.post('/maintenance/snapshot', gated(snapshot));
  for (const path of ['/watch', '/lease/keepalive', '/maintenance/snapshot']) app.route({ method: [...OTHER_METHODS], url: path, handler: notAllowed });
}

const bodyOf = (req: FastifyRequest): Readable => (req.body as Readable | undefined) ?? req.raw;

async function unary(route: UnaryRoute, o: GatewayOptions, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const text = await readBody(bodyOf(request), o.bodyBytesMax);
  if (text === undefined) {
    const info = errorInfo('RequestTooLarge');
    return sendError(reply, info.grpcCode, info.message, info.httpStatus);
  }
  let req: Record<string, unknown>;
  try {
    req = o.codec.decode(o.codec.message(route.request), firstJsonValue(text));
  } catch (err) {
    if (!(err instanceof GatewayDecodeError)) throw err;
    return sendError(reply, GRPC_INVALID_ARGUMENT, err.message);
  }
  const bodyBytes = text.length * 3 > o.maxRequestBytes ? Buffer.byteLength(text) : text.length;
  const wire = () => o.codec.encode(o.codec.message(route.request), req);
  const refusal = sizeRefusal(o.pkg, route, req, wire, bodyBytes, o.maxRequestBytes);
  if (refusal !== undefined && 'grpcMessage' in refusal) return sendError(reply, GRPC_RESOURCE_EXHAUSTED, refusal.grpcMessage);
  if (o.metrics) countRpcStarted(o.metrics, 'unary', route.service, route.method);
  let resp: object;
  try {
    // etcd's gateway calls its own gRPC server: the learner interceptor refuses before any check
    const learner = o.facade.isLearner?.() === true && !supportedForLearner(route.service.split('.').pop()!, route.method, req);
    const code = learner ? 'NotSupportedForLearner' : route.check?.(req as never, o.limits) ?? (refusal ? refusal.code : undefined);
    if (code !== undefined) throw Object.assign(new Error(code), { name: 'EtcdError', code });
    resp = await route.call(o.facade, req as never, route.blocking ? abortableContext(request, reply) : callContext(request));
  } catch (err) {
    const info = toErrorInfo(err);
    if (o.metrics) countRpcHandled(o.metrics, 'unary', route.service, route.method, info.grpcCode);
    return sendError(reply, info.grpcCode, info.message, info.httpStatus);
  }
  if (o.metrics) countRpcHandled(o.metrics, 'unary', route.service, route.method, 0);
  return reply
    .header('content-type', 'application/json')
    .header('grpc-metadata-content-type', 'application/grpc')
    .send(Buffer.from(JSON.stringify(o.codec.encode(o.codec.message(route.response), resp)))); // Buffer: exact content-type
}

async function watch(o: GatewayOptions, request: FastifyRequest, writer: StreamWriter): Promise<void> {
  const service = 'etcdserverpb.Watch';
  if (o.metrics) countRpcStarted(o.metrics, 'bidi_stream', service, 'Watch');
  const session = new GatewayWatchSession(o.facade, o.codec, writer, callContext(request));
  writer.onClose(() => {
    session.close();
    if (o.metrics) countRpcHandled(o.metrics, 'bidi_stream', service, 'Watch', 0);
  });
  try {
    await session.serve(bodyOf(request));
  } catch (err) {
    const info = toErrorInfo(err);
    writer.fail(info.grpcCode, info.message, info.httpStatus);
    session.close();
  }
}

async function keepAlive(o: GatewayOptions, request: FastifyRequest, writer: StreamWriter): Promise<void> {
  const service = 'etcdserverpb.Lease';
  if (o.metrics) countRpcStarted(o.metrics, 'bidi_stream', service, 'LeaseKeepAlive');
  try {
    await serveKeepAlive(o.facade, o.codec, bodyOf(request), writer, callContext(request));
  } catch (err) {
    const info = toErrorInfo(err);
    writer.fail(info.grpcCode, info.message, info.httpStatus);
  }
  if (o.metrics) countRpcHandled(o.metrics, 'bidi_stream', service, 'LeaseKeepAlive', 0);
}

async function snapshot(o: GatewayOptions, request: FastifyRequest, writer: StreamWriter): Promise<void> {
  const service = 'etcdserverpb.Maintenance';
  if (o.metrics) countRpcStarted(o.metrics, 'server_stream', service, 'Snapshot');
  await readBody(bodyOf(request), o.bodyBytesMax); // SnapshotRequest has no fields
  const abort = new AbortController();
  writer.onClose(() => abort.abort());
  const token = request.headers.authorization;
  let code = 0;
  try {
    await serveSnapshot(o.facade, o.codec, writer, token === undefined ? { signal: abort.signal } : { token, signal: abort.signal });
  } catch (err) {
    const info = toErrorInfo(err);
    code = info.grpcCode;
    writer.fail(info.grpcCode, info.message, info.httpStatus);
  }
  if (o.metrics) countRpcHandled(o.metrics, 'server_stream', service, 'Snapshot', code);
}
