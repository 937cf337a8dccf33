// validateEnvironment: the checks that need the machine, made before any data is opened or written.
// In order: data dir (and wal dir) usable, TLS files readable, the data dir belongs to this member
// (or, when there is no data yet, --initial-cluster names this member with its peer URLs), and
// every listen URL can be bound. Each failure is a ConfigError with one line in etcd's wording:
//   cannot access data directory: mkdir /var/lib/etcd: permission denied
//   listen tcp 127.0.0.1:2379: bind: address already in use
// Nothing is left behind: writability is tested by creating and removing; ports are bound and
// released at once.
import { constants, promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ConfigError } from './errors.js';
import { checkInitialCluster } from './build.js';
import { formatUrl, urlHost, urlPort } from './values.js';
import { ListenError, resolveListenHost } from '../platform/listen.js';
import type { Config } from './config-types.js';

/** What the storage layer knows about an existing data dir. */
export interface ExistingData {
  /** true when the data dir already holds a member's data. */
  exists: boolean;
  /** The member name stored with the data, when the storage layer records one. */
  memberName?: string;
}
export type DataDirProbe = (config: Config) => Promise<ExistingData>;

const ERRNO_TEXT: Record<string, string> = {
  EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system',
  ENOTDIR: 'not a directory', ENOENT: 'no such file or directory', EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address', EISDIR: 'is a directory', ENOSPC: 'no space left on device',
};
export const errnoText = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  return (err.code && ERRNO_TEXT[err.code]) || err.message;
};

const exists = async (p: string): Promise<boolean> => fsp.stat(p).then(() => true, () => false);

/** etcd's default layout keeps data in <data-dir>/member; the server may pass a better probe. */
export const defaultProbe: DataDirProbe = async (c) => ({ exists: await exists(path.join(c.dataDir, 'member')) });

/**
 * The directory must be (or become) a writable directory. Like etcd's touch test, we really write:
 * an existing dir gets a `.touch` file created and removed; a missing one is created and removed
 * again (with any parents we made), so a failed start leaves nothing behind.
 */
async function checkDirUsable(dir: string, what: string): Promise<void> {
  const abs = path.resolve(dir);
  const st = await fsp.stat(abs).catch(() => undefined);
  if (st !== undefined) {
    if (!st.isDirectory()) throw new ConfigError(`cannot access ${what}: ${dir} is not a directory`);
    const touch = path.join(abs, '.touch');
    try {
      await fsp.writeFile(touch, '', { flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      await fsp.unlink(touch);
    } catch (e) {
      throw new ConfigError(`cannot access ${what}: open ${path.join(dir, '.touch')}: ${errnoText(e)}`);
    }
    return;
  }
  // One level at a time: recursive mkdir can spin on odd file systems (ENOENT under /proc).
  const missing: string[] = [];
  for (let d = abs; ; d = path.dirname(d)) {
    if (await fsp.stat(d).then(() => true, () => false)) break;
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  const made: string[] = [];
  try {
    for (const d of missing) {
      await fsp.mkdir(d, { mode: 0o700 });
      made.unshift(d);
    }
  } catch (e) {
    throw new ConfigError(`cannot access ${what}: mkdir ${dir}: ${errnoText(e)}`);
  } finally {
    for (const d of made) await fsp.rmdir(d).catch(() => {});
  }
}

async function checkTlsFiles(c: Config): Promise<void> {
  const files = [
    c.clientTls.certFile, c.clientTls.keyFile, c.clientTls.trustedCaFile, c.clientTls.crlFile,
    c.peerTls.certFile, c.peerTls.keyFile, c.peerTls.trustedCaFile, c.peerTls.crlFile,
  ].filter((f) => f !== '');
  for (const f of files) {
    await fsp.access(f, constants.R_OK).catch((e: unknown) => {
      throw new ConfigError(`open ${f}: ${errnoText(e)}`);
    });
  }
}

/** Bind and release host:port at once; rejects with etcd's "listen tcp ...: bind: ..." line. */
export function probePort(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (e) => {
      const shown = host.includes(':') ? `[${host}]` : host;
      reject(new ConfigError(`listen tcp ${shown}:${port}: bind: ${errnoText(e)}`));
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

async function checkPorts(c: Config): Promise<void> {
  const seen = new Set<string>();
  for (const u of [...c.listenClientUrls, ...c.listenPeerUrls, ...c.listenMetricsUrls]) {
    if (u.protocol === 'unix:' || u.protocol === 'unixs:') continue;
    const key = formatUrl(u).replace(/^[a-z]+:/, '');
    if (seen.has(key)) continue;
    seen.add(key);
    let host: string;
    try {
      host = await resolveListenHost(urlHost(u));
    } catch (e) {
      throw e instanceof ListenError ? new ConfigError(e.message) : e;
    }
    await probePort(host, urlPort(u));
  }
}

/**
 * Check the machine before touching data. Resolves to warnings; throws ConfigError.
 * `probe` tells whether the data dir holds a member already (and its stored name).
 */
export async function validateEnvironment(config: Config, probe: DataDirProbe = defaultProbe): Promise<string[]> {
  const warnings: string[] = [];
  await checkDirUsable(config.dataDir, 'data directory');
  if (config.walDir !== '') await checkDirUsable(config.walDir, 'wal directory');
  await checkTlsFiles(config);
  const existing = await probe(config);
  if (existing.exists) {
    if (existing.memberName !== undefined && existing.memberName !== config.name) {
      throw new ConfigError(
        `data directory ${JSON.stringify(config.dataDir)} belongs to member ${JSON.stringify(existing.memberName)}, ` +
          `not ${JSON.stringify(config.name)} (--name); start it with --name ${existing.memberName} or use another --data-dir`,
      );
    }
  } else {
    checkInitialCluster(config);
  }
  await checkPorts(config);
  return warnings;
}
