// Crash tests: a real child process applies a deterministic log and is SIGKILLed by a failpoint before
// a backend batch commit, after one, or in the middle of a physical compaction. After a restart the
// store equals the reference model at the recovered consistent index (nothing applied twice, nothing
// lost that a commit() acknowledged), the index is rebuilt, and finishing the log gives the full model.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Backend } from '../../src/backend/index.js';
import { KvStore } from '../../src/mvcc/index.js';
import { modelAfter } from '../fixtures/mvcc/crash-ops.js';
import { plain } from '../unit/mvcc/helpers.js';
import type { Model } from '../unit/mvcc/model.js';

const child = fileURLToPath(new URL('../fixtures/mvcc/crash-child.ts', import.meta.url));
const entries = 300;
const ALL = Buffer.from([0]);

function runChild(dir: string, seed: number, failpoints?: string): Promise<{ code: number | null; signal: string | null; committed: number }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ETCD_FAILPOINTS: failpoints ?? '' };
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir, String(seed), String(entries)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`child failed (${code}): ${err}`));
      const committed = Math.max(0, ...[...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1])));
      resolve({ code, signal, committed });
    });
  });
}

async function checkAgainstModel(dir: string, seed: number): Promise<number> {
  const backend = await Backend.open(dir);
  try {
    const kv = await KvStore.open(backend);
    const ci = backend.consistentIndex();
    const m: Model = modelAfter(seed, ci);
    expect([kv.rev(), kv.compactRevision()]).toEqual([m.rev, m.compactRev]);
    expect(plain(kv.range(ALL, ALL, {}).kvs)).toEqual(plain(m.dump().kvs));
    for (let rev = Math.max(m.compactRev, 1); rev <= m.rev; rev += 7) {
      expect(plain(kv.range(ALL, ALL, { revision: rev }).kvs), `rev ${rev}`).toEqual(plain(m.range('\0', '\0', { revision: rev }).kvs));
    }
    await kv.settle();
    return ci;
  } finally {
    await backend.close();
  }
}

describe('mvcc crash recovery (SIGKILL at failpoints)', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, number][] = [
    ['backendBeforeCommit=kill@4', 11],
    ['backendAfterCommit=kill@6', 12],
    ['backendBeforeCommit=kill@15', 13],
    ['mvccCompactBatch=kill@3', 14],
    ['mvccCompactBatch=kill@9', 15],
  ];
  it.each(cases)('%s', async (failpoints, seed) => {
    dir = await mkdtemp(join(tmpdir(), 'mvcc-crash-'));
    const first = await runChild(dir, seed, failpoints);
    expect(first.signal).toBe('SIGKILL');
    const recovered = await checkAgainstModel(dir, seed);
    expect(recovered).toBeGreaterThanOrEqual(first.committed);
    expect(recovered).toBeLessThan(entries);
    const second = await runChild(dir, seed);
    expect(second.code).toBe(0);
    expect(await checkAgainstModel(dir, seed)).toBe(entries);
  });
});
