// The v2 cases driven by wrk (Debian's `wrk`, written in C) instead of Node's HTTP client, with
// `--driver wrk`. Node's client spends about as much CPU per request as either server does, so with
// it the generator, not the server, sets the pace on a 2-core machine; wrk needs a fraction of that.
// wrk runs for a time, not a count (a thread stopped early still waits out -d), so this driver runs
// for --duration seconds and --total is not used. Each connection is one client (one request at a
// time). Keys and values are the Node driver's (lib/keys.ts): the decimal index zero-padded to
// --key-size.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childrenCpuSeconds, endUsage, startUsage, withCpuPct } from './proc.js';
import { valueOf } from './keys.js';
import type { BenchOptions, BenchResult } from './types.js';
import { V2_PREFIX } from './types.js';

export const WRK_BIN = '/usr/bin/wrk';
export const WRK_DEFAULT_DURATION_S = 5;
const WRK_TIMEOUT_S = 10; // a request unanswered this long counts as an error

export function wrkAvailable(): boolean {
  return existsSync(WRK_BIN);
}

/** The Lua script: GET or PUT value=… on random or sequential keys; prints a JSON summary. */
export function wrkScript(o: BenchOptions): string {
  const put = o.case === 'v2-put';
  const body = put ? `value=${valueOf(o.valSize).toString('latin1')}` : '';
  return `
local counter = 0
local method = ${JSON.stringify(put ? 'PUT' : 'GET')}
local body = ${put ? JSON.stringify(body) : 'nil'}
local headers = {}
${put ? 'headers["Content-Type"] = "application/x-www-form-urlencoded"' : ''}
function request()
  local i
  if ${o.sequentialKeys ? 'true' : 'false'} then i = counter % ${o.keySpace}; counter = counter + 1
  else i = math.random(0, ${o.keySpace - 1}) end
  return wrk.format(method, ${JSON.stringify(V2_PREFIX)} .. string.format("%0${o.keySize}d", i), headers, body)
end
function done(summary, latency)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,' ..
    '"avg_us":%f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n', summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency.mean, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
end
`;
}

interface WrkSummary {
  requests: number; duration_us: number; errors: number; status_errors: number;
  avg_us: number; p50_us: number; p90_us: number; p99_us: number; max_us: number;
}

function runWrkProcess(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(WRK_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${err.trim()}`))));
  });
}

/** One v2 case with wrk against the first endpoint; the same result shape as the Node driver's. */
export async function runWrk(o: BenchOptions): Promise<BenchResult> {
  if (!wrkAvailable()) throw new Error(`--driver wrk: ${WRK_BIN} is missing (apt-get install -y wrk)`);
  const threads = Math.max(1, Math.min(o.workers || 1, o.conns));
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  try {
    const script = join(dir, 'case.lua');
    writeFileSync(script, wrkScript(o));
    const seconds = Math.max(1, Math.round(o.durationS ?? WRK_DEFAULT_DURATION_S));
    const args = ['-t', String(threads), '-c', String(o.conns), '-d', `${seconds}s`, '--timeout', `${WRK_TIMEOUT_S}s`,
      '-s', script, `http://${o.endpoints[0]}${V2_PREFIX}`];
    const usage0 = startUsage(o.pid);
    const gen0 = childrenCpuSeconds();
    const out = await runWrkProcess(args);
    const genCpuS = childrenCpuSeconds() - gen0;
    const usage = endUsage(usage0);
    const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
    if (!line) throw new Error(`wrk printed no summary: ${out.trim()}`);
    const s = JSON.parse(line) as WrkSummary;
    const wallS = s.duration_us / 1e6;
    const errors = s.errors + s.status_errors;
    const ok = s.requests - s.status_errors;
    const ms = (us: number): number => us / 1000;
    return {
      case: o.case, total: s.requests, ok, errors, errorSamples: s.status_errors > 0 ? [`${s.status_errors} non-2xx answers`] : [],
      conflicts: 0, lost: 0, wallS, reqPerS: ok / wallS,
      latencyMs: { avg: ms(s.avg_us), p50: ms(s.p50_us), p90: ms(s.p90_us), p99: ms(s.p99_us), max: ms(s.max_us) },
      workers: threads, generatorCpuS: genCpuS, generatorCpuPct: (100 * genCpuS) / wallS,
      server: withCpuPct(usage, wallS),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
