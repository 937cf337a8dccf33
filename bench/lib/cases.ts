// The request-response cases run inside a worker: put, range, txn-put, lease-keepalive, v2-get and
// v2-put. Each returns a CaseRun whose setup() opens the worker's connections (and, for leases, its
// leases and streams) and whose run() drives the closed loop; close() releases everything.
import { Agent, request } from 'node:http';
import { call, closeConn, connect, encodePut, encodeRange, rawUnary, tokenMeta, type Conn } from './proto.js';
import { closedLoop, type Recorder } from './recorder.js';
import { keyGen, keyOf, valueOf } from './keys.js';
import type { WorkerTask } from './types.js';
import { V2_PREFIX } from './types.js';

export interface CaseRun {
  setup(): Promise<void>;
  run(rec: Recorder): Promise<void>;
  close(): void;
}

const LEASE_TTL_S = 600; // leases of the keepalive case outlive any run

/** The worker's connections: conn i goes to endpoint (connOffset + i) mod endpoints. */
export async function openConns(task: WorkerTask): Promise<Conn[]> {
  const eps = task.opts.endpoints;
  return Promise.all(Array.from({ length: task.conns }, (_, i) => connect(eps[(task.connOffset + i) % eps.length]!)));
}

function grpcCase(task: WorkerTask, makeOp: (conns: Conn[]) => (client: number) => Promise<void>,
  prepare?: (conns: Conn[]) => Promise<void>): CaseRun {
  let conns: Conn[] = [];
  let op: (client: number) => Promise<void>;
  return {
    async setup() {
      conns = await openConns(task);
      await prepare?.(conns);
      op = makeOp(conns);
    },
    run: (rec) => closedLoop(task.clients, task.total, rec, op),
    close: () => conns.forEach(closeConn),
  };
}

export function putCase(task: WorkerTask): CaseRun {
  const o = task.opts;
  const keys = keyGen(o.keySize, o.keySpace, o.sequentialKeys, task.keyStart);
  const value = valueOf(o.valSize);
  const md = tokenMeta(o.token);
  return grpcCase(task, (conns) => async (c) => {
    const conn = conns[c % conns.length]!;
    await rawUnary(conn.kv, '/etcdserverpb.KV/Put', encodePut(keys.next(), value), md);
  });
}

export function rangeCase(task: WorkerTask): CaseRun {
  const o = task.opts;
  const keys = keyGen(o.keySize, o.keySpace, o.sequentialKeys, task.keyStart);
  const serializable = o.consistency === 's';
  const md = tokenMeta(o.token);
  return grpcCase(task, (conns) => async (c) => {
    const conn = conns[c % conns.length]!;
    await rawUnary(conn.kv, '/etcdserverpb.KV/Range', encodeRange(keys.next(), serializable), md);
  });
}

/**
 * txn-put as Kubernetes writes an object: If(mod_revision(key) == last seen) Then(Put) Else(Get).
 * Client c owns key (keyStart + c) mod key-space, so with --key-space >= --clients no two clients
 * race; a failed compare (someone else wrote the key) counts as a conflict and refreshes the revision.
 * Setup reads each owned key's current mod_revision, as a Kubernetes client has read the object.
 */
export function txnPutCase(task: WorkerTask): CaseRun {
  const o = task.opts;
  const value = valueOf(o.valSize);
  const seen = new Map<string, string>();
  return grpcCase(task, (conns) => async (c) => {
    const conn = conns[c % conns.length]!;
    const key = keyOf((task.keyStart + c) % o.keySpace, o.keySize);
    const k = key.toString('latin1');
    const rev = seen.get(k) ?? '0';
    const res = await call(conn.kv.Txn, conn.kv, {
      compare: [{ result: 'EQUAL', target: 'MOD', key, mod_revision: rev }],
      success: [{ request_put: { key, value } }],
      failure: [{ request_range: { key } }],
    });
    if (res.succeeded) seen.set(k, String(res.header?.revision ?? '0'));
    else {
      seen.set(k, String(res.responses?.[0]?.response_range?.kvs?.[0]?.mod_revision ?? '0'));
      throw 'conflict';
    }
  }, async (conns) => {
    for (let c = 0; c < task.clients; c++) {
      const key = keyOf((task.keyStart + c) % o.keySpace, o.keySize);
      const res = await call(conns[0]!.kv.Range, conns[0]!.kv, { key });
      seen.set(key.toString('latin1'), String(res.kvs?.[0]?.mod_revision ?? '0'));
    }
  });
}

/** Each client grants one lease and sends keepalives on its own stream, one outstanding at a time. */
export function leaseKeepAliveCase(task: WorkerTask): CaseRun {
  let conns: Conn[] = [];
  const streams: { ka: ReturnType<Conn['lease']['LeaseKeepAlive']>; id: string; waiting?: (ok: boolean) => void }[] = [];
  return {
    async setup() {
      conns = await openConns(task);
      for (let c = 0; c < task.clients; c++) {
        const conn = conns[c % conns.length]!;
        const g = await call(conn.lease.LeaseGrant, conn.lease, { TTL: LEASE_TTL_S });
        const s = { ka: conn.lease.LeaseKeepAlive(), id: String(g.ID) } as (typeof streams)[number];
        s.ka.on('data', (r: { TTL?: string }) => s.waiting?.(Number(r.TTL ?? 0) > 0));
        s.ka.on('error', () => s.waiting?.(false));
        streams.push(s);
      }
    },
    run: (rec) =>
      closedLoop(task.clients, task.total, rec, (c) => {
        const s = streams[c]!;
        return new Promise<void>((resolve, reject) => {
          s.waiting = (ok) => (ok ? resolve() : reject('keepalive answered TTL 0 or the stream failed'));
          s.ka.write({ ID: s.id });
        });
      }),
    close() {
      for (const s of streams) s.ka.end();
      conns.forEach(closeConn);
    },
  };
}

/** v2 over HTTP/1.1 keep-alive: PUT value=... or GET of /v2/keys/bench/<key>; any non-2xx is an error. */
export function v2Case(task: WorkerTask, method: 'GET' | 'PUT'): CaseRun {
  const o = task.opts;
  const keys = keyGen(o.keySize, o.keySpace, o.sequentialKeys, task.keyStart);
  const body = Buffer.concat([Buffer.from('value='), valueOf(o.valSize)]);
  const agents = Array.from({ length: task.conns }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  return {
    setup: async () => {},
    run: (rec) =>
      closedLoop(task.clients, task.total, rec, (c) => {
        const ep = o.endpoints[(task.connOffset + (c % task.conns)) % o.endpoints.length]!;
        return v2Request(agents[c % task.conns]!, ep, method, keys.next().toString(), method === 'PUT' ? body : undefined);
      }),
    close: () => agents.forEach((a) => a.destroy()),
  };
}

export function v2Request(agent: Agent | undefined, endpoint: string, method: string, key: string, body?: Buffer): Promise<void> {
  const [host, port] = [endpoint.slice(0, endpoint.lastIndexOf(':')), Number(endpoint.slice(endpoint.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = request({ agent, host, port, method, path: V2_PREFIX + key,
      headers: body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } : {} }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode! >= 200 && res.statusCode! < 300 ? resolve() : reject(`HTTP ${res.statusCode}`)));
      res.on('error', (e) => reject(e.message));
    });
    req.on('error', (e) => reject(e.message));
    req.end(body);
  });
}
