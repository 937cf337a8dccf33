// `etcdctl check perf --load=LOAD` (etcd's own 60-second write-throughput check) against a fresh
// member of ours and a fresh real etcd, one after the other; prints each verdict. Run by
// `npm run bench:compare -- --check-perf s|m|l|xl`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startDaemon, type Impl } from './daemons.js';

export const ETCDCTL_BIN = '/usr/bin/etcdctl';
const CHECK_TIMEOUT_MS = 180_000; // hang guard; the check itself runs 60 s

export interface CheckPerf { impl: Impl; passed: boolean; summary: string }

function etcdctl(endpoint: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(ETCDCTL_BIN, ['--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b));
    p.stderr.on('data', (b: Buffer) => (out += b));
    const t = setTimeout(() => p.kill('SIGKILL'), CHECK_TIMEOUT_MS);
    p.on('close', (code) => (clearTimeout(t), resolve({ code, out })));
  });
}

export async function checkPerf(load: string): Promise<CheckPerf[]> {
  if (!existsSync(ETCDCTL_BIN)) throw new Error(`${ETCDCTL_BIN} is not installed (apt-get install -y etcd-client)`);
  const out: CheckPerf[] = [];
  for (const impl of ['ours', 'etcd'] as const) {
    const d = await startDaemon(impl);
    try {
      const r = await etcdctl(d.endpoint, ['check', 'perf', `--load=${load}`]);
      // etcdctl prints a progress bar (carriage returns) and then lines like "PASS: Throughput is 151 writes/s"
      const lines = r.out.split(/[\r\n]+/).filter((l) => /^(PASS|FAIL)|^Slowest|^Stddev|^Error/i.test(l.trim()));
      out.push({ impl, passed: r.code === 0, summary: lines.join('; ') || r.out.slice(-300) });
      console.log(`check perf --load=${load} ${impl}: exit ${r.code}: ${out.at(-1)!.summary}`);
    } finally {
      await d.stop();
    }
  }
  return out;
}
