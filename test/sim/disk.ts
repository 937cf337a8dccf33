/*
 * SimDisk: an in-memory pkg/disk Disk for the seeded simulation, which forgets at a crash what the
 * durability contract of pkg/disk.ts does not promise.
 *
 * MODEL. A tree of inodes from '/'. A file has its current bytes (what reads see: the page cache),
 * its durable bytes, and the writes and truncates made since its last datasync (pending). A directory
 * has its current entries, its durable entries, and the creates, renames and removes made in it since
 * its last fsyncDir (pending). A write through a 'dsync' handle, preallocate and extendSparse make
 * their own bytes durable when they return.
 *
 * CRASH. crash() (or the op numbered crashAtOp, before, inside or after its effect) freezes the disk:
 * every later call on it or its handles throws SimCrash. The state a restart sees (restart()) is drawn
 * from the seeded rng: every directory keeps its durable entries plus a random prefix of its pending
 * operations (the file system journals them in order); every file keeps its durable bytes plus, by
 * lot, none of its pending writes, a prefix of them whose last one may be torn (some of its 512-byte
 * sectors written), or any subset of the sectors they dirtied, each with its current bytes (page
 * cache writeback in any order). A sector never holds garbage (pkg/disk's contract). Inodes no
 * longer reachable from '/' are gone.
 *
 * Everything resolves through microtasks only, so a run is a function of its seed; `yields` adds up
 * to that many extra microtask turns per operation (latency that reorders concurrent operations), and
 * `delay` is awaited by each asynchronous operation (a slow disk on the simulation's own clock).
 */
import type { Disk, DiskFile, FileLock, OpenMode } from '../../src/pkg/disk.js';
import { normalizePath } from '../../src/pkg/path.js';
import { applyPending, crashImage, DirNode, FileNode, type Node, type Pending } from './disk-image.js';
import { Rng } from './rng.js';

export { SIM_SECTOR_BYTES } from './disk-image.js';

/** Thrown by every operation of a crashed disk (and by the one that crashes it). */
export class SimCrash extends Error {
  override name = 'SimCrash';
}

/** Where an operation is cut by the crash: not at all, inside (effect made, nothing flushed), after. */
type Cut = 'none' | 'inside' | 'after';

export interface SimDiskOptions {
  seed: number;
  /** Crash at this operation (1-based count of calls on the disk and its handles; settable later). */
  crashAtOp?: number;
  /** Up to this many extra microtask turns per operation. */
  yields?: number;
  /** Awaited by every asynchronous operation (a slow disk: e.g. a sleep on the simulation's clock). */
  delay?: () => Promise<void>;
}

function fsError(code: string, op: string, p: string): Error {
  return Object.assign(new Error(`${code}: ${op} '${p}'`), { code });
}

export class SimDisk implements Disk {
  private root: DirNode;
  private readonly rng: Rng;
  private ops = 0;
  private crashed = false;
  private image: DirNode | undefined;
  private readonly locks = new Set<string>();
  /** What happened at the crash (for a failing seed's report). */
  crashNote = '';
  /** The operation to crash at (see SimDiskOptions). */
  crashAtOp: number | undefined;

  constructor(
    private readonly opts: SimDiskOptions,
    root?: DirNode,
  ) {
    this.rng = new Rng(opts.seed);
    this.crashAtOp = opts.crashAtOp;
    this.root = root ?? new DirNode();
  }

  /** Operations so far. */
  get opCount(): number {
    return this.ops;
  }

  get isCrashed(): boolean {
    return this.crashed;
  }

  /** Crash now (between operations). */
  crash(): void {
    if (this.crashed) return;
    this.crashed = true;
    this.crashNote ||= `crash between operations, after op ${this.ops}`;
    this.image = crashImage(this.root, this.rng);
  }

  /** A fresh disk holding what survived the crash (crashing first if it has not). */
  restart(opts: Omit<SimDiskOptions, 'seed'> = {}): SimDisk {
    this.crash();
    return new SimDisk({ ...opts, seed: this.rng.int(0, 2 ** 31) }, this.image);
  }

  // ---- the Disk interface ----

  async open(file: string, mode: OpenMode): Promise<DiskFile> {
    const cut = await this.step('open');
    this.check();
    const p = normalizePath(file);
    let node = this.lookup(p);
    if (mode === 'create') {
      if (node?.kind === 'dir') throw fsError('EISDIR', 'open', p);
      if (!node) {
        const { dir, name } = this.parent(p, 'open');
        node = new FileNode();
        this.setEntry(dir, name, node);
      } else {
        this.mutate(node, { kind: 'truncate', length: 0 });
      }
    }
    if (!node) throw fsError('ENOENT', 'open', p);
    if (node.kind === 'dir') throw fsError('EISDIR', 'open', p);
    this.after(cut);
    return new SimFile(this, node, mode === 'dsync');
  }

