// The oracle: real etcd 3.4.23 (/usr/bin/etcd, Debian etcd-server) gets the same bad input as
// parseConfig; both must refuse it with the same line and exit code. Fails (does not skip) when
// etcd is not installed: `apt-get install -y etcd-server`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/cli/config.js';

const ETCD = process.env['ETCD_ORACLE_BIN'] ?? '/usr/bin/etcd';
const dir = mkdtempSync(path.join(os.tmpdir(), 'etcd-oracle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run real etcd; its first error line without the log prefix, and its exit code. */
function runEtcd(argv: string[], env: NodeJS.ProcessEnv): Promise<{ line: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ETCD, argv, { cwd: dir, env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 10_000); // a case that starts etcd is a bug in the table
    child.once('error', (e) => reject(new Error(`cannot run ${ETCD} (apt-get install -y etcd-server): ${e.message}`)));
    child.once('exit', (code) => {
      clearTimeout(guard);
      const lines = err.split('\n').filter((l) => l !== '' && !l.startsWith('[WARNING]'));
      const line = (lines.find((l) => / [ECF] \| /.test(l)) ?? lines[0] ?? '').replace(/^\S+ \S+ [ECF] \| [a-z/]+: /, '');
      resolve({ line, code: code ?? -1 });
    });
  });
}

function ours(argv: string[], env: NodeJS.ProcessEnv): { line: string; code: number } {
  try {
    parseConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return { line: e.message, code: e.exitCode };
    throw e;
  }
  return { line: '(accepted)', code: 0 };
}

const CASES: Array<[string[], NodeJS.ProcessEnv]> = [
  [['--bogus'], {}],
  [['-bogus'], {}],
  [['--name'], {}],
  [['--heartbeat-interval=abc'], {}],
  [['--snapshot-count=-1'], {}],
  [['--max-request-bytes=1.5'], {}],
  [['--grpc-keepalive-min-time=5'], {}],
  [['--enable-v2=maybe'], {}],
  [['--initial-cluster-state=weird'], {}],
  [['--discovery-fallback=bogus'], {}],
  [['--listen-client-urls=foo'], {}],
  [['--listen-client-urls=http://127.0.0.1:2379/x'], {}],
  [['--listen-peer-urls=http://127.0.0.1'], {}],
  [['stray-argument'], {}],
  [['--auto-compaction-mode=foo'], {}],
  [['--logger=bogus'], {}],
  [['--election-timeout=100', '--heartbeat-interval=100'], {}],
  [['--listen-client-urls=http://127.0.0.1:1'], {}],
  [[], { ETCD_HEARTBEAT_INTERVAL: 'abc' }],
  [[], { ETCD_ENABLE_V2: 'maybe' }],
  [[], { ETCD_LISTEN_CLIENT_URLS: 'foo' }],
  [['--config-file', path.join(dir, 'missing.yml')], {}],
];

describe('bad configuration: our line and exit code equal etcd 3.4.23\'s', () => {
  it.each(CASES)('%j %j', async (argv, env) => {
    const theirs = await runEtcd(argv, env);
    expect(ours(argv, env)).toEqual(theirs);
  });
});
