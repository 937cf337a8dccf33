/*
 * Engine: the ordered key-value store under the Backend, as an interface so that production hands it
 * LevelDB (platform/level.ts levelEngines) and the seeded simulation an in-memory one that keeps its
 * batches in a file of the simulated disk (test/sim/member/mem-engine.ts). Keys and values are Buffers;
 * order is bytewise.
 *
 * Contract: a batch is atomic (after a crash all of it or none); a batch written with sync is durable
 * when it resolves, one without may be lost at a crash together with every later batch (a prefix of
 * the batches survives). getSync reads what the batches resolved so far wrote; an iterator reads the
 * state as of its creation, whatever is written later.
 */
export type EngineOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export interface EngineIterator {
  /** Up to n entries in key order; [] at the end. */
  nextv(n: number): Promise<[Buffer, Buffer][]>;
  close(): Promise<void>;
}

/** Point reads of the state as of the snapshot's creation, whatever is written later. */
export interface EngineSnapshot {
  /** The values of `keys` (undefined: absent), in the same order. */
  getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]>;
  close(): Promise<void>;
}

export interface Engine {
  readonly isOpen: boolean;
  getSync(key: Buffer): Buffer | undefined;
  /** The state now, for later reads (close it when done: it pins old versions). */
  snapshot(): EngineSnapshot;
  iterator(range: { gte?: Buffer; lt?: Buffer; highWaterMarkBytes?: number }): EngineIterator;
  batch(ops: EngineOp[], sync: boolean): Promise<void>;
  /** Bytes of the database's files. */
  diskBytes(): Promise<number>;
  /** Approximate bytes holding live data in [lo, hi). */
  approximateSize(lo: Buffer, hi: Buffer): Promise<number>;
  compactRange(lo: Buffer, hi: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface Engines {
  /** Opens (creating if missing) the database in directory `path`; with errorIfExists it must be new. */
  open(path: string, opts?: { errorIfExists?: boolean }): Promise<Engine>;
  /** Makes every file of the (closed) database in `path` durable (LevelDB leaves unsynced writes on close). */
  syncFiles(path: string): Promise<void>;
}
