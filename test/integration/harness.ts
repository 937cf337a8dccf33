// Integration harness: start real single-member processes — ours (`startMember`) or the oracle, real
// etcd 3.4.23 (`startEtcd`) — with the same flags on free loopback ports and a temp data dir, wait
// until GET /health answers {"health":"true"}, and drive them with the real etcdctl 3.4 (`etcdctl`).
// `cleanup()` (call it from afterAll) kills only the pids this harness spawned and removes its dirs.
//
// Which build of ours runs: `node bin/etcd` (dist/bundle/, else dist/) when every src/**/*.ts has a
// dist/**/*.js and the bundle at least as new (fast start, ~1 s), otherwise `node --import tsx src/cli/main.ts` (always the current
// source; `npm test` does not build dist first). ETCD_TS_RUNNER=dist|tsx forces one.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ETCD_BIN = '/usr/bin/etcd';
export const ETCDCTL_BIN = '/usr/bin/etcdctl';
const HEALTH_TIMEOUT_MS = 30_000; // hang guard for a start or restart
const STOP_TIMEOUT_MS = 15_000; // hang guard for SIGTERM → exit
const LOG_TAIL_BYTES = 1024 * 1024; // per member, the last bytes of stdout+stderr kept (tests look for log lines in it)
const PORT_RETRIES = 4;

export type Impl = 'ours' | 'etcd';

export interface MemberOpts {
  name?: string;
  /** Extra flags appended after the generated ones. */
  args?: string[];
  env?: Record<string, string>;
  /** Reuse this data dir instead of a fresh temp one (it is still removed by cleanup()). */
  dataDir?: string;
  /**
   * How readiness is probed. 'health' (default): GET /health says {"health":"true"} — in etcd 3.4
   * each successful /health is a QGET proposed through raft (one raft index). 'status': POST
   * /v3/maintenance/status names a leader, which touches no raft log (for raft-index comparisons).
   */
  ready?: 'health' | 'status';
  /**
   * Serve clients over TLS: the client URLs are https:// and readiness is probed with these (a CA to
   * trust, or none: not verified; a client certificate and key when the member requires one).
   * TLS flags themselves go in `args`.
   */
  https?: ProbeTls;
}

export interface ProbeTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface Member {
  impl: Impl;
  name: string;
  clientUrl: string;
  peerUrl: string;
  /** 127.0.0.1:PORT, as etcdctl --endpoints wants it. */
  endpoint: string;
  dataDir: string;
  pid: number;
  /** SIGTERM and wait for the exit: the exit code, or the signal that ended it (etcd re-raises SIGTERM). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL and wait for the process to be gone. */
  kill(): Promise<void>;
  /** Start again with the same flags, ports and data dir; waits for health. */
  restart(): Promise<void>;
  /** Last output of the current process (for failure messages). */
  logs(): string;
}

const ownPids = new Set<ChildProcess>();
const ownDirs = new Set<string>();

/** Kill every process this harness started that is still alive, and remove its temp dirs. */
export async function cleanup(): Promise<void> {
  await Promise.all([...ownPids].map((p) => killAndWait(p)));
  ownPids.clear();
  await Promise.all([...ownDirs].map((d) => rm(d, { recursive: true, force: true })));
  ownDirs.clear();
}

export async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  ownDirs.add(d);
  return d;
}

/** Ports freePort has handed out in this process: never twice (the kernel may give a closed one again). */
const handedOut = new Set<number>();

/** A port nothing listens on now, not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const addr = s.address();
        s.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function newestMtime(dir: string, ext: string, into: Map<string, number>): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newestMtime(p, ext, into);
    else if (e.name.endsWith(ext) && !e.name.endsWith('.d.ts')) into.set(p, statSync(p).mtimeMs);
  }
}

let runnerChoice: 'dist' | 'tsx' | undefined;
/** 'dist' when dist/ is at least as new as every source file, else 'tsx'. */
export function runner(): 'dist' | 'tsx' {
  const forced = process.env.ETCD_TS_RUNNER;
  if (forced === 'dist' || forced === 'tsx') return forced;
  if (runnerChoice) return runnerChoice;
  const srcs = new Map<string, number>();
  newestMtime(join(ROOT, 'src'), '.ts', srcs);
  runnerChoice = 'dist';
  // bin/etcd runs the bundle (dist/bundle/, made from src/ by `npm run build`) when there is one
  const bundle = join(ROOT, 'dist/bundle/etcd.js');
  const bundleMs = existsSync(bundle) ? statSync(bundle).mtimeMs : Infinity;
  for (const [p, m] of srcs) {
    const js = join(ROOT, 'dist', relative(join(ROOT, 'src'), p)).replace(/\.ts$/, '.js');
    if (!existsSync(js) || statSync(js).mtimeMs < m || bundleMs < m) {
      runnerChoice = 'tsx';
      break;
    }
  }
  return runnerChoice;
}

