/*
 * One node of the v2 tree. A file has `children === undefined`; a directory has a Map of children
 * (insertion order; `sorted` listings sort by key). `path` is the internal path ("/1/foo" for the user
 * key "/foo", "/0/..." for the cluster mirror). `expireMs` undefined means permanent; a node with a
 * TTL sits in the store's expiry heap at `heapIndex` (-1 when not in the heap).
 */
import { formatRfc3339Nano, ttlSecondsLeft, type V2NodeJson } from './json.js';

/** The internal directory holding user keys ("/v2/keys/foo" is "/1/foo"). */
export const KEYS_PREFIX = '/1';
/** The internal directory holding the cluster mirror (members, version). */
export const CLUSTER_PREFIX = '/0';

/** The key a client sees for an internal path: "/1/foo" → "/foo", "/1" → "" (the root). */
export function userKey(path: string): string {
  if (path === KEYS_PREFIX) return '';
  if (path.startsWith(`${KEYS_PREFIX}/`)) return path.slice(KEYS_PREFIX.length);
  return path;
}

export class V2Node {
  heapIndex = -1;

  constructor(
    public path: string,
    public createdIndex: number,
    public modifiedIndex: number,
    public parent: V2Node | undefined,
    public expireMs: number | undefined,
    public value: string,
    public children: Map<string, V2Node> | undefined,
  ) {}

  static file(path: string, value: string, index: number, parent: V2Node | undefined, expireMs?: number): V2Node {
    return new V2Node(path, index, index, parent, expireMs, value, undefined);
  }

  static dir(path: string, index: number, parent: V2Node | undefined, expireMs?: number): V2Node {
    return new V2Node(path, index, index, parent, expireMs, '', new Map());
  }

  isDir(): boolean {
    return this.children !== undefined;
  }

  name(): string {
    return this.path.slice(this.path.lastIndexOf('/') + 1);
  }

  /** Names starting with "_" are left out of directory listings. */
  isHidden(): boolean {
    return this.name().startsWith('_');
  }

  isPermanent(): boolean {
    return this.expireMs === undefined;
  }

  /** expiration and ttl fields as etcd computes them at `nowMs`. */
  expirationAndTtl(nowMs: number): { expiration?: string; ttl?: number } {
    if (this.expireMs === undefined) return {};
    const ttl = ttlSecondsLeft(this.expireMs, nowMs);
    return ttl === 0 ? { expiration: formatRfc3339Nano(this.expireMs) }
      : { expiration: formatRfc3339Nano(this.expireMs), ttl };
  }

  listChildren(sorted: boolean): V2Node[] {
    const kids = [...(this.children?.values() ?? [])].filter((c) => !c.isHidden());
    if (sorted) kids.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return kids;
  }

  /** The node as a client sees it; a directory lists its (non-hidden) children only when recursive. */
  repr(recursive: boolean, sorted: boolean, nowMs: number): V2NodeJson {
    const out = this.head();
    if (this.isDir()) out.dir = true;
    else out.value = this.value;
    Object.assign(out, this.expirationAndTtl(nowMs));
    if (this.isDir() && recursive) {
      const nodes = this.listChildren(sorted).map((c) => c.repr(true, sorted, nowMs));
      if (nodes.length > 0) out.nodes = nodes;
    }
    return this.tail(out);
  }

  /** What a get returns: a directory always lists one level; deeper levels only when recursive. */
  load(recursive: boolean, sorted: boolean, nowMs: number): V2NodeJson {
    if (!this.isDir()) return this.repr(false, false, nowMs);
    const out: V2NodeJson = { ...this.head(), dir: true, ...this.expirationAndTtl(nowMs) };
    const nodes = this.listChildren(sorted).map((c) => c.repr(recursive, sorted, nowMs));
    if (nodes.length > 0) out.nodes = nodes;
    return this.tail(out);
  }

  // Fields Go leaves out when empty are never set, so JSON.stringify gives etcd's shape too.
  private head(): V2NodeJson {
    const key = userKey(this.path);
    return key === '' ? {} : { key };
  }

  private tail(out: V2NodeJson): V2NodeJson {
    if (this.modifiedIndex !== 0) out.modifiedIndex = this.modifiedIndex;
    if (this.createdIndex !== 0) out.createdIndex = this.createdIndex;
    return out;
  }

  /** Visits every node of this subtree, children before their parent. */
  forEachPostOrder(visit: (n: V2Node) => void): void {
    if (this.children) for (const c of this.children.values()) c.forEachPostOrder(visit);
    visit(this);
  }
}
