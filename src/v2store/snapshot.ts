/*
 * Reading a raft snapshot's store: etcd's JSON (etcd-snapshot.ts, what save() writes) or our own
 * older format, which .snap files written before still hold (read on restart and from older leaders;
 * encodeSnapshot stays to test that). The older format is UTF-8 JSON, versioned, e.g.
 *   {"v":1,"index":4,"stats":{"getsSuccess":0,...},
 *    "root":{"n":"","c":0,"m":0,"k":[{"n":"0","c":0,"m":0,"k":[...]},{"n":"1","c":0,"m":0,"k":[
 *            {"n":"x","c":4,"m":4,"v":"1","e":1700000000000}]}]},
 *    "history":[{"a":"set","i":4,"k":"/1/x","n":{"key":"/x","value":"1",...},"p":{...},"r":true}]}
 * A node is {n: name, c: createdIndex, m: modifiedIndex, v: value (files), k: children (dirs),
 * e: expiry ms (TTL'd nodes)}. The history keeps its events (so waitIndex works after a restore) and the
 * counters come back too, as etcd's snapshot does. Live watchers are not part of a snapshot.
 */
import { decodeEtcdSnapshot, isEtcdStoreJson, type DecodedSnapshot } from './etcd-snapshot.js';
import { V2Event } from './event.js';
import type { V2Action, V2NodeJson } from './json.js';
import { V2Node } from './node.js';
import { newStats, type V2StoreStats } from './stats.js';
import { joinPath } from './tree.js';

export const SNAPSHOT_FORMAT_VERSION = 1;

interface NodeRecord { n: string; c: number; m: number; v?: string; k?: NodeRecord[]; e?: number }
interface EventRecord { a: V2Action; i: number; k: string; n: V2NodeJson; p?: V2NodeJson; r?: true }
export interface SnapshotRecord {
  v: number; index: number; stats: V2StoreStats; root: NodeRecord; history: EventRecord[];
}

function nodeToRecord(n: V2Node): NodeRecord {
  const r: NodeRecord = { n: n.name(), c: n.createdIndex, m: n.modifiedIndex };
  if (n.children === undefined) r.v = n.value;
  else r.k = [...n.children.values()].map(nodeToRecord);
  if (n.expireMs !== undefined) r.e = n.expireMs;
  return r;
}

/** Rebuilds a subtree; `onTtl` sees every node that carries an expiry. */
function nodeFromRecord(r: NodeRecord, parent: V2Node | undefined, onTtl: (n: V2Node) => void): V2Node {
  const path = parent === undefined ? '/' : joinPath(parent.path, r.n);
  const n = new V2Node(path, r.c, r.m, parent, r.e, r.v ?? '', r.k === undefined ? undefined : new Map());
  for (const kr of r.k ?? []) n.children?.set(kr.n, nodeFromRecord(kr, n, onTtl));
  if (r.e !== undefined) onTtl(n);
  return n;
}

export function encodeSnapshot(index: number, stats: V2StoreStats, root: V2Node, history: V2Event[]): Buffer {
  const { watchers: _ignored, ...counters } = stats;
  void _ignored;
  const rec = {
    v: SNAPSHOT_FORMAT_VERSION, index, stats: counters, root: nodeToRecord(root),
    history: history.map((e): EventRecord => {
      const r: EventRecord = { a: e.action, i: e.etcdIndex, k: e.path, n: e.node };
      if (e.prevNode !== undefined) r.p = e.prevNode;
      if (e.refresh) r.r = true;
      return r;
    }),
  };
  return Buffer.from(JSON.stringify(rec), 'utf8');
}

export function decodeSnapshot(data: Uint8Array): DecodedSnapshot {
  const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as object;
  if (isEtcdStoreJson(parsed)) return decodeEtcdSnapshot(parsed);
  const rec = parsed as SnapshotRecord;
  if (rec.v !== SNAPSHOT_FORMAT_VERSION) throw new Error(`v2store: unknown snapshot format ${String(rec.v)}`);
  const ttlNodes: V2Node[] = [];
  const root = nodeFromRecord(rec.root, undefined, (n) => ttlNodes.push(n));
  const history = rec.history.map((r) => new V2Event(r.a, r.n, r.p, r.i, r.k, r.r === true));
  return { index: rec.index, stats: { ...newStats(), ...rec.stats, watchers: 0 }, root, ttlNodes, history };
}
