/*
 * /v2/stats/self, /v2/stats/leader, /v2/stats/store (GET only; others 405 Allow: GET), as etcd 3.4:
 *   self   {"name":"default","id":"<hex>","state":"StateLeader","startTime":"<RFC 3339 ns>",
 *           "leaderInfo":{"leader":"<hex>","uptime":"12m19.7s","startTime":"…"},
 *           "recvAppendRequestCnt":0,"sendAppendRequestCnt":0}
 *   leader {"leader":"<hex>","followers":{"<hex>":{"latency":{"current":…,"average":…,"standardDeviation":…,
 *           "minimum":…,"maximum":…},"counts":{"fail":…,"success":…}}}}   (non-leader: 403 "not current leader")
 *   store  the V2StoreStats counters in etcd's order.
 * (HEAD is 405 too, as etcd's handlers allow GET only.)
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { V2Facade } from '../../server/facade.js';
import { formatRfc3339Nano } from '../../v2store/index.js';
import { methodNotAllowed, sendJson, sendMessage } from './reply.js';

function trimFloat(n: number): string {
  return String(Number(n.toFixed(9)));
}

/** Go's time.Duration.String() of a millisecond count, e.g. 739799.84 → "12m19.79984s". */
export function goDuration(ms: number): string {
  const ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  const a = Math.abs(ns);
  if (a < 1000) return `${sign}${a}ns`;
  if (a < 1e6) return `${sign}${trimFloat(a / 1e3)}µs`;
  if (a < 1e9) return `${sign}${trimFloat(a / 1e6)}ms`;
  const h = Math.floor(a / 3.6e12);
  const m = Math.floor((a % 3.6e12) / 6e10);
  const s = trimFloat((a % 6e10) / 1e9);
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

const hex = (id: bigint): string => id.toString(16);
/** Go's float64 JSON: integers without a decimal point (2^63, etcd's untouched minimum, in full). */
const num = (n: number): string => (n === 2 ** 63 ? '9223372036854775808' : Number.isFinite(n) ? String(n) : '0');

export function selfStatsJson(facade: V2Facade, nowMs: number): string {
  const s = facade.v2SelfStats();
  return `{"name":${JSON.stringify(s.name)},"id":"${hex(s.id)}","state":"${s.state}","startTime":"${formatRfc3339Nano(s.startTimeMs)}",` +
    `"leaderInfo":{"leader":"${hex(s.leader)}","uptime":"${goDuration(nowMs - s.leaderStartTimeMs)}","startTime":"${formatRfc3339Nano(s.leaderStartTimeMs)}"},` +
    `"recvAppendRequestCnt":${s.recvAppendRequestCnt},"sendAppendRequestCnt":${s.sendAppendRequestCnt}}`;
}

export function leaderStatsJson(facade: V2Facade): string | undefined {
  const l = facade.v2LeaderStats();
  if (l === undefined) return undefined;
  const followers = l.followers.map((f) =>
    `"${hex(f.id)}":{"latency":{"current":${num(f.latencyMs.current)},"average":${num(f.latencyMs.average)},"standardDeviation":${num(f.latencyMs.standardDeviation)},` +
    `"minimum":${num(f.latencyMs.minimum)},"maximum":${num(f.latencyMs.maximum)}},"counts":{"fail":${f.fail},"success":${f.success}}}`);
  return `{"leader":"${hex(l.leader)}","followers":{${followers.join(',')}}}`;
}

export function storeStatsJson(facade: V2Facade): string {
  const st = facade.v2StoreStats() as unknown as Record<string, number>;
  return `{${Object.keys(st).map((k) => `"${k}":${st[k]}`).join(',')}}`;
}

function json(reply: FastifyReply, body: string): FastifyReply {
  return sendJson(reply, 200, body);
}

export function registerStats(app: FastifyInstance, facade: V2Facade): void {
  const routes: Record<string, (reply: FastifyReply) => FastifyReply> = {
    '/v2/stats/self': (reply) => json(reply, selfStatsJson(facade, Date.now())),
    '/v2/stats/store': (reply) => json(reply, storeStatsJson(facade)),
    '/v2/stats/leader': (reply) => {
      const body = leaderStatsJson(facade);
      return body === undefined ? sendMessage(reply, 403, 'not current leader') : json(reply, body);
    },
  };
  for (const [url, fn] of Object.entries(routes)) {
    app.route({ method: 'GET', url, handler: (_req, reply) => fn(reply), exposeHeadRoute: false });
    app.route({ method: ['HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'], url, handler: (_req, reply) => methodNotAllowed(reply, 'GET') });
  }
}
