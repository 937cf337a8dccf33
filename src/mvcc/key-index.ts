// The in-memory key index: key → generations of revisions (etcd's keyIndex), plus the live value of
// every key (in a ValueArena, outside the V8 heap) so reads at the current revision never touch the
// disk. Keys are latin1 strings (one char
// per byte), so JS string order is byte order. Example: put a@2, put a@3, delete a@4, put a@5 gives
// generations [{created 2, ver 3, revs (2,0) (3,0) (4,0)}, {created 5, ver 1, revs (5,0)}].
import * as sortedBtree from 'sorted-btree';
import * as bulkLoadModule from 'sorted-btree/extended/bulkLoad.js';
import { revId } from './revision.js';
import { NO_VALUE, ValueArena } from './value-arena.js';

type BTreeT<K, V> = import('sorted-btree').default<K, V>;
const btreeModule = sortedBtree as unknown as { default: unknown };
const BTreeCtor = (typeof btreeModule.default === 'function' ? btreeModule.default : (btreeModule.default as { default: unknown }).default) as new () => BTreeT<string, KeyIndex>;
type BulkLoad = (keys: string[], values: KeyIndex[], maxNodeSize: number, compare: (a: string, b: string) => number) => BTreeT<string, KeyIndex>;
const bulkLoadTree = ((bulkLoadModule as { bulkLoad?: unknown }).bulkLoad ?? (bulkLoadModule as unknown as { default: { bulkLoad: unknown } }).default.bulkLoad) as BulkLoad;
/** sorted-btree's default node size. */
const btreeNodeSize = 32;
const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface Generation {
  ver: number;
  created: number;
  /** Flat pairs: main0, sub0, main1, sub1, ... */
  revs: number[];
}

export interface IndexedRev {
  main: number;
  sub: number;
  created: number;
  ver: number;
}

export class KeyIndex {
  /**
   * Every generation (etcd's layout), or null while the key is in the compact form most keys are in:
   * one live generation holding one revision, kept in the four fields below (ver 0: no revision at
   * all). The arrays and the generation object of the full form cost ~140 bytes a key (measured with
   * a heap snapshot: 100,000 keys put once held 22 MB of them). A key leaves the compact form on its
   * second revision or its deletion and comes back to it when compaction leaves it one revision.
   */
  private full: Generation[] | null = null;
  private main = 0;
  private sub = 0;
  private created = 0;
  private ver = 0;
  /** Where the live value is in the index's ValueArena (vSlab NO_VALUE: the key is deleted). */
  vSlab = NO_VALUE;
  vOff = 0;
  vLen = 0;
  /** The live value's lease. */
  lease = 0n;

  constructor(
    readonly key: string,
    private readonly arena: ValueArena,
  ) {}

  /** Whether the key is live (has a value, maybe empty). */
  hasValue(): boolean {
    return this.vSlab !== NO_VALUE;
  }

  /** The live value (throws if deleted): a view that stays valid whatever happens to the key later. */
  value(): Buffer {
    return this.arena.view(this);
  }

  setValue(bytes: Uint8Array): void {
    this.arena.set(this, bytes);
  }

  clearValue(): void {
    this.arena.clear(this);
  }

  /** The generations in etcd's layout (a fresh copy for a key in the compact form). */
  get gens(): Generation[] {
    if (this.full) return this.full;
    return this.ver === 0 ? [] : [{ ver: this.ver, created: this.created, revs: [this.main, this.sub] }];
  }

  /** The full form's generations, or null in the compact form (then see compactFields). For the index image. */
  fullForm(): readonly Generation[] | null {
    return this.full;
  }

  /** The compact form's main, sub, create revision and version (meaningless in the full form). */
  compactFields(): [number, number, number, number] {
    return [this.main, this.sub, this.created, this.ver];
  }

  /** compactFields() into f[0..3], without an array of its own (a snapshot reads a million of them). */
  compactFieldsInto(f: Float64Array): void {
    f[0] = this.main;
    f[1] = this.sub;
    f[2] = this.created;
    f[3] = this.ver;
  }

  /** Set the revision state as fullForm()/compactFields() described it (index image load). */
  restoreForm(full: Generation[] | null, main: number, sub: number, created: number, ver: number): void {
    this.full = full;
    this.setCompact(main, sub, created, ver);
  }

  /** Switch to the full form before a change the compact form cannot hold. */
  private expand(): Generation[] {
    this.full ??= this.gens;
    return this.full;
  }

  /** Back to the compact form when only one revision of one live generation is left. */
  private shrink(): void {
    const f = this.full;
    if (!f || f.length > 1) return;
    const g = f[0];
    if (g && g.revs.length !== 2) return;
    this.full = null;
    if (g) this.setCompact(g.revs[0]!, g.revs[1]!, g.created, g.ver);
    else this.setCompact(0, 0, 0, 0);
  }

