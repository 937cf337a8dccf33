// A deliberately simple reference model of etcd's MVCC semantics: the full history of every key as a
// list, states computed by scanning. Used by the model tests and the crash tests.
import type { KeyValue, RangeOptions, RangeResult } from '../../../src/mvcc/index.js';

export type ModelOp =
  | { kind: 'put'; key: string; value: string; lease?: bigint }
  | { kind: 'del'; key: string; end?: string };

export class ModelError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export class Model {
  rev = 1;
  compactRev = -1;
  private readonly hist = new Map<string, { rev: number; kv: KeyValue | null }[]>();

  at(key: string, rev: number): KeyValue | null {
    let out: KeyValue | null = null;
    for (const h of this.hist.get(key) ?? []) if (h.rev <= rev) out = h.kv;
    return out;
  }

  private inSpan(k: string, key: string, end?: string): boolean {
    if (end === undefined || end === '') return k === key;
    if (end === '\0') return k >= key;
    return k >= key && k < end;
  }

  /** Apply ops as one write txn; returns the header revision. */
  apply(ops: ModelOp[]): number {
    const rev = this.rev + 1;
    let changed = false;
    for (const op of ops) {
      if (op.kind === 'put') {
        const prev = this.at(op.key, rev);
        const kv: KeyValue = {
          key: Buffer.from(op.key, 'latin1'), value: Buffer.from(op.value), lease: op.lease ?? 0n, modRevision: rev,
          createRevision: prev ? prev.createRevision : rev, version: prev ? prev.version + 1 : 1,
        };
        this.push(op.key, rev, kv);
        changed = true;
      } else {
        for (const k of [...this.hist.keys()].sort()) {
          if (this.inSpan(k, op.key, op.end) && this.at(k, rev)) {
            this.push(k, rev, null);
            changed = true;
          }
        }
      }
    }
    if (changed) this.rev = rev;
    return this.rev;
  }

  private push(k: string, rev: number, kv: KeyValue | null): void {
    const list = this.hist.get(k) ?? [];
    list.push({ rev, kv });
    this.hist.set(k, list);
  }

  compact(rev: number): void {
    if (rev <= this.compactRev) throw new ModelError('compacted');
    if (rev > this.rev) throw new ModelError('future-rev');
    this.compactRev = rev;
  }

  range(key: string, end: string | undefined, o: RangeOptions): RangeResult {
    const rev = o.revision && o.revision > 0 ? o.revision : this.rev;
    if (rev > this.rev) throw new ModelError('future-rev');
    if (rev < this.compactRev) throw new ModelError('compacted');
    let kvs: KeyValue[] = [];
    for (const k of [...this.hist.keys()].sort()) {
      const kv = this.at(k, rev);
      if (kv && this.inSpan(k, key, end)) kvs.push({ ...kv });
    }
    const count = kvs.length;
    if (o.countOnly) return { kvs: [], count, more: false, revision: this.rev };
    const filtered = !!(o.minModRevision || o.maxModRevision || o.minCreateRevision || o.maxCreateRevision);
    // etcd 3.4 fetches only limit+1 keys (in key order) unless sort_order is set or a filter is given
    if (o.limit && o.limit > 0 && (o.sortOrder ?? 'NONE') === 'NONE' && !filtered) kvs = kvs.slice(0, o.limit + 1);
    kvs = kvs.filter((kv) =>
      !(o.minModRevision && kv.modRevision < o.minModRevision) && !(o.maxModRevision && kv.modRevision > o.maxModRevision) &&
      !(o.minCreateRevision && kv.createRevision < o.minCreateRevision) && !(o.maxCreateRevision && kv.createRevision > o.maxCreateRevision));
    const target = o.sortTarget ?? 'KEY';
    let order = o.sortOrder ?? 'NONE';
    if (order === 'NONE' && target !== 'KEY') order = 'ASCEND';
    if (order !== 'NONE') {
      const val = (kv: KeyValue): number | string =>
        target === 'KEY' ? kv.key.toString('latin1') : target === 'VALUE' ? kv.value.toString('latin1')
        : target === 'VERSION' ? kv.version : target === 'CREATE' ? kv.createRevision : kv.modRevision;
      const dir = order === 'ASCEND' ? 1 : -1;
      kvs.sort((a, b) => (val(a) < val(b) ? -dir : val(a) > val(b) ? dir : 0));
    }
    const limit = o.limit ?? 0;
    const more = limit > 0 && kvs.length > limit;
    if (more) kvs = kvs.slice(0, limit);
    if (o.keysOnly) for (const kv of kvs) kv.value = Buffer.alloc(0);
    return { kvs, count, more, revision: this.rev };
  }

  /** Every live key at the current revision, for whole-store comparisons. */
  dump(): RangeResult {
    return this.range('\0', '\0', {});
  }
}
