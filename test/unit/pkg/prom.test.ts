// pkg/prom.ts against prom-client 15 (a devDependency kept for this): the same operations on every
// family of etcd's table print the same /metrics text, byte for byte.
import * as promClient from 'prom-client';
import { describe, expect, it } from 'vitest';
import * as ours from '../../../src/pkg/prom.js';
import { ETCD_METRIC_SPECS } from '../../../src/pkg/metrics-spec.js';
import { seededRng } from '../../../src/pkg/rng.js';

type Lib = typeof ours | typeof promClient;
interface AnyFamily {
  inc?(labels?: unknown, value?: number): void;
  dec?(labels?: unknown, value?: number): void;
  set?(labels: unknown, value?: number): void;
  observe?(labels: unknown, value?: number): void;
  reset(): void;
  name?: string;
}

function build(lib: Lib, collect: (this: AnyFamily) => void) {
  const registry = new lib.Registry();
  const registers = [registry] as never;
  const families = new Map<string, [kind: string, labels: readonly string[], family: AnyFamily]>();
  for (const [kind, name, help, labels = [], buckets] of ETCD_METRIC_SPECS) {
    const o = { name, help, labelNames: [...labels], registers, collect } as never;
    const f = kind === 'h' ? new lib.Histogram({ ...(o as object), buckets: [...(buckets ?? [])] } as never)
      : kind === 'c' ? new lib.Counter(o) : new lib.Gauge(o);
    families.set(name, [kind, labels, f as unknown as AnyFamily]);
  }
  return { registry, families };
}

describe('pkg/prom', () => {
  it("prints what prom-client prints after the same operations, resets in collect hooks included", async () => {
    const resets = new Set<string>();
    const hook = function (this: AnyFamily) { if (resets.has(this.name!)) this.reset(); };
    const a = build(ours, hook);
    const b = build(promClient, hook);
    expect(await a.registry.metrics()).toBe(await b.registry.metrics());
    const rng = seededRng(7n);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
    const values = ['a', 'b"q', 'back\\slash', 'new\nline', 3, 0x20];
    const names = [...a.families.keys()];
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3000; i++) {
        const name = pick(names);
        const [kind, labelNames] = a.families.get(name)!;
        // a label object, its keys in a random order (a series prints the order of its first one)
        const keys = [...labelNames].sort(() => rng() - 0.5);
        const labels = Object.fromEntries(keys.map((k) => [k, pick(values)]));
        const v = pick([0, 1, 2.5, 0.0003, 7, 1e-9, 123456789]);
        const withLabels = labelNames.length > 0;
        const op = kind === 'h' ? 'observe' : kind === 'c' ? 'inc' : pick(['set', 'inc', 'dec'] as const);
        const bare = rng() < 0.2 && !withLabels; // inc() or dec() without a value
        for (const f of [a.families.get(name)![2], b.families.get(name)![2]]) {
          if (op === 'observe') withLabels ? f.observe!(labels, v) : f.observe!(v);
          else if (op === 'set') withLabels ? f.set!(labels, v) : f.set!(v);
          else if (bare) f[op]!();
          else withLabels ? f[op]!(labels, v) : f[op]!(v);
        }
      }
      if (round === 2) for (const n of names.slice(0, 40)) if (a.families.get(n)![0] !== 'h') resets.add(n);
      expect(await a.registry.metrics()).toBe(await b.registry.metrics());
    }
    expect(a.registry.contentType).toBe(b.registry.contentType);
  });

  it('refuses what prom-client refuses: a label not declared, a counter decreased, a value not a number', () => {
    const r = new ours.Registry();
    const c = new ours.Counter({ name: 'c_total', help: 'h', labelNames: ['x'], registers: [r] });
    expect(() => c.inc({ y: '1' } as never)).toThrow(/not included/);
    expect(() => c.inc({ x: '1' }, -1)).toThrow(/decrease/);
    const g = new ours.Gauge({ name: 'g', help: 'h', registers: [r] });
    expect(() => g.set(Number.NaN as never)).not.toThrow();
    expect(() => g.set('1' as never)).toThrow(/not a valid number/);
    const h = new ours.Histogram({ name: 'h', help: 'h', registers: [r], buckets: [1] });
    expect(() => h.observe(Infinity)).toThrow(/not a valid number/);
    expect(() => new ours.Gauge({ name: 'g', help: 'h', registers: [r] })).toThrow(/already been registered/);
  });
});
