// LevelDB (classic-level) as backend/engine's Engines: the production store under the Backend.
import { readdirSync, statSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { Engine, EngineOp, EngineSnapshot, Engines } from '../backend/engine.js';
import { rawBatch } from './level-hooks.js';
import { fsyncDir } from './fs.js';

class LevelEngine implements Engine {
  constructor(
    private readonly dir: string,
    readonly db: ClassicLevel<Buffer, Buffer>,
  ) {}

  get isOpen(): boolean {
    return this.db.status === 'open';
  }

  getSync(key: Buffer): Buffer | undefined {
    return this.db.getSync(key) ?? undefined;
  }

  snapshot(): EngineSnapshot {
    const snap = this.db.snapshot();
    return {
      getMany: (keys) => this.db.getMany(keys, { snapshot: snap }),
      close: () => snap.close(),
    };
  }

  iterator(range: { gte?: Buffer; lt?: Buffer; highWaterMarkBytes?: number }) {
    return this.db.iterator(range);
  }

  batch(ops: EngineOp[], sync: boolean): Promise<void> {
    return rawBatch(this.db, ops, sync);
  }

  async diskBytes(): Promise<number> {
    let total = 0;
    for (const f of readdirSync(this.dir)) total += statSync(path.join(this.dir, f)).size;
    return total;
  }

  approximateSize(lo: Buffer, hi: Buffer): Promise<number> {
    return this.db.approximateSize(lo, hi);
  }

  compactRange(lo: Buffer, hi: Buffer): Promise<void> {
    return this.db.compactRange(lo, hi);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

export const levelEngines: Engines = {
  async open(dir, opts = {}) {
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', errorIfExists: opts.errorIfExists === true });
    await db.open();
    return new LevelEngine(dir, db);
  },
  async syncFiles(dir) {
    for (const name of await fsp.readdir(dir)) {
      const fh = await fsp.open(path.join(dir, name), 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    await fsyncDir(dir);
  },
};
