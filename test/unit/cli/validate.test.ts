// validateEnvironment: unusable data dirs, another member's data dir, a bootstrap that does not name
// this member, unreadable TLS files and ports in use, each as one line, and nothing created on disk.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/cli/config.js';
import { validateEnvironment, type DataDirProbe } from '../../../src/cli/validate.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'etcd-validate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function occupy(): Promise<number> {
  const s = net.createServer();
  servers.push(s);
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  const port = await new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));
  await new Promise((r) => s.close(r));
  return port;
}

async function configFor(dataDir: string, extra: string[] = [], ports?: { client: number; peer: number }) {
  const client = ports?.client ?? (await freePort());
  const peer = ports?.peer ?? (await freePort());
  return parseConfig([
    '--name', 'infra1', '--data-dir', dataDir,
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `infra1=http://127.0.0.1:${peer}`, ...extra,
  ], {}).config;
}

async function failure(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ConfigError);
  return (e as Error).message;
}

const noData: DataDirProbe = async () => ({ exists: false });

describe('validateEnvironment', () => {
  it('accepts a fresh data dir under a writable parent, and creates nothing', async () => {
    const parent = mkdtempSync(path.join(root, 'ok-'));
    const c = await configFor(path.join(parent, 'a', 'b', 'data'));
    expect(await validateEnvironment(c, noData)).toEqual([]);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('refuses an existing data dir it cannot write into', async () => {
    expect(await failure(validateEnvironment(await configFor('/sys'), noData))).toMatch(/^cannot access data directory: open \/sys\/.touch: /);
  });

  it('refuses a data dir that is a file', async () => {
    const f = path.join(root, 'a-file');
    writeFileSync(f, 'x');
    expect(await failure(validateEnvironment(await configFor(f), noData))).toBe(`cannot access data directory: ${f} is not a directory`);
  });

  it('refuses a data dir below a file', async () => {
    const f = path.join(root, 'another-file');
    writeFileSync(f, 'x');
    const d = path.join(f, 'data');
    expect(await failure(validateEnvironment(await configFor(d), noData))).toBe(`cannot access data directory: mkdir ${d}: not a directory`);
  });

  it('refuses a data dir that cannot be created, even as root (sysfs)', async () => {
    const d = '/sys/etcd-data/x';
    expect(await failure(validateEnvironment(await configFor(d), noData))).toMatch(/^cannot access data directory: mkdir \/sys\/etcd-data\/x: (operation not permitted|permission denied)$/);
  });

  it('refuses another member\'s data dir', async () => {
    const d = mkdtempSync(path.join(root, 'member-'));
    const probe: DataDirProbe = async () => ({ exists: true, memberName: 'infra2' });
    expect(await failure(validateEnvironment(await configFor(d), probe))).toBe(
      `data directory ${JSON.stringify(d)} belongs to member "infra2", not "infra1" (--name); start it with --name infra2 or use another --data-dir`,
    );
  });

  it('skips the bootstrap checks when the data dir already holds this member', async () => {
    const d = mkdtempSync(path.join(root, 'member-'));
    const c = await configFor(d, ['--initial-cluster', 'someone-else=http://127.0.0.1:1']);
    expect(await validateEnvironment(c, async () => ({ exists: true, memberName: 'infra1' }))).toEqual([]);
  });

  it('on a new member, requires its name and peer URLs in --initial-cluster (etcd\'s lines)', async () => {
    const d = path.join(mkdtempSync(path.join(root, 'new-')), 'data');
    const peer = await freePort();
    const ports = { client: await freePort(), peer };
    const other = await configFor(d, ['--initial-cluster', `other=http://127.0.0.1:${peer}`], ports);
    expect(await failure(validateEnvironment(other, noData))).toBe('couldn\'t find local name "infra1" in the initial cluster configuration');
    const wrongUrl = await configFor(d, ['--initial-cluster', 'infra1=http://127.0.0.1:1'], ports);
    expect(await failure(validateEnvironment(wrongUrl, noData))).toBe(
      `--initial-cluster has infra1=http://127.0.0.1:1 but missing from --initial-advertise-peer-urls=http://127.0.0.1:${peer} (resolved urls: "http://127.0.0.1:${peer}" != "http://127.0.0.1:1")`,
    );
  });

  it('refuses unreadable TLS files', async () => {
    const d = path.join(mkdtempSync(path.join(root, 'tls-')), 'data');
    const c = await configFor(d, ['--cert-file', '/nonexist.crt', '--key-file', '/nonexist.key']);
    expect(await failure(validateEnvironment(c, noData))).toBe('open /nonexist.crt: no such file or directory');
  });

  it('refuses a port in use with etcd\'s line', async () => {
    const d = path.join(mkdtempSync(path.join(root, 'port-')), 'data');
    const busy = await occupy();
    const c = await configFor(d, [], { client: busy, peer: await freePort() });
    expect(await failure(validateEnvironment(c, noData))).toBe(`listen tcp 127.0.0.1:${busy}: bind: address already in use`);
  });
});