  async readFile(file: string): Promise<Buffer> {
    const cut = await this.step('readFile');
    this.check();
    const node = this.lookup(normalizePath(file));
    if (!node) throw fsError('ENOENT', 'open', file);
    if (node.kind === 'dir') throw fsError('EISDIR', 'read', file);
    this.after(cut);
    return Buffer.from(node.data);
  }

  async rename(from: string, to: string): Promise<void> {
    const cut = await this.step('rename');
    this.check();
    const f = normalizePath(from);
    const t = normalizePath(to);
    const node = this.lookup(f);
    if (!node) throw fsError('ENOENT', 'rename', f);
    const src = this.parent(f, 'rename');
    const dst = this.parent(t, 'rename');
    if (src.dir === dst.dir) {
      src.dir.entries.delete(src.name);
      src.dir.entries.set(dst.name, node);
      src.dir.pending.push({ from: src.name, to: dst.name, node });
    } else {
      this.setEntry(dst.dir, dst.name, node);
      this.setEntry(src.dir, src.name, undefined);
    }
    this.after(cut);
  }

  async rm(target: string, opts: { recursive?: boolean; force?: boolean } = {}): Promise<void> {
    const cut = await this.step('rm');
    this.check();
    const p = normalizePath(target);
    const node = this.lookup(p);
    if (!node) {
      if (opts.force) return this.after(cut);
      throw fsError('ENOENT', 'rm', p);
    }
    if (node.kind === 'dir' && !opts.recursive) throw fsError('EISDIR', 'rm', p);
    const { dir, name } = this.parent(p, 'rm');
    this.setEntry(dir, name, undefined);
    this.after(cut);
  }

  async readdir(dir: string): Promise<string[]> {
    const cut = await this.step('readdir');
    this.check();
    const node = this.lookup(normalizePath(dir));
    if (!node) throw fsError('ENOENT', 'scandir', dir);
    if (node.kind !== 'dir') throw fsError('ENOTDIR', 'scandir', dir);
    this.after(cut);
    return [...node.entries.keys()];
  }

  async mkdir(dir: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const cut = await this.step('mkdir');
    this.check();
    const p = normalizePath(dir);
    const existing = this.lookup(p);
    if (existing) {
      if (opts.recursive && existing.kind === 'dir') return this.after(cut);
      throw fsError('EEXIST', 'mkdir', p);
    }
    const parts = p.split('/').filter((x) => x !== '');
    let cur = this.root;
    for (let i = 0; i < parts.length; i++) {
      const next = cur.entries.get(parts[i]!);
      if (next?.kind === 'file') throw fsError('ENOTDIR', 'mkdir', p);
      if (next) {
        cur = next;
        continue;
      }
      if (!opts.recursive && i < parts.length - 1) throw fsError('ENOENT', 'mkdir', p);
      const made = new DirNode();
      this.setEntry(cur, parts[i]!, made);
      cur = made;
    }
    this.after(cut);
  }

  async fsyncDir(dir: string): Promise<void> {
    const cut = await this.step('fsyncDir');
    this.check();
    const node = this.lookup(normalizePath(dir));
    if (!node) throw fsError('ENOENT', 'open', dir);
    if (node.kind !== 'dir') throw fsError('ENOTDIR', 'fsync', dir);
    if (cut !== 'inside') {
      node.durable = new Map(node.entries);
      node.pending = [];
    }
    this.after(cut);
  }

  async lock(file: string): Promise<FileLock> {
    const cut = await this.step('lock');
    this.check();
    const p = normalizePath(file);
    if (this.locks.has(p)) throw Object.assign(new Error(`${p} is locked`), { code: 'ELOCKED' });
    this.locks.add(p);
    this.after(cut);
    return { path: p, release: async () => void this.locks.delete(p) };
  }

  // ---- used by SimFile ----

  /**
   * Count one operation; if it is the chosen one, crash before it (throws here), or tell the caller
   * to crash inside it (its bytes or entries made, not flushed) or after it (done, but the caller
   * never hears): after(cut) then throws. The caller calls check() again once this resolves: the
   * crash may have come (from another operation) while it waited, and then nothing of it happens.
   */
  async step(what: string): Promise<Cut> {
    const cut = this.stepSync(what);
    const n = this.opts.yields ? this.rng.int(0, this.opts.yields) : 0;
    for (let i = 0; i < n; i++) await Promise.resolve();
    if (this.opts.delay) await this.opts.delay();
    this.check();
    return cut;
  }

  stepSync(what: string): Cut {
    this.check();
    this.ops++;
    if (this.ops !== this.crashAtOp) return 'none';
    const when = this.rng.pick(['before', 'inside', 'after'] as const);
    this.crashNote = `crash ${when} op ${this.ops} (${what})`;
    if (when === 'before') {
      this.crash();
      this.check();
    }
    return when === 'inside' ? 'inside' : 'after';
  }

