/*
 * v2store/: etcd 3.4's v2 key tree, applied by every member in log order.
 *
 * Model. A tree of directories and files under an internal root with two namespaces: /1 holds the
 * user's keys (the user key "/foo" is the internal path "/1/foo"; every public method takes user keys
 * and every event, node and error cause shows user keys) and /0 mirrors the cluster (members, version;
 * see membership-mirror.ts); /2, made on first use, holds etcd's v2 auth (users, roles, the enabled
 * switch), written by the same v2 requests on internal paths (the *At operations). Both namespaces
 * and "/" are read-only (error 107, cause "/"). Keys are cleaned like Go's path.Clean. Names starting with "_" are hidden from directory listings and from
 * recursive watchers above them. Every successful write bumps the store index by one and yields one event;
 * nodes carry createdIndex and modifiedIndex. The last 1000 events (historyLimit) answer waitIndex.
 *
 * Time. The store never reads a clock: every call that can set or show a TTL takes `now` (ms since the
 * epoch, or a Date). A replicated write carries its expiration as an absolute time (etcd's
 * Request.Expiration, unix ns: unixNsToMs, then expireAtMs), so `now` of a write only sets the TTLs its
 * answer shows: the server passes its clock when it applies the write (as etcd's store reads its own),
 * the leader's time carried in a SYNC entry for deleteExpiredKeys, and its local time for local reads.
 * Same entries → same state, same indexes on every member.
 *
 * Wire format (etcd's bytes; the HTTP layer adds "\n" after each body):
 *   event.serialize() → {"action":"set","node":{"key":"/foo","value":"bar","modifiedIndex":5,
 *                        "createdIndex":5},"prevNode":{"key":"/foo","value":"a","modifiedIndex":4,"createdIndex":4}}
 *   node field order key, value, dir, expiration, ttl, nodes, modifiedIndex, createdIndex; empties left out
 *   (the root has no key and no indexes: {"action":"get","node":{"dir":true}}).
 *   V2Error.serialize() → {"errorCode":100,"message":"Key not found","cause":"/foo","index":5}
 *   HTTP status: event.isCreated() ? 201 : 200; error.httpStatus(). X-Etcd-Index: event.etcdIndex,
 *   error.index, watcher.startIndex for watches.
 *
 * Contract (server → store; writes are called from the apply loop only, in log order; a replicated
 * write passes its expiration as expireAtMs, so all members compute the same expirations):
 *   PUT (no prev*)                     → set(key, {value, dir, ttlSeconds, refresh}, now)
 *   PUT prevExist=false                → create(key, {value, dir, ttlSeconds}, now)
 *   POST                               → create(key, {value, dir, ttlSeconds, unique: true}, now)
 *   PUT prevExist=true                 → update(key, {value, ttlSeconds, refresh}, now)
 *   PUT prevValue/prevIndex>0 (prevExist unset or true)
 *                                      → compareAndSwap(key, prevValue, prevIndex, {value, ttlSeconds, refresh}, now)
 *   DELETE                             → delete(key, {dir, recursive}, now)
 *   DELETE prevValue/prevIndex>0       → compareAndDelete(key, prevValue, prevIndex, now)
 *   SYNC entry                         → deleteExpiredKeys(leaderNow)
 *   GET                                → get(key, {recursive, sorted}, now)      (local, or applied QGET)
 *   GET wait=true                      → watch(key, {recursive, stream, sinceIndex: waitIndex}) → V2Watcher:
 *       `await watcher.next()` (undefined = ended) or `watcher.setListener(fn)`; `watcher.remove()` when the
 *       client goes away. A non-stream watcher ends after one event. Writers never wait on watchers.
 *   a request on an internal path      → getAt/setAt/createAt/updateAt/compareAndSwapAt/deleteAt/
 *                                        compareAndDeleteAt(path, …), counted as the user-key calls
 *   every /v2/keys request             → authEnabledProbe() (etcd's read of /2/enabled, counted as a get)
 *   membership / cluster version apply → mirror* functions (membership-mirror.ts)
 *   raft snapshot                      → save(): Buffer; V2Store.recover(bytes) or store.restore(bytes)
 *   /v2/stats/store                    → statsJson()
 * A write without ttlSeconds/expireAtMs makes the node permanent (etcd drops the TTL). ttl= (empty) is
 * "no ttl". The HTTP layer validates form input (200-series errors, refresh rules 211/212) before proposing.
 * Domain failures are thrown as V2Error (never anything else), and a throwing call changes nothing but
 * the stats counters.
 */
export * from './errors.js';
export * from './json.js';
export { V2Event, type V2EventBody } from './event.js';
export { EventHistory, HISTORY_LIMIT_DEFAULT } from './event-history.js';
export { V2Watcher, WATCHER_QUEUE_LIMIT } from './watcher-hub.js';
export { type V2StoreStats, newStats } from './stats.js';
export { cleanPath, internalPath } from './tree.js';
export { KEYS_PREFIX, CLUSTER_PREFIX, userKey } from './node.js';
export {
  V2Store, toMs, type V2Now, type V2TtlOptions, type V2SetOptions, type V2CreateOptions, type V2UpdateOptions,
  type V2GetOptions, type V2DeleteOptions, type V2WatchOptions, type V2StoreOptions,
} from './store.js';
export * from './membership-mirror.js';
