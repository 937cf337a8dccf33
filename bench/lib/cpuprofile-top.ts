// `npx tsx bench/lib/cpuprofile-top.ts FILE.cpuprofile [N [REQUESTS]]`: the top N functions by self time of a
// V8 CPU profile (node --cpu-prof), with file:line, the top files, self time by layer (grpc-js, protobuf,
// LevelDB, each of our rooms), our own functions by inclusive time, and the busy time by part of the
// request path (per request when REQUESTS, the requests the profile covers, is given). Used to find the
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

/** A put's path by part: the room (or file) of the innermost frame of ours on a sample's stack. */
const PARTS: [string, RegExp][] = [
  ['HTTP/2 (platform/h2: frames, HPACK, socket writes)', /(dist|src)\/platform\/h2\//],
  ['gRPC call (api/v3/h2-call, h2-grpc, receive checks)', /(dist|src)\/api\/v3\/(h2-call|h2-grpc|grpc-receive|call-headers)/],
  ['api/v3 handlers, wrappers, metrics, validation', /(dist|src)\/api\//],
  ['protobuf codecs (codec/, internal-request)', /(dist|src)\/codec\/|(dist|src)\/server\/internal-request/],
  ['proposals and waiters', /(dist|src)\/server\/(proposer|proposals)|(dist|src)\/pkg\/wait/],
  ['raft', /(dist|src)\/raft\//],
  ['WAL (records, CRC, file writes)', /(dist|src)\/wal\/|(dist|src)\/pkg\/crc32c|(dist|src)\/platform\/fs/],
  ['mvcc (key index, value arena, kv encoding)', /(dist|src)\/mvcc\//],
  ['backend: the LevelDB batch', /(dist|src)\/backend\/|(dist|src)\/platform\/level|classic-level|abstract-level/],
  ['server (raft-node loop, apply, answers)', /(dist|src)\/server\//],
  ['other of ours', /\/(dist|src)\//],
];

/** Busy time by part (PARTS): each sample counted once, for the innermost frame of ours on its stack; GC and (program) apart. */
export function parts(p: Profile): [string, number][] {
  const parent = new Map<number, number>();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const memo = new Map<number, string>();
  const partOf = (id: number): string => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const cf = byId.get(id)!.callFrame;
    let part: string;
    if (/^\((garbage collector|program|idle)\)$/.test(cf.functionName)) part = cf.functionName;
    else {
      const hit = cf.url.includes('node_modules') && !/classic-level|abstract-level/.test(cf.url) ? undefined : PARTS.find(([, re]) => re.test(cf.url));
      const up = parent.get(id);
      part = hit ? hit[0] : up === undefined ? 'node core or native, no frame of ours' : partOf(up);
    }
    memo.set(id, part);
    return part;
  };
  const out = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const part = partOf(id);
    if (part !== '(idle)') out.set(part, (out.get(part) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  });
  return [...out].sort((a, b) => b[1] - a[1]);
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
  const busy = parts(p);
  const busyUs = busy.reduce((a, [, us]) => a + us, 0);
  const per = Number(process.argv[4] ?? 0); // requests in the profile: µs per request
  console.log(`busy time by part (innermost frame of ours)${per > 0 ? `, µs per request of ${per}` : ''}:`);
  for (const [k, us] of busy) console.log(`${((100 * us) / busyUs).toFixed(1).padStart(5)}% ${per > 0 ? (us / per).toFixed(1).padStart(6) + ' µs' : (us / 1000).toFixed(0).padStart(6) + ' ms'}  ${k}`);
}