  /** End an operation: crash now if it was the chosen one. */
  after(cut: Cut): void {
    if (cut !== 'none') {
      this.crash();
      this.check();
    }
  }

  check(): void {
    if (this.crashed) throw new SimCrash(`simulated crash (${this.crashNote || 'by the test'})`);
  }

  /** Record a write or truncate in the page cache (pending until datasync). */
  mutate(node: FileNode, p: Pending): void {
    node.data = applyPending(node.data, p);
    node.pending.push(p);
  }

  /** Make everything written to the file durable. */
  datasync(node: FileNode): void {
    node.durable = Buffer.from(node.data);
    node.pending = [];
  }

  /** Make one write durable by itself (O_DSYNC). */
  writeDurable(node: FileNode, pos: number, bytes: Buffer): void {
    node.durable = applyPending(Buffer.from(node.durable), { kind: 'write', pos, bytes });
  }

  // ---- tree helpers ----

  private lookup(p: string): Node | undefined {
    let cur: Node = this.root;
    for (const part of p.split('/')) {
      if (part === '') continue;
      if (cur.kind !== 'dir') return undefined;
      const next: Node | undefined = cur.entries.get(part);
      if (!next) return undefined;
      cur = next;
    }
    return cur;
  }

  private parent(p: string, op: string): { dir: DirNode; name: string } {
    const slash = p.lastIndexOf('/');
    const dir = this.lookup(slash <= 0 ? '/' : p.slice(0, slash));
    if (!dir) throw fsError('ENOENT', op, p);
    if (dir.kind !== 'dir') throw fsError('ENOTDIR', op, p);
    return { dir, name: p.slice(slash + 1) };
  }

  private setEntry(dir: DirNode, name: string, node: Node | undefined): void {
    if (node) dir.entries.set(name, node);
    else dir.entries.delete(name);
    dir.pending.push({ name, node });
  }
}

class SimFile implements DiskFile {
  constructor(
    private readonly disk: SimDisk,
    private readonly node: FileNode,
    private readonly dsync: boolean,
  ) {}

  async read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const cut = await this.disk.step('read');
    this.disk.check();
    const n = Math.max(0, Math.min(length, this.node.data.length - position));
    buf.set(this.node.data.subarray(position, position + n), offset);
    this.disk.after(cut);
    return n;
  }

  async write(buf: Uint8Array, offset: number, length: number, position: number): Promise<void> {
    const cut = await this.disk.step('write');
    this.disk.check();
    this.doWrite(buf, offset, length, position, cut);
  }

  writeSync(buf: Uint8Array, offset: number, length: number, position: number): void {
    this.doWrite(buf, offset, length, position, this.disk.stepSync('writeSync'));
  }

  private doWrite(buf: Uint8Array, offset: number, length: number, position: number, cut: Cut): void {
    const bytes = Buffer.from(buf.subarray(offset, offset + length));
    this.disk.mutate(this.node, { kind: 'write', pos: position, bytes });
    // Cut inside: the write is the last pending one, which the crash may keep, drop or tear.
    if (cut !== 'inside' && this.dsync) {
      this.node.pending.pop();
      this.disk.writeDurable(this.node, position, bytes);
    }
    this.disk.after(cut);
  }

  async datasync(): Promise<void> {
    const cut = await this.disk.step('datasync');
    this.disk.check();
    if (cut !== 'inside') this.disk.datasync(this.node);
    this.disk.after(cut);
  }

  datasyncSync(): void {
    const cut = this.disk.stepSync('datasyncSync');
    if (cut !== 'inside') this.disk.datasync(this.node);
    this.disk.after(cut);
  }

  async size(): Promise<number> {
    const cut = await this.disk.step('size');
    this.disk.check();
    this.disk.after(cut);
    return this.node.data.length;
  }

  async truncate(length: number): Promise<void> {
    const cut = await this.disk.step('truncate');
    this.disk.check();
    this.disk.mutate(this.node, { kind: 'truncate', length });
    this.disk.after(cut);
  }

  async preallocate(bytes: number): Promise<void> {
    const cut = await this.disk.step('preallocate');
    this.disk.check();
    const size = this.node.data.length;
    if (bytes > size) this.disk.mutate(this.node, { kind: 'write', pos: size, bytes: Buffer.alloc(bytes - size) });
    if (cut !== 'inside') this.disk.datasync(this.node);
    this.disk.after(cut);
  }

  async extendSparse(bytes: number): Promise<void> {
    const cut = await this.disk.step('extendSparse');
    this.disk.check();
    if (bytes > this.node.data.length) this.disk.mutate(this.node, { kind: 'truncate', length: bytes });
    if (cut !== 'inside') this.disk.datasync(this.node);
    this.disk.after(cut);
  }

  async close(): Promise<void> {
    this.disk.after(await this.disk.step('close'));
  }
}
