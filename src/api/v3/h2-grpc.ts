/**
 * gRPC over the JavaScript HTTP/2 server (platform/h2), the client port's default (grpc-js over
 * node:http2 with ETCD_TS_HTTP2=node; wired in cli/main.ts and platform/listen.ts): calls are routed
 * by `:path` over the same service definitions and implementations the grpc-js Server gets
 * (api/v3/server.ts builds both from one list), so every handler runs unchanged
 * on an H2Call (h2-call.ts) shaped as grpc-js's call objects.
 *
 * Before a call starts, as the client port answers today: a content type other than
 * application/grpc* gets HTTP 415 (grpc-js's answer); a path nobody registered, grpc-go's
 * Unimplemented "unknown service S" or "unknown method M for service S"; a grpc-encoding other than
 * identity, grpc-go's "Decompressor is not installed" (grpc-receive.ts).
 */
import type * as net from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { H2Connection, type H2ServerOptions } from '../../platform/h2/connection.js';
import { encodeHeaders } from '../../platform/h2/hpack.js';
import type { H2Stream } from '../../platform/h2/stream.js';
import { H2Call, H2Peer, refuseH2, type H2Route } from './h2-call.js';
import { encodingRefusal } from './grpc-receive.js';

type AnyMethod = grpc.MethodDefinition<object, object>;

const UNSUPPORTED_MEDIA_TYPE = encodeHeaders([[':status', '415']]);

export class H2GrpcRouter {
  private readonly routes = new Map<string, H2Route>();
  private readonly services = new Set<string>();

  /** @param maxReceiveBytes the receive limit etcd gives grpc-go (--max-request-bytes + 512 KiB). */
  constructor(private readonly maxReceiveBytes: number) {}

  /** Serve every method of `def` that `impl` implements (the others are Unimplemented, as grpc-js). */
  addService(def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): void {
    for (const [name, md] of Object.entries(def) as [string, AnyMethod][]) {
      this.services.add(md.path.slice(1, md.path.lastIndexOf('/')));
      const handler = impl[name] as unknown as H2Route['handler'] | undefined;
      if (handler !== undefined) this.routes.set(md.path, { md, handler });
    }
  }

  /** Serve one HTTP/2 connection (its preface not yet read) until it closes. */
  serve(socket: net.Socket, opts: H2ServerOptions = {}): H2Connection {
    const peer = new H2Peer(socket);
    return new H2Connection(socket, (stream) => this.onStream(stream, peer), opts);
  }

  private onStream(stream: H2Stream, peer: H2Peer): void {
    const ct = stream.header('content-type');
    if (ct === undefined || !ct.startsWith('application/grpc')) return stream.respond(UNSUPPORTED_MEDIA_TYPE, true);
    const path = stream.header(':path') ?? '';
    const route = this.routes.get(path);
    if (route === undefined) return refuseH2(stream, this.unknown(path));
    const enc = stream.header('grpc-encoding');
    const refused = enc === undefined ? undefined : encodingRefusal({ 'grpc-encoding': enc });
    if (refused !== undefined) return refuseH2(stream, refused);
    new H2Call(stream, route, peer, this.maxReceiveBytes);
  }

  /** grpc-go's answer to a call of a method nobody registered. */
  private unknown(path: string): { code: number; details: string } {
    const pos = path.lastIndexOf('/');
    const service = path.slice(path.startsWith('/') ? 1 : 0, Math.max(pos, 0));
    const details = this.services.has(service) ? `unknown method ${path.slice(pos + 1)} for service ${service}` : `unknown service ${service}`;
    return { code: Status.UNIMPLEMENTED, details };
  }
}
