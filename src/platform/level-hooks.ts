/*
 * classic-level's private internal we rely on, in one place: `_batch`, the method abstract-level's
 * public batch() ends in. The public batch() clones and re-validates every op (about 7 µs per op:
 * 0.7 s per 100,000 puts); our keys and values are already Buffers. Without the hook the public
 * batch() is used. (Not fenced yet: no version check, switch or metric.)
 */
import type { ClassicLevel } from 'classic-level';
import type { EngineOp } from '../backend/engine.js';

type RawBatch = (ops: EngineOp[], options: { sync: boolean }) => Promise<void>;

export function rawBatch(db: ClassicLevel<Buffer, Buffer>, ops: EngineOp[], sync: boolean): Promise<void> {
  const raw = (db as unknown as { _batch?: RawBatch })._batch;
  if (typeof raw === 'function' && db.status === 'open') return raw.call(db, ops, { sync });
  return db.batch(ops, { sync });
}
