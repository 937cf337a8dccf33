// Closing the backend while compaction and watch catch-up are still running stops them quietly.
import { expect, it } from 'vitest';
import { Backend } from '../../../src/backend/index.js';
import { KvStore } from '../../../src/mvcc/index.js';
import { B, tempDir } from './helpers.js';

it('close during background compaction and catch-up: no unhandled error, compaction resumes at open', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await closeWhileBusy(dir);
  } finally {
    await cleanup();
  }
});

async function closeWhileBusy(dir: string): Promise<void> {
  const backend = await Backend.open(dir);
  const kv = await KvStore.open(backend, { compactionBatchLimit: 2 });
  for (let i = 0; i < 300; i++) kv.put(i + 1, { key: B(`k${i % 3}`), value: B('v') });
  const ws = kv.watchStream();
  ws.watch({ key: B('k'), rangeEnd: B('l'), startRevision: 250 });
  kv.compact(301, 200);
  await backend.close();
  await kv.settle();
  const again = await Backend.open(dir);
  const kv2 = await KvStore.open(again);
  await kv2.settle();
  expect(kv2.compactRevision()).toBe(200);
  expect(kv2.range(B('k'), B('l'), { revision: 200 }).count).toBe(3);
  await again.close();
}
