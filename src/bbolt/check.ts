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
    let last: Buffer | undefined;
    for (const e of b.entries()) {
      if (last !== undefined && Buffer.compare(last, e.key) >= 0) errors.push(`bucket ${path}: key ${e.key.toString('hex')} out of order`);
      last = e.key;
      if (e.bucket) visit(db.childBucket(e.value), `${path}/${e.key.toString()}`);
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