/** The program and leading arguments that run a daemon of this implementation (cwd must be ROOT). */
export function daemonCommand(impl: Impl): [string, string[]] {
  if (impl === 'etcd') return [ETCD_BIN, []];
  if (runner() === 'dist') return [process.execPath, [join(ROOT, 'bin/etcd')]];
  return [process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')]];
}

/** The flags both implementations get: one member on loopback, its own ports and data dir. */
export function memberFlags(name: string, dataDir: string, clientPort: number, peerPort: number, clientScheme = 'http'): string[] {
  const c = `${clientScheme}://127.0.0.1:${clientPort}`;
  const p = `http://127.0.0.1:${peerPort}`;
  return ['--name', name, '--data-dir', dataDir, '--listen-client-urls', c, '--advertise-client-urls', c,
    '--listen-peer-urls', p, '--initial-advertise-peer-urls', p, '--initial-cluster', `${name}=${p}`];
}

interface Proc {
  child: ChildProcess;
  out: { text: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn a process of ours or etcd with exactly these arguments; output kept as a bounded tail. */
export function spawnDaemon(impl: Impl, args: string[], env?: Record<string, string>): Proc {
  const [cmd, pre] = daemonCommand(impl);
  const child = spawn(cmd, [...pre, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  ownPids.add(child);
  const out = { text: '' };
  const add = (d: Buffer): void => {
    out.text += d.toString();
    if (out.text.length > LOG_TAIL_BYTES) out.text = out.text.slice(-LOG_TAIL_BYTES);
  };
  child.stdout!.on('data', add);
  child.stderr!.on('data', add);
  // a debugging aid: ETCD_TS_IT_LOGS=<dir> keeps every daemon's whole output in <dir>/<impl>-<name>-<pid>.log
  const logDir = process.env.ETCD_TS_IT_LOGS;
  if (logDir) {
    const file = createWriteStream(join(logDir, `${impl}-${args[args.indexOf('--name') + 1] ?? 'member'}-${child.pid}.log`));
    child.stdout!.pipe(file, { end: false });
    child.stderr!.pipe(file, { end: false });
    child.once('close', () => file.end());
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      ownPids.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, out, exited };
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await gone;
}

/** GET or POST over https with a CA (none: not verified) and client certificate; the body, or '' on failure. */
export function httpsText(url: string, tls: ProbeTls, method = 'GET', body?: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { method, ...tls, rejectUnauthorized: tls.ca !== undefined, timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(text));
      res.on('error', () => resolve(''));
    });
    req.on('error', () => resolve(''));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

async function healthy(clientUrl: string, ready: 'health' | 'status', tls?: ProbeTls): Promise<boolean> {
  if (tls) {
    if (ready === 'health') return (await httpsText(`${clientUrl}/health`, tls)).includes('"health":"true"');
    const status = await httpsText(`${clientUrl}/v3/maintenance/status`, tls, 'POST', '{}');
    return /"leader":"[1-9]/.test(status);
  }
  try {
    if (ready === 'health') {
      const r = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return (await r.text()).includes('"health":"true"');
    }
    const r = await fetch(`${clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) });
    const leader = ((await r.json()) as { leader?: string }).leader;
    return leader !== undefined && leader !== '0';
  } catch {
    return false;
  }
}

/** Wait for {"health":"true"}; 'exited' if the process died first (its output tells why). */
async function waitHealthy(proc: Proc, clientUrl: string, ready: 'health' | 'status' = 'health', tls?: ProbeTls): Promise<'ok' | 'exited'> {
  let dead = false;
  void proc.exited.then(() => (dead = true));
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (dead) return 'exited';
    if (await healthy(clientUrl, ready, tls)) return 'ok';
    await new Promise((r) => setTimeout(r, 100));
  }
  await killAndWait(proc.child);
  throw new Error(`member at ${clientUrl} not healthy within ${HEALTH_TIMEOUT_MS} ms:\n${proc.out.text}`);
}

async function launch(impl: Impl, opts: MemberOpts): Promise<Member> {
  const name = opts.name ?? 'default';
  const dataDir = opts.dataDir ?? join(await tempDir(`it-${impl}-`), 'data');
  for (let attempt = 1; ; attempt++) {
    const [cp, pp] = [await freePort(), await freePort()];
    if (cp === pp) continue;
    const scheme = opts.https ? 'https' : 'http';
    const args = [...memberFlags(name, dataDir, cp, pp, scheme), ...(opts.args ?? [])];
    let proc = spawnDaemon(impl, args, opts.env);
    const clientUrl = `${scheme}://127.0.0.1:${cp}`;
    const r = await waitHealthy(proc, clientUrl, opts.ready, opts.https);
    if (r === 'exited') {
      if (/address already in use/.test(proc.out.text) && attempt < PORT_RETRIES) continue;
      throw new Error(`${impl} exited before becoming healthy:\n${proc.out.text}`);
    }
    const m: Member = {
      impl, name, clientUrl, dataDir, peerUrl: `http://127.0.0.1:${pp}`, endpoint: `127.0.0.1:${cp}`, pid: proc.child.pid!,
      logs: () => proc.out.text,
      stop: async () => {
        proc.child.kill('SIGTERM');
        const t = setTimeout(() => proc.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        const exit = await proc.exited;
        clearTimeout(t);
        return exit;
      },
      kill: () => killAndWait(proc.child),
      restart: async () => {
        await killAndWait(proc.child);
        proc = spawnDaemon(impl, args, opts.env);
        m.pid = proc.child.pid!;
        if ((await waitHealthy(proc, clientUrl, opts.ready, opts.https)) === 'exited') throw new Error(`${impl} restart failed:\n${proc.out.text}`);
      },
    };
    return m;
  }
}

/** One member of ours on free loopback ports with a temp data dir, healthy. */
export function startMember(opts: MemberOpts = {}): Promise<Member> {
  return launch('ours', opts);
}

/** The oracle: real etcd 3.4.23 started with the same flags as startMember. */
export function startEtcd(opts: MemberOpts = {}): Promise<Member> {
  if (!existsSync(ETCD_BIN)) throw new Error(`${ETCD_BIN} missing: apt-get install -y etcd-server`);
  return launch('etcd', opts);
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CtlOpts {
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  /** For commands that never end (watch, elect): SIGKILL 300 ms after stdout first matches this. */
  killWhen?: RegExp;
}

const KILL_WHEN_GRACE_MS = 300; // lets output that would follow the match arrive before the kill

/** Run `ETCDCTL_API=3 etcdctl --endpoints <endpoint> ...args`; fails when etcdctl is missing. */
export function etcdctl(endpoint: string | Member, args: string[], opts: CtlOpts = {}): Promise<Run> {
  if (!existsSync(ETCDCTL_BIN)) throw new Error(`${ETCDCTL_BIN} missing: apt-get install -y etcd-client`);
  const ep = typeof endpoint === 'string' ? endpoint : endpoint.endpoint;
  return run(ETCDCTL_BIN, ['--endpoints', ep, ...args], { ...opts, env: { ETCDCTL_API: '3', ...opts.env } });
}

/** Run a command to completion (hang guard: SIGKILL after timeoutMs), stdin from opts.input. */
export function run(cmd: string, args: string[], opts: CtlOpts = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const stdin = opts.input === undefined ? 'ignore' : 'pipe';
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: [stdin, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let matched = false;
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (opts.killWhen && !matched && opts.killWhen.test(stdout)) {
        matched = true;
        setTimeout(() => child.kill('SIGKILL'), KILL_WHEN_GRACE_MS);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a command that exits without reading its input: EPIPE
      child.stdin.end(opts.input);
    }
  });
}

const CAPNSLOG_ERROR_PREFIX = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ [CE] \| etcdmain: /;

/**
 * The line that explains why a daemon exited: the last non-empty line of its output that is not a
 * JSON or info log, without capnslog's fatal or error prefix (etcd's plog.Fatalf, plog.Errorf).
 */
export function failureLine(output: string): string {
  const lines = output.split('\n').filter((l) => l !== '' && !l.startsWith('{') && !/ [IWN] \| |^\[WARNING\]|^raft/.test(l));
  return lines.at(-1)?.replace(CAPNSLOG_ERROR_PREFIX, '') ?? '';
}

/** etcdctl that must succeed; returns stdout. */
export async function ctlOk(endpoint: string | Member, args: string[], opts: CtlOpts = {}): Promise<string> {
  const r = await etcdctl(endpoint, args, opts);
  if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
