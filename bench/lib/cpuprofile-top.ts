// `npx tsx bench/lib/cpuprofile-top.ts FILE.cpuprofile [N]`: the top N functions by self time of a
// V8 CPU profile (node --cpu-prof), with file:line, plus the top files by self time. Used to find the
// server's top costs under a bench case (see docs/benchmarks.md, "Compared with etcd").
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export function topSelf(p: Profile, n: number): { total: number; fns: [string, number][]; files: [string, number][] } {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0)));
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const file = cf.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/').replace(/^.*\/(src|dist|bench)\//, '$1/');
    const key = `${cf.functionName || '(anonymous)'} ${file}${file ? ':' + (cf.lineNumber + 1) : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const fk = file || `(${cf.functionName})`;
    files.set(fk, (files.get(fk) ?? 0) + us);
    total += us;
  }
  const top = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { total, fns: top(fns), files: top(files) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const p = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Profile;
  const { total, fns, files } = topSelf(p, Number(process.argv[3] ?? 25));
  const pct = (us: number): string => ((100 * us) / total).toFixed(1).padStart(5) + '%';
  console.log(`sampled ${(total / 1e6).toFixed(2)} s; top functions by self time:`);
  for (const [k, us] of fns) console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  console.log('top files by self time:');
  for (const [k, us] of files) console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
}
