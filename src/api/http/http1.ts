// The hot HTTP/1.1 requests answered on the client port's JavaScript HTTP/1.1 (platform/http1)
// instead of node:http and fastify: GET /health, GET /version and, with --enable-v2, the handlers
// given (the v2 keys). Each answer is the bytes fastify or the raw handler sends for that request
// today (the same header names, case and order, Date, node's Connection and Keep-Alive lines).
// Anything else is declined, untouched, and served by node:http from that request on: requests Go's
// server would refuse before a handler (no or bad Host, a bad path escape: go-http.ts, app.ts), other
// routes and methods.
import type { EtcdServerFacade } from '../../server/facade.js';
import type { EtcdMetrics } from '../../pkg/metrics.js';
import type { Http1Handler, Http1Request, Http1Response } from '../../platform/http1/connection.js';
import { httpDate } from '../../platform/http1/response.js';
import { CORS_HEADERS, hasBadPathEscape } from './app.js';
import { goValidHost } from './go-http.js';
import { HEALTHY_BODY, UNHEALTHY_BODY, countedHealth, versionBody } from './health.js';

/** A handler of some requests: answers and returns true, or returns false having done nothing. */
export type Http1RouteHandler = (req: Http1Request, res: Http1Response, cors: Readonly<Record<string, string>>) => boolean;

export interface Http1AppOptions {
  readonly metrics: EtcdMetrics;
  /** --enable-v2: the handlers run only when true. */
  readonly enableV2: boolean;
  readonly handlers?: readonly Http1RouteHandler[];
}

export function http1Handler(facade: EtcdServerFacade, opts: Http1AppOptions): Http1Handler {
  const handlers = opts.enableV2 ? opts.handlers ?? [] : [];
  return (req, res) => {
    if (req.host === undefined || !goValidHost(req.host) || hasBadPathEscape(req.url)) return false;
    if (req.method === 'GET' && req.url === '/version') return version(facade, res);
    if (req.method === 'GET' && req.url === '/health') return health(facade, opts.metrics, res);
    for (const h of handlers) if (h(req, res, CORS_HEADERS)) return true;
    return false;
  };
}

function version(facade: EtcdServerFacade, res: Http1Response): true {
  const body = versionBody(facade);
  res.end(200, { ...CORS_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), Date: httpDate() }, body);
  return true;
}

function health(facade: EtcdServerFacade, metrics: EtcdMetrics, res: Http1Response): true {
  void countedHealth(facade, metrics).then((healthy) => {
    if (healthy) {
      res.end(200, { ...CORS_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'content-length': HEALTHY_BODY.length, Date: httpDate() }, HEALTHY_BODY);
    } else {
      res.end(503, {
        ...CORS_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': UNHEALTHY_BODY.length, Date: httpDate(),
      }, UNHEALTHY_BODY);
    }
  });
  return true;
}
