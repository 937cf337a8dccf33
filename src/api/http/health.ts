// GET /health as etcd 3.4 decides it: unhealthy while any alarm is raised, while the member knows
// no leader, or when a read through raft (etcd's QGET, one raft entry per check) does not complete
// within HEALTH_READ_TIMEOUT_MS.
// Healthy → 200 `{"health":"true"}`; unhealthy → 503 `{"health":"false"}\n` (etcd writes the
// latter through http.Error, hence the newline and nosniff header). Both text/plain; charset=utf-8.
import type { EtcdServerFacade } from '../../server/facade.js';

export const HEALTH_READ_TIMEOUT_MS = 1000;

export async function checkHealth(facade: EtcdServerFacade): Promise<boolean> {
  const { alarms, hasLeader } = facade.healthState();
  if (alarms > 0 || !hasLeader) return false;
  return withTimeout(facade.healthRead(), HEALTH_READ_TIMEOUT_MS);
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
