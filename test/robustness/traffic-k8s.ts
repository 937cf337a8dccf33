// Kubernetes-like traffic and lease churn.
//
// kubernetesClient: what the API server does to etcd, on many keys k/pods/p<i>: create (txn
// mod_revision == 0 → put), update (GuaranteedUpdate: txn mod_revision == the one last seen → put,
// else read), guarded delete (txn mod_revision == last seen → delete, else read), get, and list
// (range over the prefix with a limit, then the next page at the first page's revision).
//
// leaseChurnClient: leases granted (TTL 2–4 s), 1–3 keys k/events/<lease>-<j> attached, then revoked
// (the keys must be gone for a linearizable read right after) or left to expire; the run's end checks
// that every such key is gone on every member. The keys are under the watched prefix, so watches see
// the expiry deletes, but they are not in the key-value history (a lease deletes them, not a client).
import { seededRng } from '../../src/pkg/rng.js';
import { call, sleep, type Any, type Cluster } from './cluster.js';
import type { Req } from './history.js';
import { record, send, type TrafficCtx } from './traffic.js';

const PODS = 'k/pods/';
const PODS_END = 'k/pods0';
export const EVENTS = 'k/events/';
const EVENTS_END = 'k/events0';

export async function kubernetesClient(ctx: TrafficCtx, c: number, nKeys = 30): Promise<void> {
  const crng = seededRng(BigInt(ctx.seed * 1000 + 500 + c));
  const n = ctx.cluster.n;
  let seq = 0;
  let mi = c % n;
  const lastMod = new Map<string, number>();
  const go = async (req: Req) => {
    const op = await record(ctx, c, mi, req, () => send(ctx.cluster.clients[mi]!.kv, req, false));
    if (op.status !== 'ok') {
      mi = (mi + 1) % n;
      await sleep(50);
      return undefined;
    }
    const r = op.resp!;
    if (r.kv !== undefined && req.type !== 'mtxn') lastMod.set(req.key, r.kv?.modRev ?? 0);
    else if (req.type === 'txn' && r.succeeded) lastMod.set(req.key, req.then === 'delete' ? 0 : r.revision);
    for (const x of r.kvs ?? []) lastMod.set(x.key, x.modRev);
    return r;
  };
  while (!ctx.stopped()) {
    const key = `${PODS}p${String(Math.floor(crng() * nKeys)).padStart(2, '0')}`;
    const value = `k${c}-${seq++}`;
    const x = crng();
    const seen = lastMod.get(key);
    if (x < 0.15) {
      const limit = 1 + Math.floor(crng() * 10);
      const first = await go({ type: 'range', key: PODS, end: PODS_END, limit, atRevision: 0 });
      const last = first?.kvs?.[first.kvs.length - 1];
      if (first?.more && last) await go({ type: 'range', key: `${last.key}\0`, end: PODS_END, limit, atRevision: first.revision });
    } else if (x < 0.35) await go({ type: 'get', key });
    else if (x < 0.5 || seen === undefined) await go({ type: 'txn', key, value, expectModRev: 0 });
    else if (x < 0.9) await go({ type: 'txn', key, value, expectModRev: seen });
    else if (seen > 0) await go({ type: 'txn', key, value, expectModRev: seen, then: 'delete' });
    else await go({ type: 'get', key });
  }
}

/** Lease churn until stopped; acknowledged revokes whose keys survive are anomalies. */
export async function leaseChurnClient(cluster: Cluster, stopped: () => boolean, seed: number, anomalies: string[]): Promise<void> {
  const crng = seededRng(BigInt(seed * 1000 + 900));
  let mi = 0;
  while (!stopped()) {
    const cl = cluster.clients[mi]!;
    try {
      const g: Any = await call(cl.lease, 'LeaseGrant', { TTL: String(2 + Math.floor(crng() * 3)) });
      const id = BigInt(g.ID).toString(16);
      const keys = 1 + Math.floor(crng() * 3);
      for (let j = 0; j < keys; j++) await call(cl.kv, 'Put', { key: Buffer.from(`${EVENTS}${id}-${j}`), value: Buffer.from(`e${j}`), lease: g.ID });
      if (crng() < 0.5) {
        await call(cl.lease, 'LeaseRevoke', { ID: g.ID });
        const r: Any = await call(cl.kv, 'Range', { key: Buffer.from(`${EVENTS}${id}-`), range_end: Buffer.from(`${EVENTS}${id}.`), count_only: true });
        if (Number(r.count) !== 0) anomalies.push(`lease ${id} revoked (acknowledged), but a linearizable read on ${cluster.nodes[mi]!.name} right after still finds ${r.count} of its keys`);
      }
      await sleep(100 + crng() * 400);
    } catch {
      mi = (mi + 1) % cluster.n;
      await sleep(100);
    }
  }
}

/** After traffic: every lease key is gone on every member within `ms` (leases expire everywhere). */
export async function leaseKeysExpire(cluster: Cluster, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  let counts: number[] = [];
  while (Date.now() < deadline) {
    counts = [];
    for (const cl of cluster.clients) {
      try {
        const r: Any = await call(cl.kv, 'Range', { key: Buffer.from(EVENTS), range_end: Buffer.from(EVENTS_END), count_only: true, serializable: true });
        counts.push(Number(r.count));
      } catch {
        counts.push(-1);
      }
    }
    if (counts.every((x) => x === 0)) return [];
    await sleep(500);
  }
  return [`lease keys still present ${ms / 1000} s after traffic stopped (count per member: ${counts.join(', ')})`];
}
