// A small in-memory stand-in for the server facade: enough KV, lease and watch behaviour to drive
// the gateway the way the observed etcd transcripts do (test/unit/api-http/observed-etcd.md).
import type {
  EtcdServerFacade, HeaderInfo, WatchBatch, WatchSink, WatcherSpec,
} from '../../../src/server/facade.js';

export const CLUSTER_ID = 15118495548433857066n;
export const MEMBER_ID = 13668033151171901709n;

class FakeError extends Error {
  override readonly name = 'EtcdError';
  constructor(readonly code: string) {
    super(code);
  }
}
export const etcdError = (code: string) => new FakeError(code);

interface Kv { key: Buffer; value: Buffer; create_revision: number; mod_revision: number; version: number; lease: string }
type Req = Record<string, any>;

export interface FakeState {
  revision: number;
  compacted: number;
  raftTerm: number;
  leader: bigint;
  alarms: { memberID: string; alarm: 'NOSPACE' | 'CORRUPT' }[];
  kvs: Map<string, Kv>;
  leases: Map<string, { ttl: number; keys: Buffer[] }>;
  watchers: { spec: WatcherSpec; sink: WatchSink }[];
  calls: { method: string; req: Req; token?: string }[];
  /** Reads never answer: range, and the health check's read through raft. */
  rangeHangs: boolean;
}

