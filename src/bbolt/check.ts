// A consistency check in the spirit of bbolt's Tx.Check (which `etcdctl snapshot status` runs): every
// page of every bucket inside the file, referenced once, a branch or a leaf; keys ascending in each
// bucket; and, when the file keeps a freelist, every page either reachable or free.
import { BoltFormatError } from './format.js';
import type { BoltBucket, BoltDb } from './reader.js';

/** The problems found, as text; empty when the file is consistent. */
export function checkDb(db: BoltDb): string[] {
  const errors: string[] = [];
  const seen = new Set<bigint>([0n, 1n]);
  const mark = (id: bigint, overflow: number): void => {
    for (let i = 0n; i <= BigInt(overflow); i++) {
      const p = id + i;
      if (p >= db.meta.pgid) errors.push(`page ${p}: out of bounds: ${db.meta.pgid}`);
      if (seen.has(p)) errors.push(`page ${p}: multiple references`);
      seen.add(p);
    }
  };
  const visit = (b: BoltBucket, path: string): void => {
    for (const p of b.pages()) mark(p.id, p.overflow);
    // the previous key as a range of its page's buffer: no view per entry
    let last: Buffer | undefined;
    let lastStart = 0;
    let lastEnd = 0;
    for (const page of b.leafPages()) {
      const buf = page.buf;
      for (let i = 0; i < page.count; i++) {
        const k = page.keyStart(i);
        const v = page.valueStart(i);
        if (last !== undefined && last.compare(buf, k, v, lastStart, lastEnd) >= 0) errors.push(`bucket ${path}: key ${buf.toString('hex', k, v)} out of order`);
        last = buf;
        lastStart = k;
        lastEnd = v;
        if (page.isBucket(i)) visit(db.childBucket(buf.subarray(v, page.valueEnd(i))), `${path}/${buf.toString('utf8', k, v)}`);
      }
    }
  };
  try {
    visit(db.root(), '');
    const free = db.freePages();
    if (db.meta.freelist !== 0xffffffffffffffffn) {
      mark(db.meta.freelist, db.page(db.meta.freelist).header.overflow);
      for (const id of free) mark(id, 0);
      for (let id = 0n; id < db.meta.pgid; id++) if (!seen.has(id)) errors.push(`page ${id}: unreachable unfreed`);
    }
  } catch (e) {
    if (!(e instanceof BoltFormatError)) throw e;
    errors.push(e.message);
  }
  return errors;
}
