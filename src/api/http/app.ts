// createHttpApp: the HTTP/1.1 half of the client port as one fastify instance that never listens
// itself: platform/'s multiplexer emits accepted sockets on `app.server` ('connection').
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import fastify, { LogController, type FastifyInstance, type FastifyPluginAsync, type FastifyReply } from 'fastify';
import type { EtcdServerFacade } from '../../server/facade.js';
import type { Logger } from '../../pkg/logger.js';
import { createMetrics, type EtcdMetrics } from '../../pkg/metrics.js';
import { packageDefinition } from '../v3/proto.js';
import { gatewayPlugin, textReply } from './gateway.js';
import { GO_MAX_HEADER_BYTES, goClientError, goRefuse, goRequestRefusal } from './go-http.js';
import { HEALTHY_BODY, UNHEALTHY_BODY, countedHealth, versionBody } from './health.js';
import { JsonCodec } from './json-codec.js';

export interface HttpAppOptions {
  readonly logger: Logger;
  /** --max-request-bytes: the largest request the server accepts (1.5 MiB by default). */
  readonly maxRequestBytes: number;
  /** --enable-v2: register `plugins` (the v2 API) only when true. */
  readonly enableV2: boolean;
  /** --max-txn-ops (128 by default). */
  readonly maxTxnOps?: number;
  /** The member's metrics (server updates them); a fresh registry when absent. */
  readonly metrics?: EtcdMetrics;
  /** More routes at the root, e.g. the v2 API plugins (/v2/keys, /v2/members, /v2/stats, …). */
  readonly plugins?: readonly FastifyPluginAsync[];
  /** Handlers that see each request before fastify (hot paths, e.g. /v2/keys); only with enableV2. */
  readonly rawHandlers?: readonly RawHandler[];
}

/**
 * A request handler that runs before fastify's routing, hooks and body parsing (about a fifth of a
 * v2 PUT's CPU): it answers the request and returns true, or returns false and leaves it to fastify.
 * `corsHeaders` are the headers every answer carries (fastify's routes get them from a hook).
 */
export type RawHandler = (req: IncomingMessage, res: ServerResponse, corsHeaders: Readonly<Record<string, string>>) => boolean;

/** etcd 3.4 answers every HTTP response with these (its default `--cors '*'`). */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-headers': 'accept, content-type, authorization',
  'access-control-allow-methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'access-control-allow-origin': '*',
};

/**
 * A request path with a bad %-escape ("/v2/members/%zz"): Go's server refuses the request line itself,
 * before any handler (the query is not checked).
 */
export function hasBadPathEscape(url: string): boolean {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.includes('%') && /%(?![0-9a-fA-F]{2})/.test(path);
}

/** Go net/http's bare answer to a request line it cannot parse (no Date, no CORS), then the connection closed. */
export function goBadRequest(res: ServerResponse): void {
  res.socket?.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request');
}

/** Bodies up to this are read whole, so that an oversized request gets gRPC's refusal naming its size. */
const GATEWAY_BODY_FLOOR = 64 * 1024 * 1024;

/**
 * The gateway's JSON body may exceed the request itself: base64 (4/3) plus JSON framing. etcd's
 * gateway reads any body whole; past this memory guard ours answers "request is too large".
 */
export function gatewayBodyBytesMax(maxRequestBytes: number): number {
  return Math.max(2 * Math.ceil((maxRequestBytes * 4) / 3) + 1024 * 1024, GATEWAY_BODY_FLOOR);
}

let sharedCodec: JsonCodec | undefined;
function jsonCodec(): JsonCodec {
  sharedCodec ??= new JsonCodec(packageDefinition());
  return sharedCodec;
}

export function createHttpApp(facade: EtcdServerFacade, opts: HttpAppOptions): FastifyInstance {
  const raw = opts.enableV2 ? opts.rawHandlers ?? [] : [];
  const app = fastify({
    serverFactory: (handler, options) => {
      // Go's limits and refusals before any handler (go-http.ts)
      const server = createServer({ maxHeaderSize: GO_MAX_HEADER_BYTES, requireHostHeader: false }, (req, res) => {
        const refused = goRequestRefusal(req);
        if (refused !== undefined) return goRefuse(res, refused);
        if (hasBadPathEscape(req.url ?? '')) return goBadRequest(res);
        for (const h of raw) if (h(req, res, CORS_HEADERS)) return;
        handler(req, res);
      });
      // what fastify does to a server it makes itself, from its resolved options (below and defaults)
      const o = options as unknown as { keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number };
      server.maxHeadersCount = 0; // Go keeps every header (Node drops those past 2,000); the size limit bounds them
      server.keepAliveTimeout = o.keepAliveTimeout;
      server.requestTimeout = o.requestTimeout;
      server.setTimeout(o.connectionTimeout);
      return server;
    },
    loggerInstance: opts.logger.child({ room: 'api/http' }),
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 0, // watch requests stay open as long as the client wants
    clientErrorHandler: goClientError,
    bodyLimit: gatewayBodyBytesMax(opts.maxRequestBytes),
  }) as unknown as FastifyInstance;
  const codec = jsonCodec();
  const metrics = opts.metrics ?? createMetrics();

  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(CORS_HEADERS);
    done();
  });
  // etcd's handlers here (/health, /version, /metrics, 404, 405) never read a body: fastify's default
  // JSON parser answered a POST /health with a bad JSON body 400 (etcd: 405). The gateway and the v2
  // plugins set their own parsers.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  app.setNotFoundHandler((_req, reply) => textReply(reply, 404, '404 page not found\n'));
  // OPTIONS on any path is etcd's CORS answer, 200 and no body, whatever body it carries (read as nothing above)
  app.route({ method: 'OPTIONS', url: '/*', handler: (_req, reply) => reply.code(200).send() });

  getOnly(app, '/health', async (reply) => {
    if (await countedHealth(facade, metrics)) {
      return reply.header('content-type', 'text/plain; charset=utf-8').send(HEALTHY_BODY);
    }
    return textReply(reply, 503, UNHEALTHY_BODY);
  });
  getOnly(app, '/version', async (reply) => {
    return reply.header('content-type', 'application/json').send(Buffer.from(versionBody(facade))); // a Buffer: no charset appended
  });
  getOnly(app, '/metrics', async (reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });

  const gateway = {
    facade, codec, metrics, pkg: packageDefinition(), maxRequestBytes: opts.maxRequestBytes,
    limits: { maxTxnOps: opts.maxTxnOps ?? 128 },
    bodyBytesMax: gatewayBodyBytesMax(opts.maxRequestBytes),
  };
  for (const prefix of ['/v3', '/v3beta']) app.register(gatewayPlugin, { ...gateway, prefix });
  if (opts.enableV2) for (const plugin of opts.plugins ?? []) app.register(plugin);
  return app;
}

/** GET handler; any other method (HEAD too, as etcd's handlers) gets etcd's 405 with `Allow: GET`. */
function getOnly(app: FastifyInstance, url: string, handler: (reply: FastifyReply) => Promise<FastifyReply>): void {
  app.route({ method: 'GET', url, exposeHeadRoute: false, handler: (_req, reply) => handler(reply) });
  app.route({
    method: ['HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'],
    url,
    handler: (_req, reply) => textReply(reply.header('allow', 'GET'), 405, 'Method Not Allowed\n'),
  });
}