  private setCompact(main: number, sub: number, created: number, ver: number): void {
    this.main = main;
    this.sub = sub;
    this.created = created;
    this.ver = ver;
  }

  /** Revision of the latest change (valid while live). */
  modRevision(): number {
    if (!this.full) return this.main;
    const g = this.full[this.full.length - 1]!;
    return g.revs[g.revs.length - 2]!;
  }

  createRevision(): number {
    return this.full ? this.full[this.full.length - 1]!.created : this.created;
  }

  version(): number {
    return this.full ? this.full[this.full.length - 1]!.ver : this.ver;
  }

  // Arrays are built as exact-size literals where possible: push() on an empty array reserves room
  // for 17 elements, which costs ~300 bytes per key at a million keys.
  put(main: number, sub: number): void {
    if (!this.full && this.ver === 0) {
      this.setCompact(main, sub, main, 1);
      return;
    }
    const gens = this.expand();
    if (gens.length === 0) gens.push({ ver: 0, created: 0, revs: [] });
    const g = gens[gens.length - 1]!;
    if (g.revs.length === 0) {
      g.created = main;
      g.revs = [main, sub];
    } else g.revs.push(main, sub);
    g.ver++;
  }

  /** put() during the rebuild: the stored version and create revision win (older revisions may be compacted away). */
  restore(main: number, sub: number, created: number, ver: number): void {
    if (!this.full && this.ver === 0 && ver > 0) {
      this.setCompact(main, sub, created, ver);
      return;
    }
    this.put(main, sub);
    const gens = this.expand();
    const g = gens[gens.length - 1]!;
    g.created = created;
    g.ver = ver;
  }

  /** Record a deletion; false when the key has no live generation. */
  tombstone(main: number, sub: number): boolean {
    if (this.isEmpty()) return false;
    const gens = this.expand();
    if (gens[gens.length - 1]!.revs.length === 0) return false;
    this.put(main, sub);
    this.full = gens.concat([{ ver: 0, created: 0, revs: [] }]);
    return true;
  }

  isEmpty(): boolean {
    const f = this.full;
    if (!f) return this.ver === 0;
    return f.length === 0 || (f.length === 1 && f[0]!.revs.length === 0);
  }

  private findGeneration(gens: Generation[], rev: number): Generation | null {
    const last = gens.length - 1;
    for (let i = last; i >= 0; i--) {
      const g = gens[i]!;
      if (g.revs.length === 0) continue;
      if (i !== last && g.revs[g.revs.length - 2]! <= rev) return null; // deleted at or before rev
      if (g.revs[0]! <= rev) return g;
    }
    return null;
  }

  /** The version of the key visible at main revision `atRev`, or null if it did not exist then. */
  get(atRev: number): IndexedRev | null {
    if (!this.full) return this.ver === 0 || this.main > atRev ? null : { main: this.main, sub: this.sub, created: this.created, ver: this.ver };
    const g = this.findGeneration(this.full, atRev);
    if (!g) return null;
    const n = g.revs.length / 2;
    for (let i = n - 1; i >= 0; i--) {
      if (g.revs[2 * i]! <= atRev) return { main: g.revs[2 * i]!, sub: g.revs[2 * i + 1]!, created: g.created, ver: g.ver - (n - i - 1) };
    }
    return null;
  }

  private doCompact(gens: Generation[], atRev: number, available: Set<string>): [number, number] {
    let genIdx = 0;
    let g = gens[0]!;
    while (genIdx < gens.length - 1) {
      if (g.revs[g.revs.length - 2]! > atRev) break;
      g = gens[++genIdx]!;
    }
    for (let i = g.revs.length / 2 - 1; i >= 0; i--) {
      if (g.revs[2 * i]! <= atRev) {
        available.add(revId(g.revs[2 * i]!, g.revs[2 * i + 1]!));
        return [genIdx, i];
      }
    }
    return [genIdx, -1];
  }

  /** Drop revisions older than the one visible at atRev (and fully deleted generations). */
  compact(atRev: number, available: Set<string>): void {
    if (this.isEmpty()) return;
    if (!this.full) {
      // one live revision: kept (and kept on disk when at or below atRev)
      if (this.main <= atRev) available.add(revId(this.main, this.sub));
      return;
    }
    const gens = this.full;
    let [genIdx, revIndex] = this.doCompact(gens, atRev, available);
    const g = gens[genIdx]!;
    if (g.revs.length > 0) {
      if (revIndex !== -1) g.revs = g.revs.slice(revIndex * 2);
      if (g.revs.length === 2 && genIdx !== gens.length - 1) {
        available.delete(revId(g.revs[0]!, g.revs[1]!));
        genIdx++;
      }
    }
    if (genIdx > 0) this.full = gens.slice(genIdx);
    this.shrink();
  }

