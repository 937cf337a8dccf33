// A time-ordered queue of lease ids: at most one entry per id, ordered by (atMs, id). Backed by the
// installed B+ tree (sorted-btree), so moving an id to a new time is an exact delete + insert (no
// lazy deletion, no stale entries). Used for lease expiries and for scheduled checkpoints.
import sortedBtree from 'sorted-btree';

// sorted-btree is CommonJS with `exports.default`: Node ESM hands the default import over as
// module.exports (class under .default), vitest's interop as the class itself. Accept both.
type BTreeClass = typeof sortedBtree.default;
const interop = sortedBtree as unknown as BTreeClass | { default?: BTreeClass };
const BTree: BTreeClass = typeof interop === 'function' ? interop : interop.default!;

type QueueKey = readonly [atMs: number, id: bigint];

function compareKeys(a: QueueKey, b: QueueKey): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

export class ExpiryQueue {
  private readonly tree = new BTree<QueueKey, true>(undefined, compareKeys);
  private readonly atById = new Map<bigint, number>();

  get size(): number {
    return this.atById.size;
  }

  /** When `id` is due, or undefined if it is not queued. */
  at(id: bigint): number | undefined {
    return this.atById.get(id);
  }

  /** Queue `id` at `atMs`, replacing any earlier entry for it. `atMs` must be finite. */
  set(id: bigint, atMs: number): void {
    if (!Number.isFinite(atMs)) throw new Error(`lease: expiry queue time must be finite (id ${id})`);
    this.delete(id);
    this.tree.set([atMs, id], true);
    this.atById.set(id, atMs);
  }

  delete(id: bigint): void {
    const old = this.atById.get(id);
    if (old === undefined) return;
    this.tree.delete([old, id]);
    this.atById.delete(id);
  }

  /** The earliest entry, or undefined when empty. */
  peek(): { id: bigint; atMs: number } | undefined {
    const k = this.tree.minKey();
    return k === undefined ? undefined : { atMs: k[0], id: k[1] };
  }

  clear(): void {
    this.tree.clear();
    this.atById.clear();
  }
}