export function createFakeFacade(): { facade: EtcdServerFacade; state: FakeState } {
  const state: FakeState = {
    revision: 1, compacted: 0, raftTerm: 2, leader: MEMBER_ID, alarms: [], kvs: new Map(), leases: new Map(),
    watchers: [], calls: [], rangeHangs: false,
  };
  const hdr = (): HeaderInfo => ({ clusterId: CLUSTER_ID, memberId: MEMBER_ID, raftTerm: state.raftTerm, revision: state.revision });
  const header = (revision = state.revision) => ({
    cluster_id: CLUSTER_ID.toString(), member_id: MEMBER_ID.toString(), revision, raft_term: state.raftTerm,
  });
  const record = (method: string, req: Req, ctx?: { token?: string }) => {
    state.calls.push({ method, req, ...(ctx?.token !== undefined ? { token: ctx.token } : {}) });
  };
  const inRange = (k: Buffer, key: Buffer, end: Buffer) =>
    end.length === 0 ? k.equals(key) : Buffer.compare(k, key) >= 0 && (end.equals(Buffer.from([0])) || Buffer.compare(k, end) < 0);
  const notify = (type: 'PUT' | 'DELETE', kv: Kv, prev: Kv | undefined) => {
    for (const w of state.watchers) {
      if (!inRange(kv.key, w.spec.key, w.spec.rangeEnd)) continue;
      const event = { type, kv, ...(w.spec.prevKv && prev ? { prev_kv: prev } : {}) };
      w.sink.send({ watchId: w.spec.watchId, events: [event], revision: state.revision, compactRevision: 0 });
    }
  };
  const put = (req: Req) => {
    const k = (req.key as Buffer).toString('latin1');
    const prev = state.kvs.get(k);
    state.revision++;
    const kv: Kv = {
      key: req.key, value: req.value, lease: req.lease, mod_revision: state.revision,
      create_revision: prev?.create_revision ?? state.revision, version: (prev?.version ?? 0) + 1,
    };
    state.kvs.set(k, kv);
    notify('PUT', kv, prev);
    return { header: header(), ...(req.prev_kv && prev ? { prev_kv: prev } : {}) };
  };
  const range = (req: Req) => {
    const rev = Number(req.revision);
    if (rev > state.revision) throw etcdError('FutureRev');
    if (rev !== 0 && rev < state.compacted) throw etcdError('Compacted');
    let kvs = [...state.kvs.values()].filter((kv) => inRange(kv.key, req.key, req.range_end));
    kvs.sort((a, b) => Buffer.compare(a.key, b.key));
    if (req.sort_order === 'DESCEND') kvs.reverse();
    const count = kvs.length;
    const limit = Number(req.limit);
    const more = limit > 0 && kvs.length > limit;
    if (limit > 0) kvs = kvs.slice(0, limit);
    if (req.keys_only) kvs = kvs.map((kv) => ({ ...kv, value: Buffer.alloc(0) }));
    return { header: header(), kvs: req.count_only ? [] : kvs, more, count };
  };
  const deleteRange = (req: Req) => {
    const victims = [...state.kvs.values()].filter((kv) => inRange(kv.key, req.key, req.range_end));
    if (victims.length > 0) state.revision++;
    for (const v of victims) {
      state.kvs.delete(v.key.toString('latin1'));
      notify('DELETE', { ...v, mod_revision: state.revision, create_revision: 0, version: 0, value: Buffer.alloc(0) }, v);
    }
    return { header: header(), deleted: victims.length, prev_kvs: req.prev_kv ? victims : [] };
  };
  const f: Partial<EtcdServerFacade> = {
    healthState: () => ({ alarms: state.alarms.length, hasLeader: state.leader !== 0n }),
    healthRead: () => (state.rangeHangs ? new Promise(() => {}) : Promise.resolve()),
    async range(req, ctx) {
      record('range', req, ctx);
      if (state.rangeHangs) return new Promise(() => {});
      return range(req);
    },
    async put(req, ctx) {
      record('put', req, ctx);
      if (state.alarms.length > 0) throw etcdError('NoSpace');
      return put(req);
    },
    async deleteRange(req, ctx) {
      record('deleteRange', req, ctx);
      return deleteRange(req);
    },
    async txn(req, ctx) {
      record('txn', req, ctx);
      const ok = req.compare.every((c: Req) => {
        const kv = state.kvs.get((c.key as Buffer).toString('latin1'));
        return c.target === 'VALUE' && c.result === 'EQUAL' && kv !== undefined && kv.value.equals(c.value);
      });
      const responses = (ok ? req.success : req.failure).map((op: Req) => {
        if (op.request === 'request_put') {
          put(op.request_put);
          return { response_put: { header: { revision: state.revision } } };
        }
        if (op.request === 'request_range') return { response_range: { ...range(op.request_range), header: { revision: state.revision } } };
        return { response_delete_range: { ...deleteRange(op.request_delete_range), header: { revision: state.revision } } };
      });
      return { header: header(), succeeded: ok, responses };
    },
    async compact(req, ctx) {
      record('compact', req, ctx);
      const rev = Number(req.revision);
      if (rev > state.revision) throw etcdError('FutureRev');
      if (rev <= state.compacted) throw etcdError('Compacted');
      state.compacted = rev;
      return { header: header() };
    },
    async leaseGrant(req, ctx) {
      record('leaseGrant', req, ctx);
      const id = req.ID === '0' ? '4111120162556413211' : req.ID;
      if (state.leases.has(id)) throw etcdError('LeaseExist');
      state.leases.set(id, { ttl: Number(req.TTL), keys: [] });
      return { header: header(), ID: id, TTL: req.TTL };
    },
    async leaseRevoke(req, ctx) {
      record('leaseRevoke', req, ctx);
      if (!state.leases.delete(req.ID)) throw etcdError('LeaseNotFound');
      return { header: header() };
    },
    async leaseKeepAlive(req, ctx) {
      record('leaseKeepAlive', req, ctx);
      const l = state.leases.get(req.ID);
      if (l === undefined) throw etcdError('LeaseNotFound');
      return { header: header(), ID: req.ID, TTL: l.ttl };
    },
    async leaseTimeToLive(req, ctx) {
      record('leaseTimeToLive', req, ctx);
      const l = state.leases.get(req.ID);
      if (l === undefined) return { header: header(), ID: req.ID, TTL: -1 };
      return { header: header(), ID: req.ID, TTL: l.ttl - 1, grantedTTL: l.ttl, keys: req.keys ? l.keys : [] };
    },
    async leaseLeases(req, ctx) {
      record('leaseLeases', req, ctx);
      return { header: header(), leases: [...state.leases.keys()].map((ID) => ({ ID })) };
    },
    async memberList(req, ctx) {
      record('memberList', req, ctx);
      return {
        header: { ...header(), revision: 0 },
        members: [{ ID: MEMBER_ID.toString(), name: 'h1', peerURLs: ['http://127.0.0.1:23801'], clientURLs: ['http://127.0.0.1:23791'], isLearner: false }],
      };
    },
    async status(req, ctx) {
      record('status', req, ctx);
      return {
        header: header(), version: '3.4.23', dbSize: 20480, leader: state.leader.toString(), raftIndex: 23,
        raftTerm: state.raftTerm, raftAppliedIndex: 23, errors: [], dbSizeInUse: 16384, isLearner: false,
      };
    },
    async alarm(req, ctx) {
      record('alarm', req, ctx);
      return { header: header(), alarms: state.alarms };
    },
    async authenticate(req, ctx) {
      record('authenticate', req, ctx);
      throw etcdError('AuthNotEnabled');
    },
    openWatchStream(sink) {
      const mine: WatcherSpec[] = [];
      return {
        watch(spec) {
          mine.push(spec);
          if (spec.startRevision !== 0 && spec.startRevision < state.compacted) {
            queueMicrotask(() => sink.send({ watchId: spec.watchId, events: [], revision: state.revision, compactRevision: state.compacted } satisfies WatchBatch));
          } else {
            state.watchers.push({ spec, sink });
          }
          return state.revision;
        },
        cancel(watchId) {
          const i = state.watchers.findIndex((w) => w.sink === sink && w.spec.watchId === watchId);
          if (i < 0) return false;
          state.watchers.splice(i, 1);
          return true;
        },
        revision: () => state.revision,
        close() {
          state.watchers = state.watchers.filter((w) => w.sink !== sink);
        },
      };
    },
    async snapshot() {
      const image = Buffer.alloc(40_000, 7);
      return { size: image.length, chunks: (async function* () { yield image; })() };
    },
    header: hdr,
    servingStatus: () => 'SERVING',
    version: () => ({ etcdserver: '3.4.23', etcdcluster: '3.4.0' }),
  };
  return { facade: f as EtcdServerFacade, state };
}
