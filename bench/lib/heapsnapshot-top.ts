// `npx tsx bench/lib/heapsnapshot-top.ts FILE.heapsnapshot [N]`: the JS heap of a V8 heap snapshot
// (node --heapsnapshot-signal=SIGUSR2, then kill -USR2 PID) summed by node type and constructor name,
// largest self size first. Used to explain our RSS after loading keys (docs/benchmarks.md).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

export function heapByConstructor(s: Snapshot): { total: number; rows: [string, number, number][] } {
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const [iType, iName, iSize] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const types = s.snapshot.meta.node_types[0];
  const agg = new Map<string, [number, number]>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!]!;
    const name = type === 'object' || type === 'native' || type === 'closure' ? s.strings[s.nodes[i + iName]!]! : '';
    const key = `${type}${name ? ' ' + name.slice(0, 60) : ''}`;
    const size = s.nodes[i + iSize]!;
    const a = agg.get(key) ?? [0, 0];
    a[0] += size;
    a[1]++;
    agg.set(key, a);
    total += size;
  }
  return { total, rows: [...agg].map(([k, [size, n]]) => [k, size, n] as [string, number, number]).sort((a, b) => b[1] - a[1]) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { total, rows } = heapByConstructor(JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Snapshot);
  console.log(`heap ${(total / 1048576).toFixed(1)} MB in the snapshot; by type and constructor (self size):`);
  for (const [k, size, n] of rows.slice(0, Number(process.argv[3] ?? 25))) {
    console.log(`${(size / 1048576).toFixed(1).padStart(8)} MB ${String(n).padStart(9)} objects  ${k}`);
  }
}
