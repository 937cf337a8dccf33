import { describe, expect, it } from 'vitest';
import { Stage, TRACE_PUT, traceReport } from '../../../src/pkg/put-trace.js';

const SLOTS = Object.keys(Stage).length + 1;

/** A sequence with the given stages at the given ms (others never reached), read once. */
function seq(at: Partial<Record<keyof typeof Stage, number>>): Float64Array {
  const q = new Float64Array(SLOTS).fill(NaN);
  for (const [k, v] of Object.entries(at)) q[Stage[k as keyof typeof Stage]] = v!;
  q[SLOTS - 1] = 1;
  return q;
}

describe('put trace', () => {
  it('is off unless ETCD_TS_TRACE_PUT names a file', () => {
    expect(TRACE_PUT).toBe((process.env.ETCD_TS_TRACE_PUT ?? '') !== '');
  });

  it('reports each stage since recv and since the stage reached before it, in µs', () => {
    const seqs = [
      seq({ recv: 0, call: 0.01, walWrite: 0.05, walDone: 0.35, reply: 0.4, sockWrite: 0.42 }),
      seq({ recv: 1, call: 1.02, walWrite: 1.07, walDone: 1.47, reply: 1.5, sockWrite: 1.53 }),
      seq({ recv: 2 }), // a read that was no request: counted in no stage
    ];
    const lines = traceReport(seqs).split('\n');
    const row = (name: string): string[] => lines.find((l) => l.startsWith(`${name} `))!.split(/\s+/);
    // stage, n, since-recv p50 / p90, step p50 / p90 (p50 of two is the larger: floor(0.5 * 2) = 1)
    expect(row('call')).toEqual(['call', '2', '20.0', '/', '20.0', '20.0', '/', '20.0']);
    expect(row('walDone')).toEqual(['walDone', '2', '470.0', '/', '470.0', '400.0', '/', '400.0']);
    expect(lines.some((l) => l.startsWith('ready '))).toBe(false);
    expect(lines.find((l) => l.startsWith('sockWrite → next recv'))).toBe('sockWrite → next recv (client and kernel): 580.0 / 580.0');
  });
});
