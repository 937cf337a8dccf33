// `npx tsx bench/lib/cpuprofile-top.ts FILE.cpuprofile [N]`: the top N functions by self time of a
// V8 CPU profile (node --cpu-prof), with file:line, the top files, self time by layer (grpc-js, protobuf,
// LevelDB, each of our rooms) and our own functions by inclusive time. Used to find the
// server's top costs under a bench case (see docs/benchmarks.md, "Compared with etcd").
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const GROUPS: [string, RegExp][] = [
  ['idle', /^\(idle\)/],
  ['gc', /^\(garbage collector\)/],
  ['grpc-js + node:http2 (transport, framing, metadata)', /node_modules\/@grpc|node:internal\/http2/],
  ['protobuf (de)serialisation, Long', /node_modules\/(protobufjs|long|@protobufjs)|\$(encode|decode|toObject|fromObject)|\(anonymous\) $/],
  ['LevelDB (classic-level, abstract-level)', /classic-level|abstract-level|level-transcoder|module-error/],
  ['ours: raft', / (dist|src)\/raft\//],
  ['ours: wal', / (dist|src)\/wal\//],
  ['ours: mvcc', / (dist|src)\/mvcc\//],
  ['ours: backend', / (dist|src)\/backend\//],
  ['ours: server', / (dist|src)\/server\//],
  ['ours: api', / (dist|src)\/api\//],
  ['ours: other', / (dist|src)\//],
  ['node core (events, streams, buffers, timers, fs)', /node:/],
];

/** Self time summed by coarse layer (first matching group of each function's "name file:line"). */
export function groups(fns: [string, number][]): [string, number][] {
  const out = new Map<string, number>();
  for (const [k, us] of fns) {
    const g = GROUPS.find(([, re]) => re.test(k))?.[0] ?? 'other (native, program)';
    out.set(g, (out.get(g) ?? 0) + us);
  }
  return [...out].sort((a, b) => b[1] - a[1]);
}

/** Inclusive time of our own functions (dist/ or src/ of this project): each sample counted once per function on its stack. */
export function topInclusive(p: Profile, n: number): [string, number][] {
  const parent = new Map<number, number>();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const incl = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i + 1] ?? 0;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      const m = /\/(?:dist|src)\/(.*)$/.exec(cf.url);
      if (!m || cf.url.includes('node_modules')) continue;
      const k = `${m[1]!.replace(/\.js$/, '.ts')}:${cf.functionName || '(anonymous)'}`;
      if (!seen.has(k)) (seen.add(k), incl.set(k, (incl.get(k) ?? 0) + us));
    }
  });
  return [...incl].sort((a, b) => b[1] - a[1]).slice(0, n);
}

export function topSelf(p: Profile, n: number): { total: number; fns: [string, number][]; files: [string, number][]; all: [string, number][] } {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0)));
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const url = cf.url.replace(/^file:\/\//, '');
    const file = url.includes('/node_modules/')
      ? url.replace(/^.*\/node_modules\//, 'node_modules/').replace(/^(node_modules\/@grpc\/grpc-js)\/build\/src\//, '$1/')
      : url.replace(/^.*\/(src|dist|bench)\//, '$1/');
    const key = `${cf.functionName || '(anonymous)'} ${file}${file ? ':' + (cf.lineNumber + 1) : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const fk = file || `(${cf.functionName})`;
    files.set(fk, (files.get(fk) ?? 0) + us);
    total += us;
  }
  const top = (m: Map<string, number>, k = n): [string, number][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
  return { total, fns: top(fns), files: top(files), all: top(fns, Infinity) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const p = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Profile;
  const { total, fns, files, all } = topSelf(p, Number(process.argv[3] ?? 25));
  const pct = (us: number): string => ((100 * us) / total).toFixed(1).padStart(5) + '%';
  console.log(`sampled ${(total / 1e6).toFixed(2)} s; top functions by self time:`);
  for (const [k, us] of fns) console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  console.log('top files by self time:');
  for (const [k, us] of files) console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  console.log('self time by layer:');
  for (const [k, us] of groups(all)) console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  console.log('our functions by inclusive time:');
  for (const [k, us] of topInclusive(p, Number(process.argv[3] ?? 25))) console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
}
