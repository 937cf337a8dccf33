// Start, restart and stop the two daemons bench:compare measures: ours (`node bin/etcd` when dist/ is
// at least as new as src/, else `node --import tsx src/cli/main.ts`) and real etcd (/usr/bin/etcd),
// one member each on free 127.0.0.1 ports with a fresh temp data dir and exactly the same flags.
// ETCD_TS_MAIN=/path/to/dist/cli/main.js runs that build of ours instead (e.g. a build of one commit);
// ETCD_TS_NODE_FLAGS="--heap-growing-percent=100" gives ours those node flags (e.g. to weigh a GC setting).
// Ready means: POST /v3/kv/range (a linearizable read through the JSON gateway) answers 200.
// Only the pids started here are ever signalled; stop() removes the data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ETCD_BIN = '/usr/bin/etcd';
export type Impl = 'ours' | 'etcd';
const READY_TIMEOUT_MS = 120_000; // hang guard: start or restart (1,000,000 keys take a while)
const READY_POLL_MS = 10;
const STOP_TIMEOUT_MS = 20_000;
const LOG_TAIL_BYTES = 32 * 1024;

export interface Daemon {
  impl: Impl;
  endpoint: string;
  pid: number;
  dataDir: string;
  /** SIGTERM, wait for the exit, start again with the same flags; seconds from spawn to ready. */
  restart(): Promise<number>;
  stop(): Promise<void>;
  logs(): string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function newest(dir: string, ext: string, out: Map<string, number>): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest(p, ext, out);
    else if (e.name.endsWith(ext) && !e.name.endsWith('.d.ts')) out.set(p, statSync(p).mtimeMs);
  }
}

let chosenRunner: 'dist' | 'tsx' | undefined;

/**
 * How this process runs ours, chosen at the first call and kept: an edit to src/ during a run must
 * not switch the later daemons of a comparison to tsx (slower, and ~35 MB more RSS) unannounced.
 */
export function oursRunner(): 'dist' | 'tsx' {
  return (chosenRunner ??= pickRunner());
}

/** 'dist' when every src/**\/*.ts has a dist/**\/*.js (and the bundle, if any) at least as new; else 'tsx'. ETCD_TS_RUNNER forces. */
function pickRunner(): 'dist' | 'tsx' {
  const forced = process.env.ETCD_TS_RUNNER;
  if (forced === 'dist' || forced === 'tsx') return forced;
  const srcs = new Map<string, number>();
  newest(join(ROOT, 'src'), '.ts', srcs);
  // bin/etcd runs the bundle (dist/bundle/, made from src/ by `npm run build`) when there is one
  const bundle = join(ROOT, 'dist/bundle/etcd.js');
  const bundleMs = existsSync(bundle) ? statSync(bundle).mtimeMs : Infinity;
  for (const [p, m] of srcs) {
    const js = join(ROOT, 'dist', relative(join(ROOT, 'src'), p)).replace(/\.ts$/, '.js');
    if (!existsSync(js) || statSync(js).mtimeMs < m || bundleMs < m) return 'tsx';
  }
  return 'dist';
}

/** The node that runs ours: ETCD_TS_NODE (another release, e.g. .cache/node/22's), else this one. */
export function oursNode(): string {
  return process.env.ETCD_TS_NODE || process.execPath;
}

/** The command and leading arguments that start a member of `impl`. */
export function daemonCommand(impl: Impl): [string, string[]] {
  if (impl === 'etcd') return [ETCD_BIN, []];
  const flags = (process.env.ETCD_TS_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  const node = oursNode();
  if (process.env.ETCD_TS_MAIN) return [node, [...flags, process.env.ETCD_TS_MAIN]];
  if (oursRunner() === 'dist') return [node, [...flags, join(ROOT, 'bin/etcd')]];
  return [node, [...flags, '--import', 'tsx', join(ROOT, 'src/cli/main.ts')]];
}

export function memberFlags(dataDir: string, clientPort: number, peerPort: number): string[] {
  const c = `http://127.0.0.1:${clientPort}`;
  const p = `http://127.0.0.1:${peerPort}`;
  return ['--name', 'bench', '--data-dir', dataDir, '--listen-client-urls', c, '--advertise-client-urls', c,
    '--listen-peer-urls', p, '--initial-advertise-peer-urls', p, '--initial-cluster', `bench=${p}`, '--enable-v2=true'];
}

/** Resolves once `endpoint` serves a linearizable range; throws if `child` exits or time runs out. */
export async function ready(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('exited before it was ready');
    try {
      const r = await fetch(`http://${endpoint}/v3/kv/range`, { method: 'POST', body: '{"key":"cmVhZHk="}', signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
  throw new Error(`not ready within ${READY_TIMEOUT_MS} ms`);
}

/** A fresh member of `impl` with `extraArgs` appended to the shared flags, ready to serve. */
export async function startDaemon(impl: Impl, extraArgs: string[] = []): Promise<Daemon> {
  if (impl === 'etcd' && !existsSync(ETCD_BIN)) throw new Error(`${ETCD_BIN} is not installed (apt-get install -y etcd-server)`);
  const dir = await mkdtemp(join(tmpdir(), `bench-${impl}-`));
  const dataDir = join(dir, 'data');
  const [cp, pp] = [await freePort(), await freePort()];
  const args = [...memberFlags(dataDir, cp, pp), ...extraArgs];
  const endpoint = `127.0.0.1:${cp}`;
  let out = '';
  let child!: ChildProcess;
  const launch = async (): Promise<number> => {
    const [cmd, pre] = daemonCommand(impl);
    const t0 = performance.now();
    child = spawn(cmd, [...pre, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const add = (d: Buffer): void => {
      out = (out + d.toString()).slice(-LOG_TAIL_BYTES);
    };
    child.stdout!.on('data', add);
    child.stderr!.on('data', add);
    try {
      await ready(endpoint, child);
    } catch (e) {
      await stopChild(child, 'SIGKILL');
      throw new Error(`${impl} at ${endpoint}: ${(e as Error).message}\n${out}`);
    }
    return (performance.now() - t0) / 1000;
  };
  try {
    await launch();
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const d: Daemon = {
    impl, endpoint, dataDir, pid: child.pid!,
    logs: () => out,
    restart: async () => {
      await stopChild(child, 'SIGTERM');
      const s = await launch();
      d.pid = child.pid!;
      return s;
    },
    stop: async () => {
      await stopChild(child, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
  return d;
}

/** Signal `child` (SIGKILL after STOP_TIMEOUT_MS) and wait for its exit. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await gone;
  clearTimeout(t);
}
