// `npx tsx bench/restart.ts [--keys N] [--rounds R] [--dir D] [--ours ROOT ...] [--no-etcd]`: the
// restart of a member holding N keys (default 100,000) of 256 bytes, ours against real etcd 3.4.23.
// Once per --dir (kept, so later runs reuse it): a fresh member of each kind is loaded through etcd's
// benchmark tool (.cache/etcd-benchmark/benchmark, bench/build-etcd-benchmark.sh) or, without it,
// the JSON gateway, then stopped gracefully (SIGTERM): those data dirs are the templates. Each
// sample spawns a member on a copy of its template and reports CPU (utime + stime of all threads,
// /proc/PID/stat) and wall time from spawn until a linearizable range answers 200 through the JSON
// gateway (and the minor page faults until then: memory touched for the first time), and RSS 1 s
// after that. Each --ours ROOT (a package root holding bin/etcd, dist/ and
// proto/; default this checkout; repeat to compare builds, e.g. a copy made before a change) and
// etcd are alternated, R rounds (default 3), medians printed. Prints the load average too: on a
// shared machine read CPU before wall. `--debug` keeps ours' "start step" lines of the last round.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ETCD_BIN, freePort, memberFlags, ready, ROOT, stopChild } from './lib/daemons.js';
import { etcdBenchmarkAvailable, etcdBenchmarkBin } from './lib/etcd-benchmark.js';
import { cpuSeconds, rssMb } from './lib/proc.js';

interface Kind { name: string; cmd: string; pre: string[]; impl: 'ours' | 'etcd' }
interface Sample { cpuMs: number; wallMs: number; rssMb: number; faults: number }

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const keys = Number(opt('--keys') ?? 100_000);
const rounds = Number(opt('--rounds') ?? 3);
const dir = resolve(opt('--dir') ?? join(tmpdir(), `restart-bench-${keys}`));
const debug = args.includes('--debug');
const oursRoots = args.flatMap((a, i) => (a === '--ours' ? [resolve(args[i + 1]!)] : []));
if (oursRoots.length === 0) oursRoots.push(ROOT);
const kinds: Kind[] = oursRoots.map((r, i) => ({ name: oursRoots.length > 1 ? `ours#${i} ${r}` : 'ours', cmd: process.execPath, pre: [join(r, 'bin/etcd')], impl: 'ours' }));
if (!args.includes('--no-etcd')) kinds.push({ name: 'etcd 3.4.23', cmd: ETCD_BIN, pre: [], impl: 'etcd' });

