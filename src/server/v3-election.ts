/*
 * v3electionpb.Election, as etcd 3.4.23 serves it (a clientv3 concurrency Election over a session
 * whose lease is the request's, or a new 60 s lease for lease 0; Leader/Observe use no lease).
 * Candidates are keys `<name>/<lease hex>`; the leader is the oldest (smallest create revision).
 *
 *  Campaign(name, lease, value): txn if create_revision(key) == 0 then put(key, value, lease) else
 *    get(key); an existing key with another value is proclaimed (on failure resigned). Then wait
 *    until every older candidate is deleted → {header OF THE TXN (not of the wait), leader: {name,
 *    key, rev = create revision, lease}}. A canceled wait resigns (deletes our key), as etcd does.
 *    SAFE (as in v3-lock.ts): after the wait our key must still exist with that create revision;
 *    a vanished lease fails with LeaseNotFound, a key deleted by someone else is queued again.
 *  Proclaim({leader}, value): session lease; txn if create_revision(leader.key) == leader.rev then
 *    put(key, value, lease) → {header}; else ElectionNotLeader. No leader field: MissingLeaderKey.
 *  Leader(name): the oldest key under `<name>/` → {header, kv}; none: ElectionNoLeader.
 *  Observe(name): the current leader (or, with none, the first put under the prefix, its header
 *    revision set to that put's revision), then every put on the leader key; when it is deleted,
 *    the next leader. Ends (without error) when the signal aborts or the server stops.
 *  Resign({leader}): session lease; txn if create_revision(key) == rev then delete(key) → {header}
 *    whether or not it was the leader.
 */
import type { ResponseHeader } from '../pb/etcdserverpb/ResponseHeader.js';
import type { KeyValue } from '../pb/mvccpb/KeyValue.js';
import type { CampaignRequest__Output } from '../pb/v3electionpb/CampaignRequest.js';
import type { CampaignResponse } from '../pb/v3electionpb/CampaignResponse.js';
import type { LeaderRequest__Output } from '../pb/v3electionpb/LeaderRequest.js';
import type { LeaderResponse } from '../pb/v3electionpb/LeaderResponse.js';
import type { ProclaimRequest__Output } from '../pb/v3electionpb/ProclaimRequest.js';
import type { ProclaimResponse } from '../pb/v3electionpb/ProclaimResponse.js';
import type { ResignRequest__Output } from '../pb/v3electionpb/ResignRequest.js';
import type { ResignResponse } from '../pb/v3electionpb/ResignResponse.js';
import type { WatchStream as MvccWatchStream } from '../mvcc/watchable.js';
import { prefixEnd } from '../pkg/bytes.js';
import { EtcdError } from './errors.js';
import type { EtcdServer } from './server.js';
import {
  asBuffer,
  createRev,
  createRevIs,
  deleteOp,
  firstCreated,
  getOp,
  headerRev,
  keyPrefix,
  putOp,
  rangeKvs,
  rangeReq,
  recheckWaiter,
  sessionLease,
  throwIfAborted,
  txnReq,
  waitDeletes,
  waiterKey,
} from './v3-concurrency.js';
import { kvToPb } from './v3-convert.js';
import type { V3Kv } from './v3-kv.js';

type ProclaimOutcome = { header: ResponseHeader | null | undefined } | 'not-leader';

async function proclaimTxn(kv: V3Kv, key: Buffer, rev: number, lease: string, value: Buffer): Promise<ProclaimOutcome> {
  const t = await kv.txn(txnReq([createRevIs(key, rev)], [putOp(key, value, lease)], []));
  return t.succeeded ? { header: t.header } : 'not-leader';
}

async function resignTxn(kv: V3Kv, key: Buffer, rev: number): Promise<ResponseHeader | null | undefined> {
  return (await kv.txn(txnReq([createRevIs(key, rev)], [deleteOp(key)], []))).header;
}

