// GET /health as etcd 3.4 decides it: unhealthy while any alarm is raised, while the member knows
// no leader, or when a linearizable read does not complete within HEALTH_READ_TIMEOUT_MS.
// Healthy → 200 `{"health":"true"}`; unhealthy → 503 `{"health":"false"}\n` (etcd writes the
// latter through http.Error, hence the newline and nosniff header). Both text/plain; charset=utf-8.
import type { EtcdServerFacade } from '../../server/facade.js';
import type { JsonCodec } from './json-codec.js';

export const HEALTH_READ_TIMEOUT_MS = 1000;

export async function checkHealth(facade: EtcdServerFacade, codec: JsonCodec): Promise<boolean> {
  const request = (name: string, json: object) => codec.decode(codec.message(`etcdserverpb.${name}`), json) as never;
  try {
    const alarms = await facade.alarm(request('AlarmRequest', { action: 'GET' }));
    if ((alarms.alarms ?? []).length > 0) return false;
    const status = await facade.status(request('StatusRequest', {}));
    if (status.leader === undefined || String(status.leader) === '0') return false;
    return await withTimeout(facade.range(request('RangeRequest', { key: 'aGVhbHRo' })), HEALTH_READ_TIMEOUT_MS);
  } catch {
    return false;
  }
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
