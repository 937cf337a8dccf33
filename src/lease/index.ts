/*
 * lease/: etcd 3.4's lessor.
 *
 * Model. A lease is {id (non-zero int64, may be negative if a client chose it), ttl (granted seconds,
 * raised to the minimum), remainingTTL (seconds from the last checkpoint, 0 = unset), keys}. Two kinds
 * of state live here:
 *   - applied state, changed only by applying raft entries, identical on every member:
 *     grant, revoke, attach/detach (from MVCC), checkpoint, recover. Each mutation is written to the
 *     LeaseStore, which the server binds to the backend batch of the entry being applied.
 *   - leader-local time: expiries. Time enters ONLY as `nowMs` arguments from the caller's clock; the
 *     room has no timers, no Date, no randomness. A follower's leases never expire (expiry = Infinity).
 *     On becoming leader (promote) every lease expires at now + extend + TTL; renew (keep-alive) moves
 *     one to now + TTL; demote makes them all endless again. A lease ends ONLY by an applied revoke:
 *     the leader finds expired ids (findExpired) and the server proposes LeaseRevoke for each.
 *
 * On disk (record.ts): key = id as 8 bytes big-endian, value = etcd's leasepb.Lease protobuf.
 *   lease 100, TTL 30 → key 00 00 00 00 00 00 00 64, value 08 64 10 1e. Expiries are never stored.
 *
 * Contract (who calls what, all from the server's single apply/ready loop):
 *   start-up / snapshot install: lessor.recover() (reads store.loadAll()), then while MVCC rebuilds
 *     its index, attach(kv.lease, [kv.key]) for each live key with a lease. Recovered leases have no
 *     expiry until promote (a leader never installs a snapshot; if it ever did, promote again).
 *   LeaseGrant request, ID 0: the receiving member picks the id BEFORE proposing:
 *     pickLeaseId(() => idGen.next(), (id) => lessor.has(id)).
 *   apply LeaseGrant: grant(id, ttl, nowMs) → LeaseView (response TTL = view.ttl, the raised value)
 *     | lease-not-found (id 0) | lease-ttl-too-large (> 9e9 s, checked before lease-exists) | lease-exists.
 *   apply LeaseRevoke: revoke(id) → keys in byte order; delete them in ONE MVCC write txn of the same
 *     batch (one revision; MVCC's own detach of those keys then answers lease-not-found: ignore it).
 *   apply Put with lease: the applier checks has(lease) first (lease-not-found); MVCC calls
 *     detach(old, [key]) / attach(new, [key]); getLease(key) tells the current lease of a key.
 *   apply LeaseCheckpoint: checkpoint(id, remainingTTL, nowMs) for each entry.
 *   leader applied its first empty entry of the term: promote(nowMs, electionTimeoutMs).
 *   raft state left leader: demote().
 *   leader, every ~500 ms: findExpired(nowMs) → propose LeaseRevoke for each (etcd keeps ≤ 16 in
 *     flight); findDueCheckpoints(nowMs) → one LeaseCheckpoint proposal per non-empty batch.
 *   LeaseKeepAlive on the leader: renew(id, nowMs) → {ttl, clearCheckpoint} | not-primary (forward /
 *     retry) | lease-not-found (reply TTL 0) | lease-expired (wait for the revoke, then not found).
 *   LeaseTimeToLive (leader; followers forward): timeToLive(id, nowMs) → {ttl: seconds left truncated
 *     toward zero (0 just after expiry), grantedTTL, keys} | lease-not-found (reply TTL -1).
 *   LeaseLeases: leases() (soonest expiry first, then id).
 */
export * from './errors.js';
export * from './record.js';
export * from './lease-id.js';
export * from './lessor.js';
export { ExpiryQueue } from './expiry-queue.js';
