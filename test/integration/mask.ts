// Masking for transcripts compared between real etcd and ours: only what legitimately differs between
// two fresh members — ids (cluster, member, lease; 16-digit hex and 12+-digit decimal), the member's
// ports, timings (took, ts, remaining TTL seconds) and sizes (dbSize, DB SIZE column, byte counts).
import type { Member } from './harness.js';

const RULES: [RegExp, string][] = [
  [/client-[0-9a-f-]{36}/g, 'client-<UUID>'],
  // a JSON (or -w fields) value is etcdctl's decimal form: first, or a 12-16 digit id would pass for hex
  [/("\s*:\s*)\d{12,}\b/g, '$1<ID>'],
  [/\b[0-9a-f]{12,16}\b/g, '<HEX-ID>'],
  [/\b\d{12,}\b/g, '<ID>'],
  [/"ts":"[^"]*"/g, '"ts":"<TS>"'],
  [/took = [0-9.]+[µnm]?s/g, 'took = <T>'],
  [/"took":"[^"]*"/g, '"took":"<T>"'],
  [/\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?/g, '<TIME>'],
  [/remaining\(-?\d+s\)/g, 'remaining(<N>s)'],
  [/"ttl":-?\d+,"granted-ttl"/g, '"ttl":<N>,"granted-ttl"'],
  [/"dbSize":\d+/g, '"dbSize":<SIZE>'],
  [/"dbSizeInUse":\d+/g, '"dbSizeInUse":<SIZE>'],
  [/\b\d+(\.\d+)? [kMG]?B\b/g, '<SIZE>'],
];

const V2_SET_TTLS = new Set([100, 200, 99999999999]);

export function maskOutput(text: string, m: Pick<Member, 'clientUrl' | 'peerUrl' | 'dataDir'>): string {
  let t = text.split(m.dataDir).join('<DATA-DIR>');
  for (const [url, tag] of [[m.clientUrl, 'CLIENT'], [m.peerUrl, 'PEER']] as const) {
    const port = new URL(url).port;
    t = t.split(`127.0.0.1:${port}`).join(`127.0.0.1:<${tag}-PORT>`);
  }
  for (const [re, to] of RULES) t = t.replace(re, to);
  // a v2 TTL the steps set (V2_SET_TTLS) read over a second after it was set, on a loaded machine
  t = t.replace(/"ttl":(\d+)(?=[,}])/g, (s, n: string) => (V2_SET_TTLS.has(Number(n) + 1) ? `"ttl":${Number(n) + 1}` : s));
  // table columns shrink or grow with the masked values: compare tables cell by cell
  return t.replace(/^([|+].*)$/gm, (line) => line.replace(/ {2,}/g, ' ').replace(/-{2,}/g, '--'));
}

/** A readable line diff (LCS) of two texts, '-' lines only in a, '+' lines only in b. */
export function lineDiff(a: string, b: string, aName: string, bName: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out = [`--- ${aName}`, `+++ ${bName}`];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      out.push(`  ${x[i++]}`);
      j++;
    }
    else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) out.push(`+ ${y[j++]}`);
    else out.push(`- ${x[i++]}`);
  }
  return out.join('\n');
}
