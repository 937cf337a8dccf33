// The etcd-like traffic of a robustness run: concurrent clients (raw grpc-js, one request at a time,
// 3 s deadline), each on one member and moving to the next after an error, doing put 35 %,
// linearizable get 30 %, delete 10 %, txn 25 % (compare mod_revision → put, else range) on a small
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
  const op: Op = { id: ctx.nextId(), client: c, req, call: ctx.now(), ret: Infinity, status: 'unknown', member: ctx.cluster.nodes[mi]!.name };
  ctx.ops.push(op);
  try {
    op.resp = await send_();
    op.ret = ctx.now();
    op.status = 'ok';
  } catch (e) {
    op.error = (e as Error).message;
    // a request that never reached a member failed; any other error may come after it was proposed
    if (/ECONNREFUSED|No connection established/.test(op.error)) {
      op.status = 'failed';
      op.ret = ctx.now();
    }
  }
  return op;
}

/** One client of the etcd-like mix until the context stops it. */
export async function etcdClient(ctx: TrafficCtx, c: number): Promise<void> {
  const crng = seededRng(BigInt(ctx.seed * 1000 + c + 1));
  const n = ctx.cluster.n;
  let seq = 0;
  let mi = c % n;
  const lastMod = new Map<string, number>();
  while (!ctx.stopped()) {
    const key = `k${Math.floor(crng() * ctx.keys)}`;
    const x = crng();
    const value = `c${c}-${seq++}`;
    const req: Req =
      x < 0.35 ? { type: 'put', key, value }
      : x < 0.65 ? { type: 'get', key }
      : x < 0.75 ? { type: 'delete', key }
      : { type: 'txn', key, value, expectModRev: crng() < 0.8 ? (lastMod.get(key) ?? 0) : Math.floor(crng() * 10) };
    const op = await record(ctx, c, mi, req, () => send(ctx.cluster.clients[mi]!.kv, req, !!ctx.serializable));
    if (op.status === 'ok') {
      const resp = op.resp!;
      if (resp.kv !== undefined) lastMod.set(key, resp.kv?.modRev ?? 0);
      else if (isWrite(op)) lastMod.set(key, req.type === 'delete' ? 0 : resp.revision);
    } else {
      mi = (mi + 1) % n; // try another member next
      await sleep(50);
    }
  }
}
