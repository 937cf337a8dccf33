// Taking over a real etcd 3.4.23 data dir (issue 16): N keys put into etcd (64 clients over the
// JSON gateway), a compaction, etcd stopped; then, side by side, how long etcd takes to restart on
// its own data dir (to healthy) and how long ours takes to take over a copy of it (to healthy), and
// whether ours serves the same revision and key count.
// Run: npx tsx bench/etcd-takeover.ts [N=10000]
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cleanup, startEtcd, startMember, tempDir, type Member } from '../test/integration/harness.js';

const n = Number(process.argv[2] ?? 10_000);
const value = Buffer.alloc(100, 'v').toString('base64');

async function load(m: Member): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const key = Buffer.from(`key-${String(next++).padStart(8, '0')}`).toString('base64');
      const r = await fetch(`${m.clientUrl}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key, value }) });
      if (!r.ok) throw new Error(`put: ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}

async function count(m: Member): Promise<{ revision: string; count: string }> {
  const r = await fetch(`${m.clientUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: 'AA==', range_end: 'AA==', count_only: true }) });
  const j = (await r.json()) as { header: { revision: string }; count: string };
  return { revision: j.header.revision, count: j.count };
}

async function main(): Promise<void> {
  try {
    const etcd = await startEtcd();
    await load(etcd);
    await fetch(`${etcd.clientUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(Math.floor(n / 2)) }) });
    const want = await count(etcd);
    await etcd.stop();
    const copy = join(await tempDir('bench-takeover-'), 'data');
    execFileSync('cp', ['-a', etcd.dataDir, copy]);
    let t0 = Date.now();
    const again = await startEtcd({ dataDir: etcd.dataDir });
    const etcdMs = Date.now() - t0;
    await again.stop();
    t0 = Date.now();
    const ours = await startMember({ dataDir: copy });
    const oursMs = Date.now() - t0;
    const got = await count(ours);
    await ours.stop();
    console.log(JSON.stringify({ keys: n, etcdRestartMs: etcdMs, oursTakeoverMs: oursMs, etcd: want, ours: got, same: JSON.stringify(want) === JSON.stringify(got) }));
  } finally {
    await cleanup();
  }
}

await main();
