// GET /health as etcd 3.4 decides it: unhealthy while any alarm is raised, while the member knows
// no leader, or when a read through raft (etcd's QGET, one raft entry per check) does not complete
// within HEALTH_READ_TIMEOUT_MS.
// Healthy → 200 `{"health":"true"}`; unhealthy → 503 `{"health":"false"}\n` (etcd writes the
// latter through http.Error, hence the newline and nosniff header). Both text/plain; charset=utf-8.
import type { EtcdServerFacade } from '../../server/facade.js';
import type { EtcdMetrics } from '../../pkg/metrics.js';

export const HEALTH_READ_TIMEOUT_MS = 1000;

export async function checkHealth(facade: EtcdServerFacade): Promise<boolean> {
  const { alarms, hasLeader } = facade.healthState();
  if (alarms > 0 || !hasLeader) return false;
  return withTimeout(facade.healthRead(), HEALTH_READ_TIMEOUT_MS);
}

/** The bodies of etcd's two /health answers. */
export const HEALTHY_BODY = '{"health":"true"}';
export const UNHEALTHY_BODY = '{"health":"false"}\n';

/** checkHealth, counted in etcd_server_health_success / _failures as etcd counts each check. */
export async function countedHealth(facade: EtcdServerFacade, metrics: EtcdMetrics): Promise<boolean> {
  const healthy = await checkHealth(facade);
  (healthy ? metrics.healthSuccess : metrics.healthFailures).inc();
  return healthy;
}

/** GET /version's body. */
export function versionBody(facade: EtcdServerFacade): string {
  const v = facade.version();
  return `{"etcdserver":${JSON.stringify(v.etcdserver)},"etcdcluster":${JSON.stringify(v.etcdcluster)}}`;
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
