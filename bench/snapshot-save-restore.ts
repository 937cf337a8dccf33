// Snapshot save and restore next to real etcd 3.4.23, bbolt files both ways.
//
//   npx tsx bench/snapshot-save-restore.ts [--keys N] [--rounds R] [--txn OPS] [--history] [--compact] [--skip-restore] [--ours-only] [--cpu-prof DIR] [--keep DIR]
//
// One member of ours and one of etcd (same flags, 127.0.0.1, --max-txn-ops OPS) each get N keys
// (`key-<8 digits>`, 100-byte values) through the /v3 JSON gateway, OPS puts per txn, four txns in
// flight. Then R rounds, ours first in odd rounds and etcd first in even ones: `etcdctl snapshot
// save` against the member (wall time of etcdctl; the member's CPU (user + system, all threads, from
// /proc) during it; the member's peak RSS during it, its VmHWM after a reset by /proc/PID/clear_refs).
// The members are stopped, then R rounds of restores, alternating the same way: each file by real
// `etcdctl snapshot restore` and by our `bin/etcdutl snapshot restore` (wall time and CPU of the
// process, node's start included). Prints one JSON line per measurement and the medians. --cpu-prof:
// our member runs under V8's CPU profiler (bench/lib/cpu-prof-preload.mjs) and leaves its profile in
// DIR when stopped; read it with `npx tsx bench/lib/cpuprofile-top.ts FILE`. --keep DIR: the members'
// data dirs are DIR/ours-N and DIR/etcd-N, kept after the run; a later run with the same DIR and N
// starts the members on them and skips the load (a 1M-key load takes minutes). --history: after
// the load, every fifth key is put again (20% of the keys get a second revision, a new 100-byte
// value) and every hundredth deleted (1%: a tombstone), in txns of OPS; with --compact, then a
// compaction at the revision halfway through the overwrites (the older half of the history goes,
// the newer stays). The data dirs are then DIR/ours-N-history (-compacted).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ROOT, startEtcd, startMember, tempDir, type Member } from '../test/integration/harness.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}
const n = arg('keys', 100_000);
const rounds = arg('rounds', 3);
const txnOps = arg('txn', 1000);
const skipRestore = process.argv.includes('--skip-restore');
/** --ours-only: no etcd member (profiling runs). */
const oursOnly = process.argv.includes('--ours-only');
const profDir = process.argv.includes('--cpu-prof') ? process.argv[process.argv.indexOf('--cpu-prof') + 1] : undefined;
const keepDir = process.argv.includes('--keep') ? process.argv[process.argv.indexOf('--keep') + 1] : undefined;
const history = process.argv.includes('--history') || process.argv.includes('--compact');
const compact = process.argv.includes('--compact');
const value = Buffer.alloc(100, 'v').toString('base64');
const value2 = Buffer.alloc(100, 'w').toString('base64');
const CLK_TCK = 100;

const keyB64 = (i: number): string => Buffer.from(`key-${String(i).padStart(8, '0')}`).toString('base64');

