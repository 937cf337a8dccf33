// serializeNode on deep and wide trees: the same bytes as the obvious recursive writer (kept here as
// the reference), in time linear in the output and without recursion (issue 22: a key 1,000 segments
// deep took seconds to list, the string below each level being copied again at every level).
import { describe, expect, it } from 'vitest';
import { goJsonString, serializeNode, type V2NodeJson } from '../../../src/v2store/index.js';
import { rng } from '../mvcc/helpers.js';

/** The reference: etcd's field order, written recursively (quadratic on deep trees; small inputs only). */
function reference(n: V2NodeJson): string {
  const parts: string[] = [];
  if (n.key !== undefined && n.key !== '') parts.push(`"key":${goJsonString(n.key)}`);
  if (n.value !== undefined) parts.push(`"value":${goJsonString(n.value)}`);
  if (n.dir) parts.push('"dir":true');
  if (n.expiration !== undefined) parts.push(`"expiration":"${n.expiration}"`);
  if (n.ttl !== undefined && n.ttl !== 0) parts.push(`"ttl":${n.ttl}`);
  if (n.nodes !== undefined && n.nodes.length > 0) parts.push(`"nodes":[${n.nodes.map(reference).join(',')}]`);
  if (n.modifiedIndex) parts.push(`"modifiedIndex":${n.modifiedIndex}`);
  if (n.createdIndex) parts.push(`"createdIndex":${n.createdIndex}`);
  return `{${parts.join(',')}}`;
}

const TEXT = ['', 'a', '<&>', 'q"\\', '\n\t\u0001', '\u2028', '\ud800', 'é🔑', '_h'];

function randomTree(r: () => number, depth: number, fanOut = 4): V2NodeJson {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const n: V2NodeJson = {};
  if (r() < 0.9) n.key = `/${pick(TEXT)}${Math.floor(r() * 100)}`;
  if (r() < 0.3) n.expiration = '2026-11-22T04:51:00.69Z';
  if (r() < 0.3) n.ttl = Math.floor(r() * 3) - 1;
  if (r() < 0.8) n.modifiedIndex = Math.floor(r() * 3);
  if (r() < 0.8) n.createdIndex = Math.floor(r() * 3);
  if (depth > 0 && r() < 0.6) {
    n.dir = true;
    n.nodes = Array.from({ length: Math.floor(r() * fanOut) }, () => randomTree(r, depth - 1, fanOut));
  } else {
    n.value = pick(TEXT);
  }
  return n;
}

/** The listing of a key `depth` segments deep under /d, as the store builds it (keys are full paths). */
function deepListing(depth: number, path = (i: number): string => `/d${'/a'.repeat(i)}`): V2NodeJson {
  let n: V2NodeJson = { key: path(depth), value: 'x', modifiedIndex: 5, createdIndex: 5 };
  for (let i = depth - 1; i >= 0; i--) n = { key: path(i), dir: true, nodes: [n], modifiedIndex: 5, createdIndex: 5 };
  return n;
}

describe('serializeNode on any tree', () => {
  it('writes the same bytes as the recursive reference (500 seeded random trees)', () => {
    const r = rng(22);
    for (let i = 0; i < 500; i++) {
      const t = randomTree(r, 4);
      expect(serializeNode(t)).toBe(reference(t));
    }
  });

  it('writes the same bytes on trees of many thousand nodes (pieces joined in chunks)', () => {
    const r = rng(2022);
    for (let i = 0; i < 20; i++) {
      const t = randomTree(r, 3, 40);
      expect(serializeNode(t)).toBe(reference(t));
    }
  });

  it('writes a 300-level listing as the reference does', () => {
    expect(serializeNode(deepListing(300))).toBe(reference(deepListing(300)));
  });

  it('writes a 1,500-level listing byte for byte', () => {
    const path = (i: number): string => `/d${'/a'.repeat(i)}`;
    const parts: string[] = [];
    for (let i = 0; i < 1500; i++) parts.push(`{"key":"${path(i)}","dir":true,"nodes":[`);
    parts.push(`{"key":"${path(1500)}","value":"x","modifiedIndex":5,"createdIndex":5}`);
    for (let i = 0; i < 1500; i++) parts.push('],"modifiedIndex":5,"createdIndex":5}');
    const t = deepListing(1500);
    const ours = serializeNode(t);
    expect(ours.length).toBe(2_355_059);
    expect(ours).toBe(parts.join(''));
  });

  it('handles 100,000 levels (no recursion) in time linear in the output', () => {
    const deep = deepListing(100_000, () => '/d'); // short keys: output linear in the depth
    // the same number of nodes side by side: the same work if the writer is linear
    const wide: V2NodeJson = { key: '/d', dir: true, nodes: Array.from({ length: 100_000 }, () => ({ key: '/d', value: 'x', modifiedIndex: 5, createdIndex: 5 })) };
    const time = (t: V2NodeJson): { ms: number; len: number } => {
      const t0 = performance.now();
      const len = serializeNode(t).length;
      return { ms: performance.now() - t0, len };
    };
    time(wide); // warm up
    const w = time(wide);
    const d = time(deep);
    expect(d.len).toBeGreaterThan(w.len);
    // a ratio within one run, not a time limit: a writer quadratic in the depth misses it by far
    expect(d.ms).toBeLessThan(Math.max(10 * w.ms, 200) * (d.len / w.len)); // 10x generous
  });
});
