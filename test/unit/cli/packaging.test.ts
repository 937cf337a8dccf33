// Packaging: etc/etcd/etcd.conf lists every ETCD_* setting with its default (and uncommented it is
// a valid configuration), the systemd unit has the directives the daemon relies on, and the SysV
// script starts, reports, restarts and stops a daemon (a stand-in script that records its ETCD_*).
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/cli/config.js';
import { FLAGS, flagToEnv } from '../../../src/cli/flags.js';

const exec = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../../..');
const read = (p: string) => readFileSync(path.join(repo, p), 'utf8');

describe('etc/etcd/etcd.conf', () => {
  const conf = read('etc/etcd/etcd.conf');
  const lines = conf.split('\n').filter((l) => /^#ETCD_[A-Z0-9_]+=/.test(l)).map((l) => l.slice(1));
  const env = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

  it('names every flag\'s variable with its default', () => {
    for (const f of FLAGS) {
      const want = f.name === 'data-dir' ? '/var/lib/etcd' : f.default;
      expect(env[flagToEnv(f.name)], f.name).toBe(want);
    }
    expect(Object.keys(env).sort()).toEqual([...FLAGS.map((f) => flagToEnv(f.name)), 'ETCD_CONFIG_FILE'].sort());
  });

  it('is a valid configuration with every line uncommented', () => {
    const { config, warnings } = parseConfig([], env);
    expect(config.dataDir).toBe('/var/lib/etcd');
    expect(warnings).toEqual([]);
  });
});

describe('systemd/etcd.service', () => {
  const unit = read('systemd/etcd.service');
  it.each([
    'Type=notify', 'NotifyAccess=all', 'EnvironmentFile=-/etc/etcd/etcd.conf', 'ExecStart=/usr/local/bin/etcd',
    'User=etcd', 'Restart=on-failure', 'LimitNOFILE=65536', 'WantedBy=multi-user.target',
  ])('has %s', (directive) => {
    expect(unit.split('\n')).toContain(directive);
  });
});

describe('init.d/etcd', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etcd-initd-'));
  const started: number[] = [];
  afterAll(() => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const daemon = path.join(dir, 'fake-etcd');
  writeFileSync(daemon, '#!/bin/sh\necho "started name=$ETCD_NAME data=$ETCD_DATA_DIR"\ntrap \'echo stopped; exit 0\' TERM\nwhile :; do sleep 0.1; done\n');
  chmodSync(daemon, 0o755);
  const failing = path.join(dir, 'failing-etcd');
  writeFileSync(failing, '#!/bin/sh\necho "error verifying flags, unknown logger option \\"x\\". See \'etcd --help\'." >&2\nexit 1\n');
  chmodSync(failing, 0o755);
  writeFileSync(path.join(dir, 'etcd.conf'), `ETCD_NAME=infra1\nETCD_DATA_DIR=${dir}/data\n`);
  const pidfile = path.join(dir, 'etcd.pid');
  const logfile = path.join(dir, 'etcd.log');
  const run = (action: string, bin = daemon) =>
    exec(path.join(repo, 'init.d/etcd'), [action], {
      env: { PATH: process.env['PATH'], DAEMON: bin, CONFFILE: path.join(dir, 'etcd.conf'), PIDFILE: pidfile,
        LOGFILE: logfile, RUN_AS: os.userInfo().username, START_WAIT: '1', STOP_TIMEOUT: '5' },
    }).then((r) => ({ code: 0, out: r.stdout + r.stderr }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));
  const pid = () => Number(readFileSync(pidfile, 'utf8'));
  /** Alive and not a zombie (in a container, pid 1 may never reap the daemon we orphaned). */
  const alive = (p: number): boolean => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${p}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };

  it('has chkconfig and LSB headers', () => {
    const script = read('init.d/etcd');
    expect(script).toMatch(/^# chkconfig: 2345 \d+ \d+$/m);
    expect(script).toContain('### BEGIN INIT INFO');
    expect(script).toMatch(/^# Provides: +etcd$/m);
  });

  it('start, status, start again, restart, stop', async () => {
    expect(await run('status')).toEqual({ code: 3, out: 'etcd is not running\n' });
    const s = await run('start');
    expect(s.code).toBe(0);
    const first = pid();
    started.push(first);
    expect(alive(first)).toBe(true);
    expect(readFileSync(logfile, 'utf8')).toContain(`started name=infra1 data=${dir}/data`);
    expect(await run('status')).toEqual({ code: 0, out: `etcd (pid ${first}) is running\n` });
    expect((await run('start')).out).toBe(`etcd is already running (pid ${first})\n`);
    expect((await run('restart')).code).toBe(0);
    const second = pid();
    started.push(second);
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    expect((await run('stop')).code).toBe(0);
    expect(alive(second)).toBe(false);
    expect(existsSync(pidfile)).toBe(false);
    expect(readFileSync(logfile, 'utf8')).toContain('stopped');
    expect((await run('stop')).out).toBe('etcd is not running\n');
  });

  it('start fails, showing the daemon\'s line, when the daemon exits at once', async () => {
    const r = await run('start', failing);
    expect(r.code).toBe(1);
    expect(r.out).toContain('unknown logger option');
    expect(existsSync(pidfile)).toBe(false);
  });

  it('rejects an unknown action with usage and exit 2', async () => {
    const r = await run('bogus');
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^Usage: /);
  });
});
