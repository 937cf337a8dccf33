// A fake server for the v2 plugin: a real V2Store applied synchronously (no raft), a fixed cluster of
// one, and a raft index that grows with each write, so responses can be checked byte for byte.
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../../src/api/http/index.js';
import { v2Api, type V2PluginOptions } from '../../../src/api/v2/index.js';
import { inject as lightInject, type InjectOptions, type Response } from 'light-my-request';
import type { EtcdServerFacade, V2AuthRequest, V2KeysRequest } from '../../../src/server/facade.js';
import { cleanPath, etcdExpirationMs, V2Store, type V2Event } from '../../../src/v2store/index.js';

export const CLUSTER_ID = 0xdc50b8daae93b3e0n;
export const MEMBER_ID = 0x667880157b8812c8n;

export interface FakeV2 {
  store: V2Store;
  raftIndex: number;
  now: number;
  /** What the next v2Keys call rejects with instead of applying (e.g. a raft timeout). */
  failNext?: Error;
  memberAddError?: Error;
  calls: V2KeysRequest[];
  /** The v2 auth requests proposed, in order. */
  authCalls: V2AuthRequest[];
}

function apply(s: V2Store, r: V2KeysRequest, now: number): V2Event {
  const ttl = r.ttlSeconds === undefined ? {} : { expireAtMs: etcdExpirationMs(now, r.ttlSeconds) };
  if (r.method === 'GET') return s.get(r.key, { recursive: r.recursive, sorted: r.sorted }, now);
  if (r.method === 'POST') return s.create(r.key, { value: r.value, dir: r.dir, unique: true, ...ttl }, now);
  if (r.method === 'DELETE') {
    if (r.prevValue !== undefined || (r.prevIndex ?? 0) > 0) return s.compareAndDelete(r.key, r.prevValue, r.prevIndex, now);
    return s.delete(r.key, { dir: r.dir, recursive: r.recursive }, now);
  }
  if (r.prevExist === false) return s.create(r.key, { value: r.value, dir: r.dir, ...ttl }, now);
  if (r.prevValue !== undefined || (r.prevIndex ?? 0) > 0) {
    return s.compareAndSwap(r.key, r.prevValue, r.prevIndex, { value: r.value, refresh: r.refresh, ...ttl }, now);
  }
  if (r.prevExist === true) return s.update(r.key, { value: r.value, refresh: r.refresh, ...ttl }, now);
  return s.set(r.key, { value: r.value, dir: r.dir, refresh: r.refresh, ...ttl }, now);
}

export function fakeFacade(): { facade: EtcdServerFacade; fake: FakeV2 } {
  const fake: FakeV2 = { store: new V2Store(), raftIndex: 1, now: Date.UTC(2026, 10, 22, 5, 0, 0), calls: [], authCalls: [] };
  const member = { id: MEMBER_ID, name: 'default', peerURLs: ['http://127.0.0.1:2380'], clientURLs: ['http://127.0.0.1:2379'] };
  const impl: Partial<EtcdServerFacade> = {
    v2Keys: async (req) => {
      fake.calls.push(req);
      if (fake.failNext) { const e = fake.failNext; fake.failNext = undefined; throw e; }
      const ev = apply(fake.store, req, fake.now);
      if (req.method !== 'GET' || req.quorum) fake.raftIndex++;
      return ev;
    },
    v2Watch: (key, opts) => fake.store.watch(key, opts),
    v2Index: () => fake.store.index(),
    v2AuthProbe: () => fake.store.authEnabledProbe(),
    // etcd's v2 auth requests, applied at once as the server's applier would (apply-v2.ts)
    v2AuthRequest: async (req) => {
      fake.authCalls.push(req);
      fake.raftIndex++;
      const s = fake.store;
      if (req.method === 'QGET') return s.getAt(cleanPath(req.path), {}, fake.now);
      if (req.method === 'DELETE') return s.deleteAt(cleanPath(req.path), {}, fake.now);
      if (req.prevExist === true) return s.updateAt(cleanPath(req.path), { value: req.value }, fake.now);
      return s.createAt(cleanPath(req.path), { value: req.value, dir: req.dir }, fake.now);
    },
    v2AuthGet: (path) => fake.store.getAt(cleanPath(path), {}, fake.now),
    v2StoreStats: () => fake.store.statsJson(),
    v2Header: () => ({ clusterId: CLUSTER_ID, raftIndex: fake.raftIndex, raftTerm: 2 }),
    v2Members: () => [member],
    v2SelfStats: () => ({ name: 'default', id: MEMBER_ID, state: 'StateLeader', startTimeMs: fake.now - 1000, leader: MEMBER_ID,
      leaderStartTimeMs: fake.now - 500, recvAppendRequestCnt: 0, sendAppendRequestCnt: 0 }),
    v2LeaderStats: () => ({ leader: MEMBER_ID, followers: [] }),
    memberAdd: async () => { throw fake.memberAddError ?? Object.assign(new Error('MemberNotEnoughStarted'), { name: 'EtcdError', code: 'MemberNotEnoughStarted' }); },
    // the server proposes a change of an unknown member, whose validation reads the member lists and refuses it
    memberRemove: async () => {
      fake.store.membershipReadProbe();
      throw Object.assign(new Error('MemberNotFound'), { name: 'EtcdError', code: 'MemberNotFound' });
    },
    memberUpdate: async () => {
      fake.store.membershipReadProbe();
      throw Object.assign(new Error('MemberNotFound'), { name: 'EtcdError', code: 'MemberNotFound' });
    },
    version: () => ({ etcdserver: '3.4.23', etcdcluster: '3.4.0' }),
  };
  return { facade: impl as EtcdServerFacade, fake };
}

export async function startApp(opts: { enableV2?: boolean; plugin?: V2PluginOptions } = {}): Promise<{ app: FastifyInstance; fake: FakeV2 }> {
  const { facade, fake } = fakeFacade();
  const app = createHttpApp(facade, {
    logger: pino({ level: 'silent' }), maxRequestBytes: 1.5 * 1024 * 1024, enableV2: opts.enableV2 ?? true,
    ...appV2(facade, opts.plugin),
  });
  await app.ready();
  return { app, fake };
}

function appV2(facade: EtcdServerFacade, opts?: V2PluginOptions) {
  const v2 = v2Api(facade, opts);
  return { plugins: [v2.plugin], rawHandlers: [v2.keys, v2.auth] };
}

/**
 * A request through the app's http.Server handler, as a socket's request would go: the raw handlers
 * (/v2/keys) first, then fastify. (fastify's app.inject skips the raw handlers.)
 */
export function injectServer(app: FastifyInstance, opts: InjectOptions): Promise<Response> {
  return lightInject((req, res) => app.server.emit('request', req, res), opts);
}
