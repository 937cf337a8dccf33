// Latency statistics: nearest-rank percentiles over every recorded sample (no histogram buckets).

export interface Latency {
  avg: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Sorts `samples` in place; all values in ms. An empty set gives zeros. */
export function summarize(samples: Float64Array): Latency {
  const n = samples.length;
  if (n === 0) return { avg: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  samples.sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += samples[i]!;
  const at = (q: number): number => samples[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  return { avg: sum / n, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: samples[n - 1]! };
}

export function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
