// Snapshot save and restore next to real etcd 3.4.23: loads N keys (default 100,000, 100-byte values)
// into one member of ours and one of etcd through the /v3 JSON gateway, then times `etcdctl snapshot
// save` against each, real `etcdctl snapshot restore` of etcd's file and `bin/etcdutl snapshot
// restore` of ours. Run by hand: npx tsx bench/snapshot-save-restore.ts [N]
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ROOT, startEtcd, startMember, tempDir, type Member } from '../test/integration/harness.js';

const n = Number(process.argv[2] ?? 100_000);
const value = Buffer.alloc(100, 'v').toString('base64');

async function load(m: Member): Promise<number> {
  let next = 0;
  const t0 = Date.now();
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const key = Buffer.from(`key-${String(i).padStart(8, '0')}`).toString('base64');
      const r = await fetch(`${m.clientUrl}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key, value }) });
      if (!r.ok) throw new Error(`put: ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return Date.now() - t0;
}

function timed(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' } });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const dir = await tempDir('bench-snap-');
  try {
    for (const [impl, start] of [['ours', startMember], ['etcd', startEtcd]] as const) {
      const m = await start();
      const loadMs = await load(m);
      const file = join(dir, `${impl}.db`);
      const saveMs = timed('/usr/bin/etcdctl', ['--endpoints', m.endpoint, 'snapshot', 'save', file]);
      await m.stop();
      const restoreArgs = (d: string) => ['snapshot', 'restore', file, '--data-dir', d];
      const etcdRestoreMs = timed('/usr/bin/etcdctl', restoreArgs(join(dir, `${impl}-by-etcdctl`)));
      const oursRestoreMs = timed(process.execPath, [join(ROOT, 'bin/etcdutl'), ...restoreArgs(join(dir, `${impl}-by-etcdutl`))]);
      console.log(JSON.stringify({ impl, keys: n, loadMs, fileBytes: statSync(file).size, saveMs: Math.round(saveMs),
        restoreByEtcdctlMs: Math.round(etcdRestoreMs), restoreByEtcdutlMs: Math.round(oursRestoreMs) }));
    }
  } finally {
    await cleanup();
  }
}

await main();
