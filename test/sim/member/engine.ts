/*
 * The simulation's backend store (src/backend/engine.ts's Engines): an ordered map in memory whose
 * batches are appended to one log file on the member's simulated disk, so a crash takes from it what
 * the disk forgets. Record: [u32 BE payload length][u32 BE crc32c(payload)][payload], payload a
 * list of ops [u8 1 = put | 0 = del][u32 key length][key][u32 value length][value]. Opening replays
 * the log up to the first short or damaged record and cuts the file there (LevelDB's log recovery),
 * so a prefix of the batches survives; a batch written with sync is datasync'ed before it resolves.
 */
import * as sortedBtree from 'sorted-btree';
import type { Engine, EngineIterator, EngineOp, EngineSnapshot, Engines } from '../../../src/backend/engine.js';
import { crc32c } from '../../../src/pkg/crc32c.js';
import { exists, type Disk, type DiskFile } from '../../../src/pkg/disk.js';
import { dirnamePath, joinPath } from '../../../src/pkg/path.js';

type Tree = import('sorted-btree').default<string, Buffer>;
const mod = sortedBtree as unknown as { default: unknown };
const BTree = (typeof mod.default === 'function' ? mod.default : (mod.default as { default: unknown }).default) as new () => Tree;

const LOG = 'LOG';

function encode(ops: EngineOp[]): Buffer {
  let n = 0;
  for (const op of ops) n += 9 + op.key.length + (op.type === 'put' ? op.value.length : 0);
  const b = Buffer.allocUnsafe(8 + n);
  let o = 8;
  for (const op of ops) {
    b[o++] = op.type === 'put' ? 1 : 0;
    b.writeUInt32BE(op.key.length, o);
    o += 4;
    op.key.copy(b, o);
    o += op.key.length;
    const v = op.type === 'put' ? op.value : Buffer.alloc(0);
    b.writeUInt32BE(v.length, o);
    o += 4;
    v.copy(b, o);
    o += v.length;
  }
  b.writeUInt32BE(n, 0);
  b.writeUInt32BE(crc32c(b.subarray(8)), 4);
  return b;
}

/** Applies every whole, intact record; returns the bytes they span. */
function replay(buf: Buffer, tree: Tree): number {
  let o = 0;
  while (o + 8 <= buf.length) {
    const n = buf.readUInt32BE(o);
    if (n === 0 || o + 8 + n > buf.length) break;
    const payload = buf.subarray(o + 8, o + 8 + n);
    if (crc32c(payload) !== buf.readUInt32BE(o + 4)) break;
    let p = 0;
    while (p < payload.length) {
      const put = payload[p++] === 1;
      const kl = payload.readUInt32BE(p);
      const key = payload.subarray(p + 4, p + 4 + kl).toString('latin1');
      p += 4 + kl;
      const vl = payload.readUInt32BE(p);
      const value = Buffer.from(payload.subarray(p + 4, p + 4 + vl));
      p += 4 + vl;
      if (put) tree.set(key, value);
      else tree.delete(key);
    }
    o += 8 + n;
  }
  return o;
}

class DiskLogEngine implements Engine {
  isOpen = true;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private tree: Tree,
    private readonly fh: DiskFile,
    private end: number,
  ) {}

  getSync(key: Buffer): Buffer | undefined {
    return this.tree.get(key.toString('latin1'));
  }

  snapshot(): EngineSnapshot {
    const snap = this.tree.clone();
    return {
      getMany: async (keys) => keys.map((k) => snap.get(k.toString('latin1'))),
      close: async () => undefined,
    };
  }

  iterator(range: { gte?: Buffer; lt?: Buffer }): EngineIterator {
    const snap = this.tree.clone();
    const lo = range.gte?.toString('latin1');
    const hi = range.lt?.toString('latin1');
    const it = snap.entries(lo);
    let done = false;
    return {
      nextv: async (n) => {
        const out: [Buffer, Buffer][] = [];
        while (!done && out.length < n) {
          const r = it.next();
          if (r.done || (hi !== undefined && r.value[0] >= hi)) {
            done = true;
            break;
          }
          out.push([Buffer.from(r.value[0], 'latin1'), r.value[1]]);
        }
        return out;
      },
      close: async () => {
        done = true;
      },
    };
  }

  batch(ops: EngineOp[], sync: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      if (!this.isOpen) throw new Error('engine closed');
      const rec = encode(ops);
      await this.fh.write(rec, 0, rec.length, this.end);
      this.end += rec.length;
      if (sync) await this.fh.datasync();
      for (const op of ops) {
        if (op.type === 'put') this.tree.set(op.key.toString('latin1'), op.value);
        else this.tree.delete(op.key.toString('latin1'));
      }
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  async diskBytes(): Promise<number> {
    return this.end;
  }

  async approximateSize(): Promise<number> {
    return this.end;
  }

  async compactRange(): Promise<void> {}

  async close(): Promise<void> {
    if (!this.isOpen) return;
    this.isOpen = false;
    await this.chain;
    await this.fh.close();
  }
}

/** Engines over a disk (the member's simulated one). */
export function diskLogEngines(disk: () => Disk): Engines {
  return {
    async open(dir, opts = {}) {
      const d = disk();
      const file = joinPath(dir, LOG);
      const had = await exists(d, file);
      if (had && opts.errorIfExists) throw new Error(`${dir} exists (errorIfExists)`);
      if (!had) {
        await d.mkdir(dir, { recursive: true });
        await d.fsyncDir(dirnamePath(dir));
        const fh = await d.open(file, 'create');
        await fh.close();
        await d.fsyncDir(dir);
      }
      const tree = new BTree();
      const buf = await d.readFile(file);
      const good = replay(buf, tree);
      const fh = await d.open(file, 'readwrite');
      if (good < buf.length) {
        await fh.truncate(good);
        await fh.datasync();
      }
      return new DiskLogEngine(tree, fh, good);
    },
    async syncFiles(dir) {
      const d = disk();
      const fh = await d.open(joinPath(dir, LOG), 'readwrite');
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await d.fsyncDir(dir);
    },
  };
}
