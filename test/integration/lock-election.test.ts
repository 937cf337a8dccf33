// The server-side v3lockpb.Lock and v3electionpb.Election services over gRPC (grpc-js clients built
// from our proto): one scenario run against our daemon and against real etcd 3.4.23, whose
// transcripts (revisions relative to the first lock, lease ids replaced by names) must be equal.
// Covers: lock with a lease and with lease 0 (a 60 s session lease), a waiter released by Unlock
// with the header of its last read, a canceled waiter's key removed, lease-not-found, and
// Campaign / Proclaim / Leader / Resign / Observe with their errors (gRPC code 2 as etcd).
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { etcdGrpc } from '../../src/api/v3/proto.js';
import { cleanup, startEtcd, startMember, type Impl } from './harness.js';

afterAll(cleanup);

type Obj = Record<string, unknown>;
type Unary = (req: object, cb: (e: grpc.ServiceError | null, res: Obj) => void) => grpc.ClientUnaryCall;

function clients(endpoint: string) {
  const pb = etcdGrpc();
  const creds = grpc.credentials.createInsecure();
  return {
    kv: new pb.etcdserverpb.KV(endpoint, creds),
    lease: new pb.etcdserverpb.Lease(endpoint, creds),
    lock: new pb.v3lockpb.Lock(endpoint, creds),
    election: new pb.v3electionpb.Election(endpoint, creds),
  };
}
type Clients = ReturnType<typeof clients>;

