// When no worker thread can be started (ERR_WORKER_INIT_FAILED, a thread limit), the snapshot's
// sha256 is computed inline rather than failing the save.
import { createHash } from 'node:crypto';
import { expect, it, vi } from 'vitest';

vi.mock('node:worker_threads', () => ({
  Worker: class {
    constructor() {
      throw new Error('ERR_WORKER_INIT_FAILED');
    }
  },
}));
const { workerSha256 } = await import('../../../src/platform/sha256-worker.js');

it('hashes inline when no worker can be started', async () => {
  const h = workerSha256();
  const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  expect(h.update(data)).toBeUndefined();
  expect((await h.digest()).equals(createHash('sha256').update(data).digest())).toBe(true);
  h.close();
});
