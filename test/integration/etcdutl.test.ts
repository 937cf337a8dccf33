// bin/etcdutl (issue 16): `snapshot status` prints what etcdctl 3.4 prints for the same file;
// `snapshot restore` refuses a corrupted or truncated snapshot with etcdctl's error text and writes
// nothing; a snapshot real etcd 3.4.23 saved (test/fixtures/bbolt/etcd34.db), restored by etcdutl into
// three data dirs, starts a new 3-member cluster of ours (new cluster id) serving the same keys as
// real etcd restored from it by real etcdctl.
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterMember, waitHealthy } from './cluster-harness.js';
import { ETCDCTL_BIN, ROOT, cleanup, ctlOk, freePort, run, startEtcd, tempDir, type Member } from './harness.js';

afterAll(cleanup, 30_000);
const fixture = join(ROOT, 'test/fixtures/bbolt/etcd34.db');
const etcdutl = (args: string[]) => run(process.execPath, [join(ROOT, 'bin/etcdutl'), ...args]);
const etcdctl = (args: string[]) => run(ETCDCTL_BIN, args, { env: { ETCDCTL_API: '3' } });
const lastLine = (s: string): string => s.trim().split('\n').at(-1) ?? '';

interface Kvs {
  header: { cluster_id: number | string; revision: number };
  kvs?: Array<Record<string, unknown>>;
}
async function allKeys(m: Pick<Member, 'endpoint'>): Promise<Kvs> {
  return JSON.parse(await ctlOk(m.endpoint, ['get', '', '--from-key', '-w', 'json'])) as Kvs;
}

describe('etcdutl snapshot', () => {
  it("status prints etcdctl's output; restore refuses damaged files as etcdctl does, writing nothing (etcd leaves member/snap/db)", async () => {
    for (const w of ['simple', 'table', 'json', 'fields']) {
      const [ours, theirs] = await Promise.all([etcdutl(['snapshot', 'status', fixture, '-w', w]), etcdctl(['snapshot', 'status', fixture, '-w', w])]);
      expect([ours.code, ours.stdout]).toEqual([theirs.code, theirs.stdout]);
    }
    const dir = await tempDir('it-etcdutl-');
    const bytes = await readFile(fixture);
    const corrupt = join(dir, 'corrupt.db');
    const damaged = Buffer.from(bytes);
    damaged[9000] ^= 0xff;
    await writeFile(corrupt, damaged);
    const truncated = join(dir, 'truncated.db');
    await writeFile(truncated, bytes.subarray(0, 50000));
    for (const file of [corrupt, truncated]) {
      const args = (d: string) => ['snapshot', 'restore', file, '--data-dir', d];
      const [ours, theirs] = await Promise.all([etcdutl(args(join(dir, 'ours'))), etcdctl(args(join(dir, `etcd-${file.length}`)))]);
      expect(ours.code).toBe(1);
      expect(lastLine(ours.stderr)).toBe(lastLine(theirs.stderr));
      expect(existsSync(join(dir, 'ours'))).toBe(false);
    }
    const exists = await etcdutl(['snapshot', 'restore', fixture, '--data-dir', dir]);
    expect([exists.code, lastLine(exists.stderr)]).toEqual([1, `Error: data-dir "${dir}" exists`]);
    // advertised peer URLs that disagree with --initial-cluster, as etcd's VerifyBootstrap words it
    for (const [ic, ap] of [['m2=http://127.0.0.1:2390,m1=http://127.0.0.1:2381,m1=http://127.0.0.1:2380', 'http://127.0.0.1:2381,http://127.0.0.1:9999'],
      ['m1=http://127.0.0.1:2380', 'http://127.0.0.1:2380,http://127.0.0.1:9999'], ['m1=http://127.0.0.1:2380', 'http://127.0.0.1:9999']]) {
      const args = (d: string) => ['snapshot', 'restore', fixture, '--name', 'm1', '--data-dir', d, '--initial-cluster', ic!, '--initial-advertise-peer-urls', ap!];
      const [ours, theirs] = await Promise.all([etcdutl(args(join(dir, 'ours'))), etcdctl(args(join(dir, 'theirs')))]);
      expect([ours.code, lastLine(ours.stderr)]).toEqual([theirs.code, lastLine(theirs.stderr)]);
      expect(lastLine(ours.stderr)).toMatch(/^Error: --initial-(cluster|advertise-peer-urls) has /);
      expect(existsSync(join(dir, 'ours'))).toBe(false);
    }
  }, 30_000);

  it("restores real etcd's snapshot into a new 3-member cluster of ours serving its data", async () => {
    const dir = await tempDir('it-etcdutl-');
    const ports: number[] = [];
    while (ports.length < 8) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const defs = [0, 1, 2].map((i) => ({
      name: `r${i}`, clientUrl: `http://127.0.0.1:${ports[2 * i]}`, peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`, dataDir: join(dir, `r${i}`),
    }));
    const ic = defs.map((d) => `${d.name}=${d.peerUrl}`).join(',');
    for (const d of defs) {
      const r = await etcdutl(['snapshot', 'restore', fixture, '--name', d.name, '--data-dir', d.dataDir, '--initial-cluster', ic,
        '--initial-cluster-token', 'restored', '--initial-advertise-peer-urls', d.peerUrl]);
      expect(r.code, r.stderr).toBe(0);
    }
    const members = defs.map((d) => clusterMember('ours', { ...d, endpoint: d.clientUrl.slice(7) }, [
      '--name', d.name, '--data-dir', d.dataDir, '--listen-client-urls', d.clientUrl, '--advertise-client-urls', d.clientUrl,
      '--listen-peer-urls', d.peerUrl, '--initial-advertise-peer-urls', d.peerUrl, '--initial-cluster', ic, '--initial-cluster-token', 'restored',
    ]));
    // the oracle: real etcd restored from the same file by real etcdctl
    const copy = join(dir, 'etcd34.db');
    await copyFile(fixture, copy);
    const peer = `http://127.0.0.1:${ports[7]}`;
    const restored = await etcdctl(['snapshot', 'restore', copy, '--name', 'default', '--data-dir', join(dir, 'etcd'),
      '--initial-cluster', `default=${peer}`, '--initial-advertise-peer-urls', peer]);
    expect(restored.code, restored.stderr).toBe(0);
    const etcd = await startEtcd({ dataDir: join(dir, 'etcd') });
    await waitHealthy(members);
    const want = await allKeys(etcd);
    expect(want.kvs?.length).toBeGreaterThan(30);
    for (const m of members) {
      const got = await allKeys(m);
      expect(got.kvs).toEqual(want.kvs);
      expect(got.header.revision).toEqual(want.header.revision);
    }
    const list = await ctlOk(members[0]!.endpoint, ['member', 'list']);
    expect(list.trim().split('\n').map((l) => l.split(', ')[2]).sort()).toEqual(['r0', 'r1', 'r2']);
    expect(await ctlOk(members[1]!.endpoint, ['lease', 'list'])).toBe(await ctlOk(etcd, ['lease', 'list']));
    expect(await ctlOk(members[2]!.endpoint, ['user', 'get', 'u1'])).toBe('User: u1\nRoles: r1\n');
    await ctlOk(members[0]!.endpoint, ['put', 'after', 'restore']);
    expect(await ctlOk(members[2]!.endpoint, ['get', 'after', '--print-value-only'])).toBe('restore\n');
  }, 90_000);
});