export async function campaign(s: EtcdServer, kv: V3Kv, req: CampaignRequest__Output, signal?: AbortSignal): Promise<CampaignResponse> {
  throwIfAborted(signal);
  const lease = await sessionLease(kv, req.lease);
  const pfx = keyPrefix(req.name);
  const key = waiterKey(req.name, lease);
  for (;;) {
    const t = await kv.txn(txnReq([createRevIs(key, 0)], [putOp(key, req.value, lease)], [getOp(rangeReq(key))]));
    const existing = rangeKvs(t.responses?.[0])[0];
    let rev = headerRev(t.header);
    if (!t.succeeded && existing !== undefined) {
      rev = createRev(existing);
      if (!asBuffer(existing.value).equals(req.value)) {
        const p = await proclaimTxn(kv, key, rev, lease, req.value).catch(async (e: unknown) => {
          await resignTxn(kv, key, rev).catch(() => undefined);
          throw e;
        });
        if (p === 'not-leader') throw new EtcdError('ElectionNotLeader');
      }
    }
    try {
      await waitDeletes(s, kv, pfx, rev - 1, signal);
    } catch (e) {
      if (signal?.aborted) await resignTxn(kv, key, rev).catch(() => undefined);
      throw e;
    }
    if ((await recheckWaiter(s, kv, key, lease, rev)) === 'held') {
      return { header: t.header, leader: { name: req.name, key, rev: String(rev), lease } };
    }
  }
}

export async function proclaim(kv: V3Kv, req: ProclaimRequest__Output): Promise<ProclaimResponse> {
  const l = req.leader;
  if (!l) throw new EtcdError('MissingLeaderKey');
  if (l.key.length === 0) throw new EtcdError('EmptyKey');
  const lease = await sessionLease(kv, l.lease);
  const p = await proclaimTxn(kv, l.key, Number(l.rev), lease, req.value);
  if (p === 'not-leader') throw new EtcdError('ElectionNotLeader');
  return { header: p.header };
}

export async function resign(kv: V3Kv, req: ResignRequest__Output): Promise<ResignResponse> {
  const l = req.leader;
  if (!l) throw new EtcdError('MissingLeaderKey');
  if (l.key.length === 0) throw new EtcdError('EmptyKey');
  await sessionLease(kv, l.lease);
  return { header: await resignTxn(kv, l.key, Number(l.rev)) };
}

export async function leader(kv: V3Kv, req: LeaderRequest__Output): Promise<LeaderResponse> {
  const r = await kv.range(firstCreated(keyPrefix(req.name)));
  const first = r.kvs?.[0];
  if (first === undefined) throw new EtcdError('ElectionNoLeader');
  return { header: r.header, kv: first };
}

/** Leader changes of one election; see the file comment. */
export async function* observe(s: EtcdServer, kv: V3Kv, req: LeaderRequest__Output, signal?: AbortSignal): AsyncGenerator<LeaderResponse> {
  if (signal?.aborted) return;
  const ms = s.kv.watchStream();
  const onAbort = (): void => ms.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  const pfx = keyPrefix(req.name);
  try {
    for (;;) {
      const r = await kv.range(firstCreated(pfx));
      const current = r.kvs?.[0] ? { header: r.header ?? {}, kv: r.kvs[0] } : await firstPut(kv, ms, pfx, headerRev(r.header));
      if (current === null) return;
      yield current;
      const id = ms.watch({ key: asBuffer(current.kv.key), startRevision: headerRev(current.header) + 1 });
      const ended = yield* putsUntilDelete(kv, ms, id);
      if (ended) return;
    }
  } catch {
    return; // etcd ends the stream (status OK) when a read or watch fails
  } finally {
    signal?.removeEventListener('abort', onAbort);
    ms.close();
  }
}

/** With no leader: wait for the first put under the prefix (null: stream closed). */
async function firstPut(kv: V3Kv, ms: MvccWatchStream, pfx: Buffer, fromRev: number): Promise<{ header: ResponseHeader; kv: KeyValue } | null> {
  const id = ms.watch({ key: pfx, rangeEnd: prefixEnd(pfx), startRevision: fromRev });
  try {
    for (;;) {
      const r = await ms.next();
      if (r === null || r.compactRevision) return null;
      if (r.watchId !== id) continue;
      const put = r.events.find((e) => e.type === 'PUT');
      if (put) return { header: kv.header(put.kv.modRevision), kv: kvToPb(put.kv) };
    }
  } finally {
    ms.cancel(id);
  }
}

/** Each put on the leader key (watcher `id`) as a response, until its delete (false) or the end (true). */
async function* putsUntilDelete(kv: V3Kv, ms: MvccWatchStream, id: number): AsyncGenerator<LeaderResponse, boolean> {
  try {
    for (;;) {
      const r = await ms.next();
      if (r === null || r.compactRevision) return true;
      if (r.watchId !== id) continue;
      for (const e of r.events) {
        if (e.type === 'DELETE') return false;
        yield { header: kv.header(r.revision), kv: kvToPb(e.kv) };
      }
    }
  } finally {
    ms.cancel(id);
  }
}
