/*
 * The simulated disk's inodes and what a crash leaves of them (test/sim/disk.ts describes the model):
 * directories keep their durable entries plus a random prefix of the operations made since their last
 * fsync; files their durable bytes plus none of the pending writes, a prefix whose last one may be
 * torn at sector granularity, or any subset of the dirtied sectors with their current bytes.
 */
import type { Rng } from './rng.js';

export const SIM_SECTOR_BYTES = 512;

export type Pending = { kind: 'write'; pos: number; bytes: Buffer } | { kind: 'truncate'; length: number };

export class FileNode {
  readonly kind = 'file';
  data: Buffer = Buffer.alloc(0);
  durable: Buffer = Buffer.alloc(0);
  pending: Pending[] = [];
}

export type DirOp = { name: string; node: Node | undefined } | { from: string; to: string; node: Node };

export class DirNode {
  readonly kind = 'dir';
  entries = new Map<string, Node>();
  durable = new Map<string, Node>();
  pending: DirOp[] = [];
}

export type Node = FileNode | DirNode;

export function applyPending(base: Buffer, p: Pending): Buffer {
  if (p.kind === 'truncate') return resize(base, p.length);
  const out = p.pos + p.bytes.length > base.length ? resize(base, p.pos + p.bytes.length) : base;
  p.bytes.copy(out, p.pos);
  return out;
}

function resize(b: Buffer, length: number): Buffer {
  if (length === b.length) return b;
  const out = Buffer.alloc(length);
  b.copy(out, 0, 0, Math.min(length, b.length));
  return out;
}

/** Apply only the sectors of a write that `landed` says reached the disk. */
function applySectors(base: Buffer, w: { pos: number; bytes: Buffer }, landed: (sector: number) => boolean): Buffer {
  let out: Buffer = base;
  const end = w.pos + w.bytes.length;
  for (let s = Math.floor(w.pos / SIM_SECTOR_BYTES); s * SIM_SECTOR_BYTES < end; s++) {
    if (!landed(s)) continue;
    const from = Math.max(w.pos, s * SIM_SECTOR_BYTES);
    const to = Math.min(end, (s + 1) * SIM_SECTOR_BYTES);
    if (to > out.length) out = resize(out, to);
    w.bytes.copy(out, from, from - w.pos, to - w.pos);
  }
  return out;
}


/** What a restart finds after a crash of the tree at `root` (see disk.ts, CRASH). */
export function crashImage(root: DirNode, rng: Rng): DirNode {
  const made = new Map<Node, Node>();
  const copy = (n: Node): Node => {
    let out = made.get(n);
    if (out) return out;
    if (n.kind === 'file') {
      const f = new FileNode();
      f.data = survivingBytes(n, rng);
      f.durable = Buffer.from(f.data);
      out = f;
    } else {
      const d = new DirNode();
      made.set(n, d);
      for (const [name, child] of survivingEntries(n, rng)) d.entries.set(name, copy(child));
      d.durable = new Map(d.entries);
      out = d;
    }
    made.set(n, out);
    return out;
  };
  return copy(root) as DirNode;
}

function survivingEntries(d: DirNode, rng: Rng): Map<string, Node> {
  const out = new Map(d.durable);
  const keep = d.pending.length === 0 ? 0 : rng.int(0, d.pending.length);
  for (const op of d.pending.slice(0, keep)) {
    if ('from' in op) {
      out.delete(op.from);
      out.set(op.to, op.node);
    } else if (op.node) out.set(op.name, op.node);
    else out.delete(op.name);
  }
  return out;
}

/** Each sector the pending writes touched holds either its durable bytes or its current ones. */
function someSectors(f: FileNode, durable: Buffer, rng: Rng): Buffer {
  const q = rng.next();
  const touched = new Set<number>();
  for (const p of f.pending) {
    if (p.kind !== 'write') continue;
    for (let s = Math.floor(p.pos / SIM_SECTOR_BYTES); s * SIM_SECTOR_BYTES < p.pos + p.bytes.length; s++) touched.add(s);
  }
  let out: Buffer = durable;
  for (const s of [...touched].sort((a, b) => a - b)) {
    if (!rng.chance(q)) continue;
    const from = s * SIM_SECTOR_BYTES;
    const to = Math.min(f.data.length, from + SIM_SECTOR_BYTES);
    if (to > out.length) out = resize(out, to);
    f.data.copy(out, from, from, to);
  }
  return out;
}

function survivingBytes(f: FileNode, rng: Rng): Buffer {
  let out: Buffer = Buffer.from(f.durable);
  if (f.pending.length === 0) return out;
  const mode = f.pending.some((p) => p.kind === 'truncate') ? rng.pick(['none', 'prefix'] as const) : rng.pick(['none', 'prefix', 'sectors'] as const);
  if (mode === 'none') return out;
  if (mode === 'sectors') return someSectors(f, out, rng);
  const keep = rng.int(0, f.pending.length);
  for (const p of f.pending.slice(0, keep)) out = applyPending(out, p);
  const torn = f.pending[keep];
  if (torn?.kind === 'write' && rng.chance(0.7)) {
    const first = Math.floor(torn.pos / SIM_SECTOR_BYTES);
    const landedBelow = first + rng.int(0, Math.ceil((torn.pos + torn.bytes.length) / SIM_SECTOR_BYTES) - first);
    const anyOrder = rng.chance(0.3);
    out = applySectors(out, torn, (s) => (anyOrder ? rng.chance(0.5) : s < landedBelow));
  }
  return out;
}
