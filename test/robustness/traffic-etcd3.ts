// Traffic through the npm `etcd3` client (what many Node users run), beside the raw grpc-js clients:
// the same etcd-like mix (traffic.ts), on the same keys, recorded the same way. Each client is given
// every member's URL, as a user would, and picks one per call (its own load balancing and per-host
// circuit breakers, left as they are). Its global retry policy is replaced by one that calls once:
// a retried put or txn could be applied twice, and the history must record what was sent once.
import { Etcd3, type IOptions } from 'etcd3';
import { seededRng } from '../../src/pkg/rng.js';
import { CHANNEL_OPTS, REQUEST_TIMEOUT_MS, sleep, type Any } from './cluster.js';
import type { Req, Resp } from './history.js';
import { learn, nextEtcdReq, record, retryOf, type TrafficCtx } from './traffic.js';

/** A cockatiel policy that runs the call once (etcd3's default retries three times). */
const ONCE = { execute: (fn: (ctx: { signal: AbortSignal }) => unknown) => Promise.resolve().then(() => fn({ signal: new AbortController().signal })) } as unknown as NonNullable<IOptions['faultHandling']>['global'];

const kvOf = (kv: Any) => (kv ? { value: kv.value.toString(), modRev: Number(kv.mod_revision) } : null);

export async function sendEtcd3(client: Etcd3, req: Req): Promise<Resp> {
  if (req.type === 'put') {
    const r = await client.put(req.key).value(req.value).exec();
    return { revision: Number(r.header.revision) };
  }
  if (req.type === 'get') {
    const r = await client.get(req.key).exec();
    return { revision: Number(r.header.revision), kv: kvOf(r.kvs[0]) };
  }
  if (req.type === 'delete') {
    const r = await client.delete().key(req.key).exec();
    return { revision: Number(r.header.revision), deleted: Number(r.deleted) };
  }
  if (req.type === 'txn') {
    const r = await client.if(req.key, 'Mod', '==', req.expectModRev).then(req.then === 'delete' ? client.delete().key(req.key) : client.put(req.key).value(req.value)).else(client.get(req.key)).commit();
    return { revision: Number(r.header.revision), succeeded: r.succeeded, ...(r.succeeded ? {} : { kv: kvOf(r.responses[0]?.response_range?.kvs?.[0]) }) };
  }
  if (req.type === 'mtxn') {
    let b = client.if(req.keys[0]!, 'Mod', '==', req.expectModRevs[0]!);
    for (let j = 1; j < req.keys.length; j++) b = b.and(req.keys[j]!, 'Mod', '==', req.expectModRevs[j]!);
    const r = await b.then(...req.keys.map((k, j) => client.put(k).value(req.values[j]!))).else(...req.keys.map((k) => client.get(k))).commit();
    return { revision: Number(r.header.revision), succeeded: r.succeeded, ...(r.succeeded ? {} : { mkvs: req.keys.map((_, j) => kvOf(r.responses[j]?.response_range?.kvs?.[0])) }) };
  }
  throw new Error(`etcd3 client: ${req.type} is not in its mix`);
}

/** One etcd3 client of the etcd-like mix until the context stops it. */
export async function etcd3Client(ctx: TrafficCtx, c: number): Promise<void> {
  const crng = seededRng(BigInt(ctx.seed * 1000 + 700 + c));
  const hosts = ctx.cluster.nodes.map((nd) => `http://127.0.0.1:${nd.clientPort}`);
  const client = new Etcd3({
    hosts,
    faultHandling: { global: ONCE },
    grpcOptions: CHANNEL_OPTS,
    defaultCallOptions: (x) => (x.isStream ? {} : { deadline: Date.now() + REQUEST_TIMEOUT_MS }),
  });
  let seq = 0;
  const lastMod = new Map<string, number>();
  let retry: Req | undefined;
  try {
    while (!ctx.stopped()) {
      const req = retry ?? nextEtcdReq(crng, ctx.keys, `e${c}-${seq++}`, lastMod);
      // the member is the client's choice; the op records it as 'etcd3'
      const op = await record(ctx, c, -1, req, () => sendEtcd3(client, req));
      if (op.status === 'ok') learn(lastMod, op);
      else await sleep(50);
      retry = retry ? undefined : retryOf(op, lastMod, `e${c}-${seq++}`);
    }
  } finally {
    client.close();
  }
}
