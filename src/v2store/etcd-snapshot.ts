/*
 * The whole store as etcd 3.4 puts it in a raft snapshot's data (its store.SaveNoCopy(): Go's
 * encoding/json of the store struct), so snapshots go both ways between members of ours and of etcd:
 *   {"Root":{"Path":"/","CreatedIndex":0,"ModifiedIndex":0,"ExpireTime":"0001-01-01T00:00:00Z",
 *            "Value":"","Children":{"0":{...},"1":{...}}},
 *    "WatcherHub":{"EventHistory":{"Queue":{"Events":[{event},...,null,...],"Size":16,"Front":0,
 *                  "Back":16,"Capacity":1000},"StartIndex":1,"LastIndex":16}},
 *    "CurrentIndex":16,"Stats":{"getsSuccess":0,...,"watchers":0},"CurrentVersion":2}
 * A file has "Children":null, a directory an object keyed by child name (Go writes map keys sorted);
 * ExpireTime is Go's RFC 3339 with nanoseconds, Go's zero time for a permanent node, any UTC offset on
 * reading. The history is etcd's ring: Capacity slots, null where empty. Its events carry internal
 * keys ("/1/a"), where ours show the client's key ("/a"); "refresh":true marks a TTL refresh.
 * Expiry is kept in (fractional) ms, so a node's ExpireTime goes back out within a microsecond.
 */
import { V2Event } from './event.js';
import { formatRfc3339Nano, goJsonString, serializeNode, unixNsToMs, type V2Action, type V2NodeJson } from './json.js';
import { KEYS_PREFIX, userKey, V2Node } from './node.js';
import { newStats, type V2StoreStats } from './stats.js';

/** etcd's store version (its defaultVersion). */
const STORE_VERSION = 2;
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
/** Go's zero time (0001-01-01 UTC) in unix ms. */
const GO_ZERO_MS = -62135596800000;

interface EtcdNode { Path: string; CreatedIndex: number; ModifiedIndex: number; ExpireTime: string; Value: string;
  Children: Record<string, EtcdNode> | null }
interface EtcdEvent { action: V2Action; node: V2NodeJson; prevNode?: V2NodeJson; refresh?: boolean }
export interface EtcdStoreJson {
  Root: EtcdNode;
  WatcherHub: { EventHistory: { Queue: { Events: (EtcdEvent | null)[]; Size: number; Front: number; Back: number;
    Capacity: number }; StartIndex: number; LastIndex: number } };
  CurrentIndex: number; Stats: V2StoreStats; CurrentVersion: number;
}

/** True when the bytes look like etcd's store JSON (ours start with {"v":). */
export function isEtcdStoreJson(rec: object): rec is EtcdStoreJson {
  return 'Root' in rec;
}

/** A snapshot's store, in either format, ready to install. */
export interface DecodedSnapshot { index: number; stats: V2StoreStats; root: V2Node; ttlNodes: V2Node[];
  history: V2Event[] }

// ---- writing ----

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Pieces joined into one chunk at a time (few short strings alive at once, as json.ts does). */
const CHUNK_PIECES = 4096;

class Pieces {
  readonly chunks: string[] = [];
  private out: string[] = [];

  push(s: string): void {
    this.out.push(s);
    if (this.out.length >= CHUNK_PIECES) this.flush();
  }

  flush(): void {
    this.chunks.push(this.out.join(''));
    this.out = [];
  }
}

function writeNode(n: V2Node, out: Pieces): void {
  const expire = n.expireMs === undefined ? GO_ZERO_TIME : formatRfc3339Nano(n.expireMs);
  const head = `{"Path":${goJsonString(n.path)},"CreatedIndex":${n.createdIndex},"ModifiedIndex":${n.modifiedIndex},`
    + `"ExpireTime":"${expire}","Value":${goJsonString(n.children === undefined ? n.value : '')},"Children":`;
  if (n.children === undefined) {
    out.push(`${head}null}`);
    return;
  }
  out.push(`${head}{`);
  const names = [...n.children.keys()].sort(byName);
  names.forEach((name, i) => {
    out.push(`${i > 0 ? ',' : ''}${goJsonString(name)}:`);
    writeNode(n.children!.get(name)!, out);
  });
  out.push('}}');
}

/** A client-facing node as etcd keeps it in its history: keys under /1 get their prefix back. */
function internalNode(n: V2NodeJson, underKeys: boolean): V2NodeJson {
  const key = n.key === undefined ? undefined : (underKeys ? `${KEYS_PREFIX}${n.key}` : n.key);
  const out: V2NodeJson = { ...n, key };
  if (n.nodes !== undefined) out.nodes = n.nodes.map((c) => internalNode(c, underKeys));
  return out;
}

