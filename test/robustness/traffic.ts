// The etcd-like traffic of a robustness run: concurrent clients (raw grpc-js, one request at a time,
// 3 s deadline), each on one member and moving to the next after an error, doing put 30 %,
// linearizable get 30 %, delete 10 %, txn 20 % (compare mod_revision → put, else range), multi-key txn 10 % on a small
// key space. Every put writes a value never written before. An error that shows the request never
// left is 'failed'; any other is 'unknown' (it may have been applied).
import { seededRng } from '../../src/pkg/rng.js';
import { call, sleep, type Any, type Cluster } from './cluster.js';
import type { Op, Req, Resp } from './history.js';
import { isWrite } from './history.js';

export interface TrafficCtx {
  cluster: Cluster;
  ops: Op[];
  now: () => number;
  stopped: () => boolean;
  seed: number;
  keys: number;
  serializable?: boolean;
  nextId: () => number;
}

const kvOf = (kv: Any) => (kv ? { value: kv.value.toString(), modRev: Number(kv.mod_revision) } : null);

export async function send(kv: Any, req: Req, serializable: boolean): Promise<Resp> {
  if (req.type === 'mtxn') {
    const r: Any = await call(kv, 'Txn', {
      compare: req.keys.map((key, j) => ({ key: Buffer.from(key), target: 'MOD', result: 'EQUAL', mod_revision: String(req.expectModRevs[j]) })),
      success: req.keys.map((key, j) => ({ request_put: { key: Buffer.from(key), value: Buffer.from(req.values[j]!) } })),
      failure: req.keys.map((key) => ({ request_range: { key: Buffer.from(key) } })),
    });
    return { revision: Number(r.header.revision), succeeded: !!r.succeeded, ...(r.succeeded ? {} : { mkvs: req.keys.map((_, j) => kvOf(r.responses?.[j]?.response_range?.kvs?.[0])) }) };
  }
  const k = Buffer.from(req.key);
  if (req.type === 'put') {
    const r: Any = await call(kv, 'Put', { key: k, value: Buffer.from(req.value) });
    return { revision: Number(r.header.revision) };
  }
  if (req.type === 'get') {
    const r: Any = await call(kv, 'Range', { key: k, serializable });
    return { revision: Number(r.header.revision), kv: kvOf(r.kvs?.[0]) };
  }
  if (req.type === 'delete') {
    const r: Any = await call(kv, 'DeleteRange', { key: k });
    return { revision: Number(r.header.revision), deleted: Number(r.deleted) };
  }
  if (req.type === 'range') {
    const r: Any = await call(kv, 'Range', { key: k, range_end: Buffer.from(req.end), limit: String(req.limit), revision: String(req.atRevision), serializable });
    const kvs = (r.kvs ?? []).map((x: Any) => ({ key: x.key.toString(), ...kvOf(x)! }));
    return { revision: Number(r.header.revision), kvs, more: !!r.more };
  }
  const r: Any = await call(kv, 'Txn', {
    compare: [{ key: k, target: 'MOD', result: 'EQUAL', mod_revision: String(req.expectModRev) }],
    success: [req.then === 'delete' ? { request_delete_range: { key: k } } : { request_put: { key: k, value: Buffer.from(req.value) } }],
    failure: [{ request_range: { key: k } }],
  });
  return { revision: Number(r.header.revision), succeeded: !!r.succeeded, ...(r.succeeded ? {} : { kv: kvOf(r.responses?.[0]?.response_range?.kvs?.[0]) }) };
}

/** Record one op: invocation, answer or error, return time. Returns whether it was answered. */
export async function record(ctx: TrafficCtx, c: number, mi: number, req: Req, send_: () => Promise<Resp>): Promise<Op> {
  const op: Op = { id: ctx.nextId(), client: c, req, call: ctx.now(), ret: Infinity, status: 'unknown', member: ctx.cluster.nodes[mi]?.name ?? 'etcd3' };
  ctx.ops.push(op);
  try {
    op.resp = await send_();
    op.ret = ctx.now();
    op.status = 'ok';
  } catch (e) {
    op.error = (e as Error).message;
    // a request that never reached a member failed (the etcd3 client's open circuit breaker did not
    // send it); any other error may come after it was proposed
    if (/ECONNREFUSED|No connection established|circuit breaker is open/.test(op.error)) {
      op.status = 'failed';
      op.ret = ctx.now();
    }
  }
  return op;
}

