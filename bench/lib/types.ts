// The shapes shared by the load generator's main thread, its workers and bench:compare.

export const CASES = ['put', 'range', 'txn-put', 'watch', 'lease-keepalive', 'v2-get', 'v2-put'] as const;
export type CaseName = (typeof CASES)[number];

export interface BenchOptions {
  case: CaseName;
  /** host:port of each member; connections are spread over them round-robin. */
  endpoints: string[];
  conns: number;
  clients: number;
  /** Requests (puts for the watch case) over the whole run. */
  total: number;
  keySize: number;
  valSize: number;
  keySpace: number;
  sequentialKeys: boolean;
  /** range: 'l' linearizable (etcd's default), 's' serializable. */
  consistency: 'l' | 's';
  /** watch: watchers on the one watched key, spread over watchStreams streams. */
  watchers: number;
  watchStreams: number;
  /** watch: puts per second made by the single putter (0: back to back). */
  putRate: number;
  /** watch: after the last put, how long (ms) missing events may still arrive before they count as lost. */
  watchGraceMs?: number;
  /** Worker threads the clients are spread over (0: choose). */
  workers: number;
  /** The server's pid, for its CPU seconds and peak RSS; a cluster's pids: their figures are summed. */
  pid?: number | number[];
  /** Node's clients in worker threads (default), wrk for the v2 cases (lib/wrk.ts), or etcd's own
   * benchmark tool for put, txn-put and range (lib/etcd-benchmark.ts). */
  driver?: 'node' | 'wrk' | 'etcd';
  /** wrk driver: seconds to run (wrk cannot stop at a count; --total is not used). */
  durationS?: number;
  /** bench:compare: run against a member with auth enabled (auth-setup.ts), as a user with permissions. */
  auth?: boolean;
  /** put and range: the auth token each request carries. */
  token?: string;
}

/** What one worker thread is asked to do: its share of the connections, clients and requests. */
export interface WorkerTask {
  opts: BenchOptions;
  index: number;
  conns: number;
  connOffset: number;
  clients: number;
  total: number;
  keyStart: number;
  watchers: number;
  streams: number;
  /** watch: this worker makes the puts. */
  putter: boolean;
}

export interface WorkerResult {
  latencies: Float64Array;
  ok: number;
  errors: number;
  errorSamples: string[];
  /** txn-put: compares that failed (another client changed the key first); not errors. */
  conflicts: number;
  /** watch: events expected but never received. */
  lost: number;
  /** hrtime in ms (one clock for every thread of the process). */
  t0: number;
  t1: number;
}

export interface BenchResult {
  case: string;
  total: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  conflicts: number;
  lost: number;
  wallS: number;
  reqPerS: number;
  latencyMs: { avg: number; p50: number; p90: number; p99: number; max: number };
  workers: number;
  /** CPU seconds used by the generator (all its threads) during the run, and as % of one core. */
  generatorCpuS: number;
  generatorCpuPct: number;
  server?: { cpuS?: number; cpuPct?: number; rssMb?: number; peakRssMb?: number; cpuSByPid?: number[] };
}

export const WATCH_KEY = 'bench-watch-key';
export const V2_PREFIX = '/v2/keys/bench/';
export const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;
