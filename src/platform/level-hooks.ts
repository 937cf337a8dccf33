/*
 * classic-level's private internals, fenced (hook-fence.ts): the only module that names them.
 *
 * `_batch`: the method abstract-level's public batch() ends in. The public batch() clones and
 * re-validates every op (about 7 µs per op: 0.7 s per 100,000 puts); our keys and values are already
 * Buffers. Fallback: the public batch(), same writes, same durability (sync).
 */
import { ClassicLevel } from 'classic-level';
import type { EngineOp } from '../backend/engine.js';
import { Fence, installedVersion, type Hook } from './hook-fence.js';

/** classic-level versions these hooks were tested with (package.json pins one of them). */
export const CLASSIC_LEVEL_TESTED: readonly string[] = ['3.0.0'];

type RawBatch = (ops: EngineOp[], options: { sync: boolean }) => Promise<void>;

export function classicLevelFence(version = installedVersion('classic-level'), env: NodeJS.ProcessEnv = process.env): { fence: Fence; batch: Hook } {
  const fence = new Fence('classic-level', CLASSIC_LEVEL_TESTED, version, env);
  return { fence, batch: fence.hook('_batch') };
}

const hooks = classicLevelFence();

/** Whether classic-level still has the private member (a test fails when a release drops it). */
export function batchHookPresent(): boolean {
  return typeof (ClassicLevel.prototype as unknown as { _batch?: unknown })._batch === 'function';
}

export function rawBatch(db: ClassicLevel<Buffer, Buffer>, ops: EngineOp[], sync: boolean, hook: Hook = hooks.batch): Promise<void> {
  const raw = hook.take<RawBatch>((db as unknown as { _batch?: unknown })._batch);
  if (raw !== undefined && db.status === 'open') return raw.call(db, ops, { sync });
  return db.batch(ops, { sync });
}
