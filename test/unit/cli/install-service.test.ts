// scripts/install-service.sh against a temporary root (--root): the etcd user and group, the config
// file, the data dir, the binary link and the service (systemd unit enabled, or the SysV script);
// a second run keeps everything and says so; --dry-run changes nothing.
import { execFileSync } from 'node:child_process';
import { lstat, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const SCRIPT = path.join(SRC, 'scripts/install-service.sh');
const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

/** An empty root with just enough of /etc for useradd --prefix. */
async function freshRoot(): Promise<string> {
  const r = await mkdtemp(path.join(tmpdir(), 'install-root-'));
  roots.push(r);
  await mkdir(path.join(r, 'etc'));
  await writeFile(path.join(r, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(path.join(r, 'etc/group'), 'root:x:0:\n');
  await writeFile(path.join(r, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  await writeFile(path.join(r, 'etc/gshadow'), 'root:*::\n', { mode: 0o640 });
  return r;
}

const install = (...args: string[]): string => execFileSync('sh', [SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const hasSystemctl = ((): boolean => {
  try {
    execFileSync('sh', ['-c', 'command -v systemctl'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('scripts/install-service.sh', () => {
  it('installs user, group, config, data dir, binary link and the systemd unit; a second run keeps them', async () => {
    const r = await freshRoot();
    install('--root', r);
    const user = (await readFile(path.join(r, 'etc/passwd'), 'utf8')).split('\n').find((l) => l.startsWith('etcd:'))!.split(':');
    const group = (await readFile(path.join(r, 'etc/group'), 'utf8')).split('\n').find((l) => l.startsWith('etcd:'))!.split(':');
    expect(user[3]).toBe(group[2]);
    expect(user[5]).toMatch(/^\/var\/lib\/etcd\/?$/);
    expect(user[6]).toMatch(/nologin$/);
    expect(await readFile(path.join(r, 'etc/etcd/etcd.conf'), 'utf8')).toBe(await readFile(path.join(SRC, 'etc/etcd/etcd.conf'), 'utf8'));
    const data = await stat(path.join(r, 'var/lib/etcd'));
    expect([data.mode & 0o777, data.uid]).toEqual([0o700, Number(user[2])]);
    expect(await readlink(path.join(r, 'usr/local/bin/etcd'))).toBe(path.join(SRC, 'bin/etcd'));
    if (hasSystemctl) {
      expect(await readFile(path.join(r, 'etc/systemd/system/etcd.service'), 'utf8')).toBe(await readFile(path.join(SRC, 'systemd/etcd.service'), 'utf8'));
      expect((await lstat(path.join(r, 'etc/systemd/system/multi-user.target.wants/etcd.service'))).isSymbolicLink()).toBe(true);
    } else {
      expect((await stat(path.join(r, 'etc/init.d/etcd'))).mode & 0o777).toBe(0o755);
    }
    // an operator's edit survives a second run, which says what it kept
    await writeFile(path.join(r, 'etc/etcd/etcd.conf'), 'ETCD_NAME=mine\n');
    const again = install('--root', r);
    expect(again).toContain('user etcd exists: kept');
    expect(again).toContain('etc/etcd/etcd.conf exists: kept');
    expect(again).toContain('var/lib/etcd exists: kept');
    expect(again.split('\n').filter((l) => l.startsWith('+ ') && !l.includes('systemctl'))).toEqual([]);
    expect(await readFile(path.join(r, 'etc/etcd/etcd.conf'), 'utf8')).toBe('ETCD_NAME=mine\n');
  });

  it('installs the SysV script with --no-systemd', async () => {
    const r = await freshRoot();
    const out = install('--root', r, '--no-systemd');
    expect((await stat(path.join(r, 'etc/init.d/etcd'))).mode & 0o777).toBe(0o755);
    expect(await readFile(path.join(r, 'etc/init.d/etcd'), 'utf8')).toBe(await readFile(path.join(SRC, 'init.d/etcd'), 'utf8'));
    expect(out).toContain('not enabling the SysV script under --root');
  });

  it('--dry-run prints the steps and changes nothing', async () => {
    const r = await freshRoot();
    const out = install('--root', r, '--dry-run');
    expect(out).toContain('+ useradd --system');
    expect(out).toContain(`+ install -m 0644 ${SRC}/etc/etcd/etcd.conf ${r}/etc/etcd/etcd.conf`);
    expect((await readdir(r)).sort()).toEqual(['etc']);
    expect((await readdir(path.join(r, 'etc'))).sort()).toEqual(['group', 'gshadow', 'passwd', 'shadow']);
    expect(await readFile(path.join(r, 'etc/passwd'), 'utf8')).not.toContain('etcd');
  });

  it('refuses an unknown option', () => {
    expect(() => install('--bogus')).toThrow(/unknown option --bogus/);
  });
});