  /** The revisions a compaction at atRev would keep (no change to the index). */
  keep(atRev: number, available: Set<string>): void {
    if (this.isEmpty()) return;
    if (!this.full) {
      if (this.main <= atRev) available.add(revId(this.main, this.sub));
      return;
    }
    const gens = this.full;
    const [genIdx, revIndex] = this.doCompact(gens, atRev, available);
    const g = gens[genIdx]!;
    if (g.revs.length > 0 && revIndex === g.revs.length / 2 - 1 && genIdx !== gens.length - 1) {
      available.delete(revId(g.revs[2 * revIndex]!, g.revs[2 * revIndex + 1]!));
    }
  }
}

/**
 * A key range in index terms: `end` undefined = the single key, null = every key >= key, else
 * [key, end). Built from etcd's (key, range_end) by toSpan.
 */
export interface KeySpan {
  key: string;
  end: string | null | undefined;
}

export function toSpan(key: Buffer, rangeEnd?: Buffer): KeySpan {
  const k = key.toString('latin1');
  if (!rangeEnd || rangeEnd.length === 0) return { key: k, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { key: k, end: null };
  return { key: k, end: rangeEnd.toString('latin1') };
}

export function spanContains(span: KeySpan, key: string): boolean {
  if (span.end === undefined) return key === span.key;
  return key >= span.key && (span.end === null || key < span.end);
}

export class TreeIndex {
  private tree: BTreeT<string, KeyIndex> = new BTreeCtor();
  private readonly map = new Map<string, KeyIndex>();
  /** Where the live values are (outside the V8 heap). */
  readonly values = new ValueArena();

  /** A key index for this index's keys (not yet in it: getOrCreate or loadSorted adds it). */
  newKey(key: string): KeyIndex {
    return new KeyIndex(key, this.values);
  }

  /** After a write: moves live values out of half-empty slabs once holes outweigh them. */
  compactValuesIfDue(): void {
    if (this.values.compactionDue()) this.values.compact(this.map.values());
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): KeyIndex | undefined {
    return this.map.get(key);
  }

  getOrCreate(key: string): KeyIndex {
    let ki = this.map.get(key);
    if (!ki) {
      ki = this.newKey(key);
      this.map.set(key, ki);
      if (!this.bulkLoading) this.tree.set(key, ki);
    }
    return ki;
  }

  private bulkLoading = false;

  /** Rebuild: fill only the Map, then build the B-tree from the sorted keys in one pass. */
  beginBulkLoad(): void {
    this.bulkLoading = true;
  }

  endBulkLoad(): void {
    this.bulkLoading = false;
    const keys = [...this.map.keys()].sort();
    this.tree = bulkLoadTree(keys, keys.map((k) => this.map.get(k)!), btreeNodeSize, compareKeys);
  }

  /**
   * Load an empty index from keys already in strictly ascending order (the index image): no sort, and
   * the B-tree is built bottom-up. Throws, leaving the index empty, if the keys are not in that order.
   */
  loadSorted(keys: string[], kis: KeyIndex[]): void {
    if (this.map.size !== 0) throw new Error('mvcc: loadSorted into a non-empty index');
    this.tree = bulkLoadTree(keys, kis, btreeNodeSize, compareKeys);
    for (let i = 0; i < keys.length; i++) this.map.set(keys[i]!, kis[i]!);
  }

  /** Every key index in key order (the index image is written in this order). */
  sorted(): IterableIterator<KeyIndex> {
    return this.tree.values();
  }

  /** Key indexes inside the span, in key order. */
  *range(span: KeySpan): Generator<KeyIndex> {
    if (span.end === undefined) {
      const ki = this.map.get(span.key);
      if (ki) yield ki;
      return;
    }
    if (span.end !== null && span.end <= span.key) return;
    for (const [k, ki] of this.tree.entries(span.key)) {
      if (span.end !== null && k >= span.end) return;
      yield ki;
    }
  }

  all(): IterableIterator<KeyIndex> {
    return this.map.values();
  }

  /** Compact every key at atRev; returns the revisions to keep on disk at or below atRev. */
  compact(atRev: number): Set<string> {
    const available = new Set<string>();
    for (const [k, ki] of this.map) {
      ki.compact(atRev, available);
      if (ki.isEmpty()) {
        this.map.delete(k);
        this.tree.delete(k);
      }
    }
    return available;
  }

  keep(atRev: number): Set<string> {
    const available = new Set<string>();
    for (const ki of this.map.values()) ki.keep(atRev, available);
    return available;
  }
}