async function spawnMember(k: Kind, dataDir: string, extra: string[] = []): Promise<{ child: ReturnType<typeof spawn>; endpoint: string; t0: number; out: () => string }> {
  const [cp, pp] = [await freePort(), await freePort()];
  let out = '';
  const t0 = performance.now();
  const child = spawn(k.cmd, [...k.pre, ...memberFlags(dataDir, cp, pp), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const add = (d: Buffer): void => {
    out = (out + d.toString()).slice(-256 * 1024);
  };
  child.stdout!.on('data', add);
  child.stderr!.on('data', add);
  return { child, endpoint: `127.0.0.1:${cp}`, t0, out: () => out };
}

async function load(endpoint: string): Promise<void> {
  if (etcdBenchmarkAvailable()) {
    const c = spawn(etcdBenchmarkBin(), ['put', `--endpoints=${endpoint}`, '--conns=100', '--clients=1000', `--total=${keys}`, `--key-space-size=${keys}`,
      '--sequential-keys', '--key-size=8', '--val-size=256'], { stdio: 'ignore' });
    const code = await new Promise<number | null>((r) => c.once('exit', r));
    if (code !== 0) throw new Error(`benchmark put exited ${code}`);
    return;
  }
  const value = Buffer.alloc(256, 'v').toString('base64');
  for (let i = 0; i < keys; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, keys - i) }, async (_, j) => {
      const key = Buffer.from(String(i + j).padStart(8, '0')).toString('base64');
      const r = await fetch(`http://${endpoint}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key, value }) });
      if (r.status !== 200) throw new Error(`put: ${r.status} ${await r.text()}`);
    }));
  }
}

function template(k: Kind): string {
  return join(dir, k.impl === 'etcd' ? 'etcd' : 'ours');
}

async function prepare(k: Kind): Promise<void> {
  const t = template(k);
  if (existsSync(join(t, 'member'))) return;
  rmSync(t, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`loading ${keys} keys into ${t} (${k.name})`);
  const m = await spawnMember(k, t);
  try {
    await ready(m.endpoint, m.child);
    await load(m.endpoint);
  } finally {
    await stopChild(m.child, 'SIGTERM');
  }
}

async function sample(k: Kind, keepLog: boolean): Promise<Sample & { log?: string }> {
  const work = mkdtempSync(join(tmpdir(), 'restart-run-'));
  const dataDir = join(work, 'data');
  cpSync(template(k), dataDir, { recursive: true });
  const m = await spawnMember(k, dataDir, k.impl === 'ours' && keepLog ? ['--log-level', 'debug'] : []);
  try {
    await ready(m.endpoint, m.child);
    const wallMs = performance.now() - m.t0;
    const cpuMs = (cpuSeconds(m.child.pid!) ?? NaN) * 1000;
    const faults = minorFaults(m.child.pid!);
    await new Promise((r) => setTimeout(r, 1000));
    const rss = rssMb(m.child.pid!) ?? NaN;
    return { cpuMs, wallMs, rssMb: rss, faults, log: keepLog ? m.out() : undefined };
  } finally {
    await stopChild(m.child, 'SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

/** Minor page faults of the process so far (/proc/PID/stat field 10). */
function minorFaults(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[10 - 3]);
  } catch {
    return NaN;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

for (const k of kinds) await prepare(k);
const results = new Map<string, Sample[]>(kinds.map((k) => [k.name, []]));
const lastLog = new Map<string, string>();
console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? [...kinds].reverse() : kinds;
  for (const k of order) {
    const s = await sample(k, debug && r === rounds - 1);
    results.get(k.name)!.push(s);
    if (s.log && k.impl === 'ours') lastLog.set(k.name, s.log);
    console.log(`round ${r + 1} ${k.name.padEnd(12)} CPU ${s.cpuMs.toFixed(0)} ms, wall ${s.wallMs.toFixed(0)} ms, ${s.faults} page faults, RSS ${s.rssMb.toFixed(1)} MB (load ${loadavg()[0]!.toFixed(2)})`);
  }
}
console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`medians of ${rounds} (${keys} keys):`);
for (const k of kinds) {
  const s = results.get(k.name)!;
  console.log(`  ${k.name.padEnd(12)} CPU ${median(s.map((x) => x.cpuMs)).toFixed(0)} ms, wall ${median(s.map((x) => x.wallMs)).toFixed(0)} ms, ${median(s.map((x) => x.faults)).toFixed(0)} page faults, RSS ${median(s.map((x) => x.rssMb)).toFixed(1)} MB`);
}
for (const [name, log] of lastLog) {
  console.log(`start steps of ${name}, last round:`);
  for (const line of log.split('\n')) {
    if (!line.includes('start step')) continue;
    try {
      const j = JSON.parse(line) as { step: string; ms: number; cpuMs: number; faults?: number; sinceStartMs: number };
      const faults = j.faults === undefined ? '' : `, ${String(j.faults).padStart(6)} page faults`;
      console.log(`  ${String(j.step).padEnd(28)} ${String(j.ms).padStart(5)} ms, CPU ${String(j.cpuMs).padStart(5)} ms${faults}, at ${j.sinceStartMs} ms`);
    } catch {
      console.log(`  ${line}`);
    }
  }
}
