/*
 * @grpc/grpc-js's private internals, fenced (hook-fence.ts): the only module that names them.
 *
 * - `Server.createHttp2Server` (api/v3/unary-path.ts): the private method that makes one http2
 *   server per bound port or connection injector and registers grpc-js's 'stream' listener there.
 *   Wrapped so KV's and Lease's unary calls are answered on the HTTP/2 stream without grpc-js's
 *   per-call objects (about a fifth of a put's CPU), and the Watch and LeaseKeepAlive streams
 *   served there (api/v3/stream-call.ts: the responses of one event-loop turn framed and written at
 *   once), with grpc-go's receive checks in front of grpc-js for the rest. Fallback: grpc-js serves every call
 *   (grpc-js's headers, its own words for badly framed requests, one write per watch response).
 * - `Server.commonServerOptions` (same place): the options grpc-js gives those http2 servers; we
 *   raise `maxHeaderListPairs` so a call may carry more than Node's 128 headers, as grpc-go takes
 *   them. Fallback: Node's limit.
 */
import type * as http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';
import { Fence, installedVersion, type Hook } from './hook-fence.js';

/** grpc-js versions these hooks were tested with (package.json pins one of them). */
export const GRPC_JS_TESTED: readonly string[] = ['1.14.7'];

export type Http2ServerFactory = (credentials: unknown) => http2.Http2Server;
type PrivateServer = { createHttp2Server?: unknown; commonServerOptions?: unknown };

export interface GrpcHooks {
  readonly fence: Fence;
  readonly createHttp2Server: Hook;
  readonly commonServerOptions: Hook;
}

export function grpcJsFence(version = installedVersion('@grpc/grpc-js'), env: NodeJS.ProcessEnv = process.env): GrpcHooks {
  const fence = new Fence('@grpc/grpc-js', GRPC_JS_TESTED, version, env);
  return {
    fence,
    createHttp2Server: fence.hook('Server.createHttp2Server'),
    commonServerOptions: fence.hook('Server.commonServerOptions'),
  };
}

const hooks = grpcJsFence();

/**
 * Replaces the server's private http2 server factory by `wrap(original)`. False (nothing changed)
 * when the fence keeps the hook off or this grpc-js has no such method.
 */
export function wrapHttp2ServerFactory(server: grpc.Server, wrap: (create: Http2ServerFactory) => Http2ServerFactory, h: GrpcHooks = hooks): boolean {
  const s = server as unknown as PrivateServer;
  const create = h.createHttp2Server.take<Http2ServerFactory>(s.createHttp2Server);
  if (create === undefined) return false;
  s.createHttp2Server = wrap((credentials) => create.call(server, credentials));
  return true;
}

/** Edits the options grpc-js gives the http2 servers it makes; false when fenced off or missing. */
export function editHttp2ServerOptions(server: grpc.Server, edit: (o: http2.ServerOptions) => void, h: GrpcHooks = hooks): boolean {
  const hook = h.commonServerOptions;
  const o = (server as unknown as PrivateServer).commonServerOptions;
  if (!hook.allowed) hook.fellBack(h.fence.off!);
  else if (o === null || typeof o !== 'object') hook.fellBack('missing');
  else {
    edit(o as http2.ServerOptions);
    return true;
  }
  return false;
}