/** Runs `ops` (JSON gateway txn request ops) in txns of txnOps, four in flight; the last revision. */
async function txns(m: Member, ops: object[]): Promise<number> {
  let next = 0;
  let rev = 0;
  const worker = async (): Promise<void> => {
    while (next < ops.length) {
      const success = ops.slice(next, (next = Math.min(ops.length, next + txnOps)));
      const r = await fetch(`${m.clientUrl}/v3/kv/txn`, { method: 'POST', body: JSON.stringify({ success }) });
      if (!r.ok) throw new Error(`txn: ${r.status} ${await r.text()}`);
      rev = Math.max(rev, Number(((await r.json()) as { header: { revision: string } }).header.revision));
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return rev;
}

async function load(m: Member): Promise<number> {
  const t0 = Date.now();
  for (let first = 0; first < n; first += 100_000) {
    const ops = [];
    for (let i = first; i < Math.min(n, first + 100_000); i++) ops.push({ request_put: { key: keyB64(i), value } });
    await txns(m, ops);
  }
  if (history) {
    const half: object[] = [];
    const rest: object[] = [];
    for (let i = 0; i < n; i += 5) (i < n / 2 ? half : rest).push({ request_put: { key: keyB64(i), value: value2 } });
    const mid = await txns(m, half);
    await txns(m, rest);
    const dels = [];
    for (let i = 1; i < n; i += 100) dels.push({ request_delete_range: { key: keyB64(i) } });
    await txns(m, dels);
    if (compact) {
      const r = await fetch(`${m.clientUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(mid), physical: true }) });
      if (!r.ok) throw new Error(`compaction: ${r.status} ${await r.text()}`);
    }
  }
  return Date.now() - t0;
}

/** user + system CPU seconds of all the process's threads. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function statusKb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

/** Runs a command under /usr/bin/time: wall seconds, CPU seconds, peak RSS MB. */
function timed(cmd: string, args: string[]): { wallS: number; cpuS: number; rssMb: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '@@ %e %U %S %M', cmd, ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  const m = /@@ ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')}: ${r.status}\n${r.stderr}`);
  return { wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]), rssMb: Math.round(Number(m[4]) / 1024) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const results: Record<string, Record<string, number>[]> = {};
function record(name: string, r: Record<string, number>): void {
  (results[name] ??= []).push(r);
  console.log(JSON.stringify({ name, ...r }));
}

async function main(): Promise<void> {
  const dir = await tempDir('bench-snap-');
  const flags = { args: ['--max-txn-ops', String(txnOps), '--quota-backend-bytes', String(8 * 1024 ** 3)] };
  if (keepDir) mkdirSync(keepDir, { recursive: true });
  const suffix = compact ? '-history-compacted' : history ? '-history' : '';
  const dataOf = (impl: string) => (keepDir ? { dataDir: join(keepDir, `${impl}-${n}${suffix}`) } : {});
  const loaded = (impl: string) => (keepDir ? join(keepDir, `${impl}-${n}${suffix}.loaded`) : '');
  try {
    const members = {
      ours: await startMember({ ...flags, ...dataOf('ours'), env: profDir ? { NODE_OPTIONS: `--import=${join(ROOT, 'bench/lib/cpu-prof-preload.mjs')}`, CPU_PROF_FILE: join(profDir, 'ours') } : {} }),
      etcd: oursOnly ? undefined : await startEtcd({ ...flags, ...dataOf('etcd') }),
    };
    const impls = oursOnly ? (['ours'] as const) : (['ours', 'etcd'] as const);
    for (const impl of impls) {
      const m = members[impl] as Member;
      if (keepDir && existsSync(loaded(impl))) {
        console.log(JSON.stringify({ impl, keys: n, reused: m.dataDir, rssMb: Math.round(statusKb(m.pid, 'VmRSS') / 1024) }));
        continue;
      }
      const loadMs = await load(m);
      if (keepDir) writeFileSync(loaded(impl), '');
      console.log(JSON.stringify({ impl, keys: n, loadMs, rssMb: Math.round(statusKb(m.pid, 'VmRSS') / 1024) }));
    }
    const files = { ours: join(dir, 'ours.db'), etcd: join(dir, 'etcd.db') };
    for (let r = 1; r <= rounds; r++) {
      for (const impl of r % 2 ? impls : [...impls].reverse()) {
        const m = members[impl] as Member;
        rmSync(files[impl], { force: true });
        writeFileSync(`/proc/${m.pid}/clear_refs`, '5');
        const rssBefore = statusKb(m.pid, 'VmRSS') / 1024;
        const cpu0 = cpuOf(m.pid);
        const t0 = process.hrtime.bigint();
        const ctl = timed('/usr/bin/etcdctl', ['--endpoints', m.endpoint, 'snapshot', 'save', files[impl]]);
        const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
        record(`save ${impl}`, {
          round: r, wallS, serverCpuS: cpuOf(m.pid) - cpu0, etcdctlCpuS: ctl.cpuS, rssBeforeMb: Math.round(rssBefore),
          peakRssMb: Math.round(statusKb(m.pid, 'VmHWM') / 1024), fileMb: statSync(files[impl]).size / 1e6,
        });
      }
    }
    await members.ours.stop();
    await members.etcd?.stop();
    if (!skipRestore && !oursOnly) {
      const etcdctl = (file: string, d: string) => timed('/usr/bin/etcdctl', ['snapshot', 'restore', file, '--data-dir', d]);
      const etcdutl = (file: string, d: string) => timed(process.execPath, [join(ROOT, 'bin/etcdutl'), 'snapshot', 'restore', file, '--data-dir', d]);
      const tools = { etcdctl, etcdutl };
      for (let r = 1; r <= rounds; r++) {
        const order = r % 2 ? (['etcdutl', 'etcdctl'] as const) : (['etcdctl', 'etcdutl'] as const);
        for (const file of ['ours', 'etcd'] as const) {
          for (const tool of order) {
            const d = join(dir, `restored-${file}-${tool}`);
            rmSync(d, { recursive: true, force: true });
            record(`restore ${file}.db by ${tool}`, { round: r, ...tools[tool](files[file], d) });
            rmSync(d, { recursive: true, force: true });
          }
        }
      }
    }
    console.log('medians:');
    for (const [name, rs] of Object.entries(results)) {
      const keys = Object.keys(rs[0] as object).filter((k) => k !== 'round');
      console.log(`${name}: ${keys.map((k) => `${k} ${+median(rs.map((x) => x[k] as number)).toFixed(2)}`).join(', ')}`);
    }
  } finally {
    await cleanup();
  }
}

await main();