/** A unary call: the response, or "ERR <code> <details>"; `call` receives the call (to cancel it). */
function call(client: grpc.Client, method: string, req: object, onCall?: (c: grpc.ClientUnaryCall) => void): Promise<Obj | string> {
  return new Promise((resolve) => {
    const c = (client as unknown as Record<string, Unary>)[method]!.call(client, req, (e, res) =>
      resolve(e ? `ERR ${e.code} ${e.details}` : res),
    );
    onCall?.(c);
  });
}
const ok = async (p: Promise<Obj | string>): Promise<Obj> => {
  const r = await p;
  if (typeof r === 'string') throw new Error(r);
  return r;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Poll until f() holds (hang guard: 10 s). */
async function until(what: string, f: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
const B = (s: string): Buffer => Buffer.from(s);
const hex = (lease: string): string => BigInt(lease).toString(16);
const rev = (r: Obj): number => Number((r.header as Obj).revision);

async function scenario(c: Clients): Promise<unknown[]> {
  const out: unknown[] = [];
  const names = new Map<string, string>();
  const grant = async (name: string): Promise<string> => {
    const id = String((await ok(call(c.lease, 'LeaseGrant', { TTL: 100 }))).ID);
    names.set(id, name).set(hex(id), name);
    return id;
  };
  const [la, lb, lc] = [await grant('LA'), await grant('LB'), await grant('LC')];
  const a = await ok(call(c.lock, 'Lock', { name: B('lk'), lease: la }));
  const base = rev(a) - 1;
  const norm = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(/[0-9a-f]{8,}/g, (m) => names.get(m) ?? m);
    if (Buffer.isBuffer(v)) return norm(v.toString());
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') {
      const o = v as Obj;
      return Object.fromEntries(Object.entries(o).filter(([k]) => !['cluster_id', 'member_id', 'raft_term'].includes(k)).map(([k, x]) =>
        [k, ['revision', 'rev', 'create_revision', 'mod_revision'].includes(k) ? Number(x) - base : norm(x)]));
    }
    return v;
  };
  const log = (step: string, r: unknown): void => void out.push([step, norm(r)]);
  const keys = async (p: string): Promise<unknown> =>
    ((await ok(call(c.kv, 'Range', { key: B(p), range_end: B(p.slice(0, -1) + '0') }))).kvs as Obj[]).map((kv) => kv.key);

  log('lock A', a);
  const wb = call(c.lock, 'Lock', { name: B('lk'), lease: lb });
  let cancelC: () => void = () => undefined;
  const wc = call(c.lock, 'Lock', { name: B('lk'), lease: lc }, (x) => (cancelC = () => x.cancel()));
  const count = async (p: string): Promise<number> => ((await keys(p)) as unknown[]).length;
  await until('three lock waiters', async () => (await count('lk/')) === 3);
  log('waiters', await keys('lk/'));
  cancelC();
  log('canceled C', (await wc).toString().split(' ')[1]);
  await until('the canceled waiter key to go', async () => (await count('lk/')) === 2);
  log('after cancel', await keys('lk/'));
  log('unlock A', await call(c.lock, 'Unlock', { key: a.key }));
  log('lock B', await wb);
  // etcd answers every Lock/Election error with gRPC code 2 (its KV errors lose their status on the
  // way through its embedded client); our API keeps KV errors' own codes (lease-not-found: 5), so
  // only the text is compared here. The election errors below are compared with their code.
  log('bad lease', String(await call(c.lock, 'Lock', { name: B('lk2'), lease: '12345' })).replace(/^ERR \d+ /, 'ERR '));
  const z = await ok(call(c.lock, 'Lock', { name: B('z') }));
  const zLease = String(((await ok(call(c.kv, 'Range', { key: z.key }))).kvs as Obj[])[0]!.lease);
  names.set(zLease, 'LZ').set(hex(zLease), 'LZ');
  log('lock lease 0', z);
  log('session lease', await call(c.lease, 'LeaseTimeToLive', { ID: zLease }).then((r) => (r as Obj).grantedTTL));

  const seen: unknown[] = [];
  const obs = c.election.Observe({ name: B('el') });
  obs.on('data', (r: Obj) => seen.push(r));
  obs.on('error', () => undefined);
  log('no leader', await call(c.election, 'Leader', { name: B('el') }));
  const ca = await ok(call(c.election, 'Campaign', { name: B('el'), lease: la, value: B('a') }));
  log('campaign A', ca);
  const cb = call(c.election, 'Campaign', { name: B('el'), lease: lb, value: B('b') });
  await until('a second candidate', async () => (await count('el/')) === 2);
  // each observed change before the next one, so the observer's watch is live (not catching up, which
  // would give the catch-up header revision instead of the event's)
  await until('the first leader observed', () => seen.length >= 1);
  await sleep(100);
  log('proclaim A', await call(c.election, 'Proclaim', { leader: ca.leader, value: B('a2') }));
  log('proclaim stale', await call(c.election, 'Proclaim', { leader: { ...(ca.leader as Obj), rev: 1 }, value: B('x') }));
  log('proclaim no leader key', await call(c.election, 'Proclaim', { value: B('x') }));
  await until('the proclamation observed', () => seen.length >= 2);
  await sleep(100);
  log('resign A', await call(c.election, 'Resign', { leader: ca.leader }));
  log('campaign B', await cb);
  log('leader', await call(c.election, 'Leader', { name: B('el') }));
  await until('three observed leaders', () => seen.length >= 3);
  await sleep(100); // nothing more may arrive
  obs.cancel();
  log('observed', seen);
  return out;
}

const transcripts = new Map<Impl, unknown[]>();

describe.each<Impl>(['etcd', 'ours'])('Lock and Election over gRPC (%s)', (impl) => {
  it('runs the scenario', async () => {
    const m = impl === 'ours' ? await startMember() : await startEtcd();
    const c = clients(m.endpoint);
    try {
      transcripts.set(impl, await scenario(c));
      if (process.env.LOCK_TRANSCRIPT) console.log(JSON.stringify(transcripts.get(impl)));
    } finally {
      for (const x of Object.values(c)) x.close();
      await m.stop();
    }
    const t = transcripts.get(impl)!;
    // independent of the oracle: the released waiter's header is the unlock's revision
    const step = (name: string) => (t.find((s) => (s as unknown[])[0] === name) as unknown[])[1] as Obj;
    expect((step('lock B').header as Obj).revision).toBe((step('unlock A').header as Obj).revision);
    expect(step('no leader')).toBe('ERR 2 election: no leader');
    expect(step('session lease')).toBe('60');
  });
});

describe('ours and etcd 3.4.23', () => {
  it('give the same transcript', () => {
    expect(transcripts.get('ours')).toEqual(transcripts.get('etcd'));
  });
});