/**
 * The next request of the etcd-like mix: put 30 %, get 30 %, delete 10 %, txn on one key 20 %,
 * multi-key txn 10 % (2–3 distinct keys, each compared with its last seen mod_revision, 20 % of the
 * time one compare made to fail; then a put of each, else a get of each). `value` is never reused:
 * the mtxn writes `value/<key>`.
 */
export function nextEtcdReq(crng: () => number, keys: number, value: string, lastMod: Map<string, number>): Req {
  const key = `k${Math.floor(crng() * keys)}`;
  const x = crng();
  if (x < 0.3) return { type: 'put', key, value };
  if (x < 0.6) return { type: 'get', key };
  if (x < 0.7) return { type: 'delete', key };
  if (x < 0.9 || keys < 2) return { type: 'txn', key, value, expectModRev: crng() < 0.8 ? (lastMod.get(key) ?? 0) : Math.floor(crng() * 10) };
  const ks = new Set([key]);
  const want = Math.min(keys, 2 + Math.floor(crng() * 2));
  while (ks.size < want) ks.add(`k${Math.floor(crng() * keys)}`);
  const mkeys = [...ks].sort();
  const expectModRevs = mkeys.map((k) => lastMod.get(k) ?? 0);
  if (crng() < 0.2) expectModRevs[Math.floor(crng() * mkeys.length)] = Math.floor(crng() * 10);
  return { type: 'mtxn', keys: mkeys, expectModRevs, values: mkeys.map((k) => `${value}/${k}`) };
}

/**
 * After a multi-key txn answered with its failure branch (which read every key): the same keys again,
 * compared with the mod_revisions just read, as a read-modify-write loop does (once).
 */
export function retryOf(op: Op, lastMod: Map<string, number>, value: string): Req | undefined {
  const r = op.req;
  if (op.status !== 'ok' || r.type !== 'mtxn' || op.resp!.succeeded) return undefined;
  return { type: 'mtxn', keys: r.keys, expectModRevs: r.keys.map((k) => lastMod.get(k) ?? 0), values: r.keys.map((k) => `${value}/${k}`) };
}

/** What an answered op tells a client of the keys' mod_revisions (for its next compares). */
export function learn(lastMod: Map<string, number>, op: Op): void {
  const req = op.req;
  const resp = op.resp!;
  if (req.type === 'mtxn') {
    req.keys.forEach((k, j) => lastMod.set(k, resp.succeeded ? resp.revision : (resp.mkvs?.[j]?.modRev ?? 0)));
    return;
  }
  if (req.type === 'range') return;
  if (resp.kv !== undefined) lastMod.set(req.key, resp.kv?.modRev ?? 0);
  else if (isWrite(op)) lastMod.set(req.key, req.type === 'delete' ? 0 : resp.revision);
}

/** One client of the etcd-like mix until the context stops it. */
export async function etcdClient(ctx: TrafficCtx, c: number): Promise<void> {
  const crng = seededRng(BigInt(ctx.seed * 1000 + c + 1));
  const n = ctx.cluster.n;
  let seq = 0;
  let mi = c % n;
  const lastMod = new Map<string, number>();
  let retry: Req | undefined;
  while (!ctx.stopped()) {
    const req = retry ?? nextEtcdReq(crng, ctx.keys, `c${c}-${seq++}`, lastMod);
    const op = await record(ctx, c, mi, req, () => send(ctx.cluster.clients[mi]!.kv, req, !!ctx.serializable));
    if (op.status === 'ok') learn(lastMod, op);
    retry = retry ? undefined : retryOf(op, lastMod, `c${c}-${seq++}`);
    if (op.status !== 'ok') {
      mi = (mi + 1) % n; // try another member next
      await sleep(50);
    }
  }
}