function writeEvent(e: V2Event): string {
  const underKeys = e.path === KEYS_PREFIX || e.path.startsWith(`${KEYS_PREFIX}/`);
  let s = `{"action":"${e.action}","node":${serializeNode(internalNode(e.node, underKeys))}`;
  if (e.prevNode !== undefined) s += `,"prevNode":${serializeNode(internalNode(e.prevNode, underKeys))}`;
  return `${s}${e.refresh ? ',"refresh":true' : ''}}`;
}

export function encodeEtcdSnapshot(index: number, stats: V2StoreStats, root: V2Node, history: V2Event[],
  capacity: number): Buffer {
  const out = new Pieces();
  out.push('{"Root":');
  writeNode(root, out);
  // The ring laid out from slot 0: etcd's insert writes at Back and moves Front once full.
  const events = history.slice(-capacity);
  out.push(',"WatcherHub":{"EventHistory":{"Queue":{"Events":[');
  events.forEach((e, i) => out.push(`${i > 0 ? ',' : ''}${writeEvent(e)}`));
  if (capacity > events.length) out.push(`${events.length > 0 ? ',' : ''}${'null,'.repeat(capacity - events.length - 1)}null`);
  const start = events[0]?.index() ?? 0;
  const last = events[events.length - 1]?.index() ?? 0;
  out.push(`],"Size":${events.length},"Front":0,"Back":${events.length % capacity},"Capacity":${capacity}},`
    + `"StartIndex":${start},"LastIndex":${last}}},`);
  const counters = { ...stats, watchers: 0 };
  out.push(`"CurrentIndex":${index},"Stats":${JSON.stringify(counters)},"CurrentVersion":${STORE_VERSION}}`);
  out.flush();
  return Buffer.from(out.chunks.join(''), 'utf8');
}

// ---- reading ----

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|([+-])(\d\d):(\d\d))$/;

/** Go's time JSON (RFC 3339, any offset, up to ns) as unix ms; undefined for Go's zero time (permanent). */
export function parseGoTimeMs(s: string): number | undefined {
  if (s === GO_ZERO_TIME) return undefined; // nearly every node
  const m = RFC3339.exec(s);
  if (m === null) throw new Error(`v2store: bad ExpireTime ${JSON.stringify(s)} in etcd's snapshot`);
  const [, y, mo, d, h, mi, sec, frac, , sign, oh, om] = m;
  const date = new Date(Date.UTC(2000, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)));
  date.setUTCFullYear(Number(y)); // Date.UTC maps years 0-99 to 1900-1999
  let ms = date.getTime();
  if (sign !== undefined) ms -= (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  const fracNs = BigInt((frac ?? '0').padEnd(9, '0'));
  if (ms === GO_ZERO_MS && fracNs === 0n) return undefined;
  const ns = BigInt(ms) * 1_000_000n + fracNs;
  return unixNsToMs(ns);
}

function readNode(r: EtcdNode, parent: V2Node | undefined, onTtl: (n: V2Node) => void): V2Node {
  const expireMs = parseGoTimeMs(r.ExpireTime);
  const isDir = r.Children !== null && r.Children !== undefined;
  const n = new V2Node(r.Path, r.CreatedIndex, r.ModifiedIndex, parent, expireMs, isDir ? '' : r.Value,
    isDir ? new Map() : undefined);
  if (isDir) {
    for (const name of Object.keys(r.Children!).sort(byName)) {
      n.children!.set(name, readNode(r.Children![name]!, n, onTtl));
    }
  }
  if (expireMs !== undefined) onTtl(n);
  return n;
}

function clientNode(n: V2NodeJson): V2NodeJson {
  const out: V2NodeJson = { ...n };
  if (n.key !== undefined) out.key = userKey(n.key);
  if (n.nodes !== undefined) out.nodes = n.nodes.map(clientNode);
  return out;
}

export function decodeEtcdSnapshot(rec: EtcdStoreJson): DecodedSnapshot {
  const ttlNodes: V2Node[] = [];
  const root = readNode(rec.Root, undefined, (n) => ttlNodes.push(n));
  const q = rec.WatcherHub?.EventHistory?.Queue;
  const history: V2Event[] = [];
  for (let i = 0; q !== undefined && i < q.Size; i++) {
    const e = q.Events[(q.Front + i) % q.Capacity];
    if (e === null || e === undefined) throw new Error('v2store: hole in the event history of etcd\'s snapshot');
    const path = e.node.key ?? '/';
    const node = clientNode(e.node);
    history.push(new V2Event(e.action, node, e.prevNode && clientNode(e.prevNode), node.modifiedIndex ?? 0, path,
      e.refresh === true));
  }
  const stats = { ...newStats(), ...rec.Stats, watchers: 0 };
  return { index: rec.CurrentIndex, stats, root, ttlNodes, history };
}
