// Per-worker bookkeeping of one run: latency samples (ms), ok/error counts and a few error texts.
import type { WorkerResult } from './types.js';
import { hrMs } from './types.js';

const ERROR_SAMPLES_MAX = 5; // distinct error texts kept per worker
const SAMPLES_MAX = 20_000_000; // latency samples kept per worker (160 MB); more are counted only

export class Recorder {
  private lat: Float64Array;
  private n = 0;
  ok = 0;
  errors = 0;
  conflicts = 0;
  lost = 0;
  readonly errorSamples: string[] = [];
  t0 = 0;
  t1 = 0;

  constructor(expected: number) {
    this.lat = new Float64Array(Math.min(Math.max(expected, 16), SAMPLES_MAX));
  }

  start(): void {
    this.t0 = hrMs();
  }

  sample(ms: number): void {
    this.ok++;
    if (this.n === this.lat.length) {
      if (this.n >= SAMPLES_MAX) return;
      const bigger = new Float64Array(Math.min(this.n * 2, SAMPLES_MAX));
      bigger.set(this.lat);
      this.lat = bigger;
    }
    this.lat[this.n++] = ms;
  }

  error(text: string): void {
    this.errors++;
    if (this.errorSamples.length < ERROR_SAMPLES_MAX && !this.errorSamples.includes(text)) this.errorSamples.push(text);
  }

  finish(): WorkerResult {
    if (this.t1 === 0) this.t1 = hrMs();
    return {
      latencies: this.lat.slice(0, this.n), ok: this.ok, errors: this.errors, errorSamples: this.errorSamples,
      conflicts: this.conflicts, lost: this.lost, t0: this.t0, t1: this.t1,
    };
  }
}

/**
 * Closed loop: `clients` clients each issue one request, wait for its answer, and go again until the
 * worker's `total` requests are issued. `op(client)` resolves when the request succeeded and throws an
 * error text (or error) when it failed; the text 'conflict' counts as a conflict, not an error.
 */
export async function closedLoop(clients: number, total: number, rec: Recorder, op: (client: number) => Promise<void>): Promise<void> {
  let issued = 0;
  const one = async (c: number): Promise<void> => {
    while (issued < total) {
      issued++;
      const t = performance.now();
      try {
        await op(c);
        rec.sample(performance.now() - t);
      } catch (e) {
        if (e === 'conflict') rec.conflicts++;
        else rec.error(typeof e === 'string' ? e : describe(e));
      }
    }
  };
  rec.start();
  await Promise.all(Array.from({ length: clients }, (_, c) => one(c)));
  rec.t1 = hrMs();
}

function describe(e: unknown): string {
  const x = e as { code?: number; details?: string; message?: string };
  if (typeof x.code === 'number' && x.details !== undefined) return `grpc ${x.code}: ${x.details}`;
  return x.message ?? String(e);
}
