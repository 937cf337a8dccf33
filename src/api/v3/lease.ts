/** etcdserverpb.Lease. KeepAlive: one renewal at a time per stream, as etcd's recv loop. */
import type * as grpc from '@grpc/grpc-js';
import type { EtcdServerFacade } from '../../server/facade.js';
import type { LeaseHandlers } from '../../pb/etcdserverpb/Lease.js';
import type { LeaseKeepAliveRequest__Output } from '../../pb/etcdserverpb/LeaseKeepAliveRequest.js';
import type { LeaseKeepAliveResponse } from '../../pb/etcdserverpb/LeaseKeepAliveResponse.js';
import { HeaderMaker, type PeerAuthContext, ctxOf, grpcRefusal, sizeGuard, unary } from './common.js';
import { toGrpcError } from './errors.js';

/** What keep-alive uses of its call: grpc-js's ServerDuplexStream, or the short path's StreamCall (stream-call.ts). */
interface KeepAliveCall {
  readonly metadata: { get(key: string): (string | Buffer)[] };
  getAuthContext?(): PeerAuthContext | null;
  write(res: LeaseKeepAliveResponse): unknown;
  end(): unknown;
  pause(): unknown;
  resume(): unknown;
  on(event: 'data', listener: (req: LeaseKeepAliveRequest__Output) => void): unknown;
  on(event: 'cancelled' | 'error' | 'end', listener: () => void): unknown;
  emit(event: 'error', err: unknown): boolean;
}

function isLeaseNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'EtcdError' && (err as { code?: unknown }).code === 'LeaseNotFound';
}

function keepAlive(facade: EtcdServerFacade, headers: HeaderMaker): grpc.handleBidiStreamingCall<LeaseKeepAliveRequest__Output, LeaseKeepAliveResponse> {
  return (duplex) => {
    const call = duplex as KeepAliveCall;
    const ctx = ctxOf(call);
    let done = false;
    const finish = (): void => {
      done = true;
    };
    call.on('cancelled', finish);
    call.on('error', finish);
    call.on('end', () => {
      finish();
      call.end();
    });
    call.on('data', (req: LeaseKeepAliveRequest__Output) => {
      const refused = grpcRefusal(req);
      if (refused !== undefined) {
        done = true;
        call.emit('error', refused);
        return;
      }
      call.pause(); // the next request waits for this renewal: etcd's recv loop does the same
      facade.leaseKeepAlive(req, ctx).then(
        (res) => {
          if (!done) call.write(res);
          call.resume();
        },
        (err: unknown) => {
          if (done) return;
          if (isLeaseNotFound(err)) {
            call.write({ header: headers.make(), ID: req.ID, TTL: 0 });
            call.resume();
          } else {
            done = true;
            call.emit('error', toGrpcError(err));
          }
        },
      );
    });
  };
}

export function leaseHandlers(facade: EtcdServerFacade): LeaseHandlers {
  const headers = new HeaderMaker(facade);
  return {
    LeaseGrant: unary((r, ctx) => facade.leaseGrant(r, ctx), sizeGuard),
    LeaseRevoke: unary((r, ctx) => facade.leaseRevoke(r, ctx), sizeGuard),
    LeaseKeepAlive: keepAlive(facade, headers),
    LeaseTimeToLive: unary((r, ctx) => facade.leaseTimeToLive(r, ctx)),
    LeaseLeases: unary((r, ctx) => facade.leaseLeases(r, ctx)),
  };
}
