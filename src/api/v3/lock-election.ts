/**
 * v3lockpb.Lock, v3electionpb.Election and grpc.health.v1.Health.
 * Lock and Campaign block until acquired: they get a context whose signal aborts on cancel.
 */
import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import type { CallContext, EtcdServerFacade } from '../../server/facade.js';
import type { LockHandlers } from '../../pb/v3lockpb/Lock.js';
import type { ElectionHandlers } from '../../pb/v3electionpb/Election.js';
import type { HealthHandlers } from '../../pb/grpc/health/v1/Health.js';
import type { HealthCheckRequest__Output } from '../../pb/grpc/health/v1/HealthCheckRequest.js';
import type { HealthCheckResponse } from '../../pb/grpc/health/v1/HealthCheckResponse.js';
import { abortableCtx, blocking, ctxOf } from './common.js';
import { toGrpcError } from './errors.js';


function plain<Req, Res>(fn: (req: Req, ctx?: CallContext) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request, ctxOf(call)).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toGrpcError(err)),
    );
  };
}

export function lockHandlers(f: EtcdServerFacade): LockHandlers {
  return {
    Lock: blocking((r, ctx) => f.lock(r, ctx)),
    Unlock: plain((r, ctx) => f.unlock(r, ctx)),
  };
}

export function electionHandlers(f: EtcdServerFacade): ElectionHandlers {
  return {
    Campaign: blocking((r, ctx) => f.campaign(r, ctx)),
    Proclaim: plain((r, ctx) => f.proclaim(r, ctx)),
    Leader: plain((r, ctx) => f.leader(r, ctx)),
    Resign: plain((r, ctx) => f.resign(r, ctx)),
    Observe: (call) => {
      const ctx = abortableCtx(call);
      (async () => {
        for await (const res of f.observe(call.request, ctx)) {
          if (call.cancelled) break;
          call.write(res);
        }
        if (!call.cancelled) call.end();
      })().catch((err: unknown) => {
        if (!call.cancelled) call.emit('error', toGrpcError(err));
      });
    },
  };
}

/** How often a Health.Watch stream re-reads the serving status. */
export const HEALTH_WATCH_POLL_MS = 1000;

function healthOf(f: EtcdServerFacade, req: HealthCheckRequest__Output): HealthCheckResponse | undefined {
  return req.service === '' ? { status: f.servingStatus() } : undefined;
}

export function healthHandlers(f: EtcdServerFacade): HealthHandlers {
  return {
    Check: (call, callback) => {
      const res = healthOf(f, call.request);
      if (res === undefined) callback({ code: Status.NOT_FOUND, details: 'unknown service' });
      else callback(null, res);
    },
    Watch: (call) => {
      let last: HealthCheckResponse["status"] | undefined;
      const tick = (): void => {
        const status = healthOf(f, call.request)?.status ?? 'SERVICE_UNKNOWN';
        if (status !== last) {
          last = status;
          call.write({ status });
        }
      };
      tick();
      const timer = setInterval(tick, HEALTH_WATCH_POLL_MS);
      call.on('cancelled', () => clearInterval(timer));
    },
  };
}
