/*
 * The client history of a run and its checks. Keys are registers; every put writes a unique value.
 *  - no acknowledged write is lost: at the end every member's value of a key has a mod revision at
 *    or above every acknowledged put of it (and is that put's value when equal);
 *  - reads are linearizable against the store's revision order: a read sees a revision at or above
 *    every put acknowledged and every read completed before it began, and never a value whose put
 *    was issued after the read ended; acknowledged puts get revisions in real-time order.
 */
export interface Op {
  kind: 'put' | 'get';
  key: string;
  /** put: the value written; get: the value read ('' = none). */
  value: string;
  start: number;
  end: number;
  /** The header revision of the answer. */
  rev: number;
  /** get: the mod revision of the value read (0 = none). */
  modRev: number;
  member: string;
}

export class History {
  readonly done: Op[] = [];
  /** Every put issued (acknowledged or not), by value: its start time. */
  readonly issued = new Map<string, number>();

  check(): string | undefined {
    const puts = this.done.filter((o) => o.kind === 'put').sort((a, b) => a.end - b.end);
    const gets = this.done.filter((o) => o.kind === 'get');
    for (const p of puts) {
      for (const q of puts) {
        if (p.end < q.start && p.rev >= q.rev) return `put ${p.value} (rev ${p.rev}) acknowledged before put ${q.value} began, but got rev ${q.rev}`;
      }
    }
    const acked = [...puts];
    for (const g of gets) {
      for (const p of acked) {
        if (p.end < g.start && g.rev < p.rev) return `get of ${g.key} at ${g.member} saw rev ${g.rev} after put ${p.value} (rev ${p.rev}) was acknowledged`;
        if (p.key === g.key && p.end < g.start && g.modRev < p.rev) return `get of ${g.key} at ${g.member} read mod rev ${g.modRev} (${g.value || 'none'}) after put ${p.value} (rev ${p.rev}) was acknowledged`;
      }
      for (const h of gets) {
        if (h.end < g.start && g.rev < h.rev) return `get of ${g.key} at ${g.member} saw rev ${g.rev} after a get at ${h.member} had seen rev ${h.rev}`;
      }
      if (g.value !== '') {
        const issued = this.issued.get(g.value);
        if (issued === undefined) return `get of ${g.key} read ${g.value}, never written`;
        if (issued > g.end) return `get of ${g.key} read ${g.value}, written after the read ended`;
      }
    }
    return undefined;
  }

  /** The highest acknowledged put of each key. */
  lastAcked(): Map<string, Op> {
    const m = new Map<string, Op>();
    for (const p of this.done) if (p.kind === 'put' && (m.get(p.key)?.rev ?? 0) < p.rev) m.set(p.key, p);
    return m;
  }
}
