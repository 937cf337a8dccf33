// Range at a revision with etcd's RangeRequest semantics (count unaffected by limit and filters,
// `more`, sort, keys_only, count_only). Values at the view's revision come from memory; older versions
// are read synchronously from the backend by their revision key.
import { Bucket, type Backend } from '../backend/index.js';
import { MvccError } from './errors.js';
import { decodeKv } from './kv-codec.js';
import type { KeyIndex, KeySpan, TreeIndex } from './key-index.js';
import { revToBytes } from './revision.js';
import type { KeyValue, RangeOptions, RangeResult } from './types.js';

export interface ReadView {
  index: TreeIndex;
  backend: Backend;
  /** The revision whose state the in-memory live values show. */
  viewRev: number;
  compactRev: number;
}

export function liveKv(ki: KeyIndex): KeyValue {
  return {
    key: Buffer.from(ki.key, 'latin1'),
    createRevision: ki.createRevision(),
    modRevision: ki.modRevision(),
    version: ki.version(),
    value: ki.value(),
    lease: ki.lease,
  };
}

/** The key's version at `rev`, or null. */
export function kvAt(view: ReadView, ki: KeyIndex, rev: number): KeyValue | null {
  if (rev >= view.viewRev) return ki.hasValue() ? liveKv(ki) : null;
  const r = ki.get(rev);
  if (!r) return null;
  if (ki.hasValue() && r.main === ki.modRevision()) return liveKv(ki);
  const bytes = view.backend.get(Bucket.key, revToBytes(r.main, r.sub));
  if (!bytes) throw new Error(`mvcc: revision (${r.main}, ${r.sub}) of an indexed key is missing from the backend`);
  return decodeKv(bytes);
}

export function checkRevision(view: ReadView, requested: number | undefined): number {
  const rev = requested && requested > 0 ? requested : view.viewRev;
  if (rev > view.viewRev) throw new MvccError('future-rev');
  if (rev < view.compactRev) throw new MvccError('compacted', view.compactRev);
  return rev;
}

function isVisible(ki: KeyIndex, rev: number, latest: boolean): boolean {
  return latest ? ki.hasValue() : ki.get(rev) !== null;
}

export function rangeAt(view: ReadView, span: KeySpan, opts: RangeOptions): RangeResult {
  const rev = checkRevision(view, opts.revision);
  const latest = rev === view.viewRev;
  const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
  const filtered = !!(opts.minModRevision || opts.maxModRevision || opts.minCreateRevision || opts.maxCreateRevision);
  const order = opts.sortOrder ?? 'NONE';
  const target = opts.sortTarget ?? 'KEY';
  // etcd's applier: a non-key target without an order sorts ASCEND, an order it does not know
  // (a bad enum number) leaves the keys in key order. It fetches everything only when sort_order is
  // set or a filter is given, else limit+1 (to learn `more`): a non-key target with no order
  // sorts just those limit+1 keys.
  const sortBy = order === 'NONE' && target !== 'KEY' ? 'ASCEND' : order;
  const sorted = sortBy === 'ASCEND' || sortBy === 'DESCEND';
  const fetch = opts.countOnly ? 0 : order !== 'NONE' || filtered || limit === 0 ? Infinity : limit + 1;
  let count = 0;
  let kvs: KeyValue[] = [];
  for (const ki of view.index.range(span)) {
    if (count < fetch) {
      const kv = kvAt(view, ki, rev);
      if (!kv) continue;
      count++;
      kvs.push(kv);
    } else if (isVisible(ki, rev, latest)) count++;
  }
  if (opts.countOnly) return { kvs: [], count, more: false, revision: view.viewRev };
  if (filtered) kvs = kvs.filter((kv) => passes(kv, opts));
  if (sorted) sortKvs(kvs, sortBy, target);
  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs.length = limit;
    more = true;
  }
  if (opts.keysOnly) for (const kv of kvs) kv.value = Buffer.alloc(0);
  return { kvs, count, more, revision: view.viewRev };
}

function passes(kv: KeyValue, o: RangeOptions): boolean {
  if (o.maxModRevision && kv.modRevision > o.maxModRevision) return false;
  if (o.minModRevision && kv.modRevision < o.minModRevision) return false;
  if (o.maxCreateRevision && kv.createRevision > o.maxCreateRevision) return false;
  if (o.minCreateRevision && kv.createRevision < o.minCreateRevision) return false;
  return true;
}

function sortKvs(kvs: KeyValue[], order: 'ASCEND' | 'DESCEND', target: NonNullable<RangeOptions['sortTarget']>): void {
  const sign = order === 'ASCEND' ? 1 : -1;
  const cmp: (a: KeyValue, b: KeyValue) => number =
    target === 'KEY' ? (a, b) => Buffer.compare(a.key, b.key)
    : target === 'VALUE' ? (a, b) => Buffer.compare(a.value, b.value)
    : target === 'VERSION' ? (a, b) => a.version - b.version
    : target === 'CREATE' ? (a, b) => a.createRevision - b.createRevision
    : (a, b) => a.modRevision - b.modRevision;
  kvs.sort((a, b) => sign * cmp(a, b));
}
