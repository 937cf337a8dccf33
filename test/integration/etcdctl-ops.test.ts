// etcdctl 3.4 watch, lease and maintenance commands against one member of ours, and the same
// assertions against real etcd 3.4.23 (so each expected output is etcd's): live watch with prev-kv,
// watch from history and from a compacted revision, lease grant/attach/keep-alive/timetolive/list/
// revoke and expiry (a 2 s TTL deletes its key), endpoint health/status/hashkv, member list, alarm
// list, defrag, move-leader to itself and to a stranger, snapshot save (what is in the file:
// snapshot-bbolt.test.ts).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, ETCDCTL_BIN, etcdctl, startEtcd, startMember, tempDir, type Impl, type Member } from './harness.js';

const EXPIRY_WAIT_MS = 15_000; // hang guard for a 2 s lease to be revoked by the leader

/** A running `etcdctl watch ...`: its output so far, a wait for a pattern, and a stop. */
function watcher(m: Member, args: string[]): { out: () => string; until: (re: RegExp) => Promise<void>; stop: () => Promise<void> } {
  const child = spawn(ETCDCTL_BIN, ['--endpoints', m.endpoint, 'watch', ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    out: () => out,
    until: async (re) => {
      const deadline = Date.now() + 10_000;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`watch output never matched ${re}:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

afterAll(cleanup);

describe.each<Impl>(['ours', 'etcd'])('etcdctl watch, lease and maintenance (%s)', (impl) => {
  let m: Member;
  let id: string; // member id, hex as etcdctl prints it
  const ctl = (...args: string[]): Promise<string> => ctlOk(m, args);
  const lastErr = async (...args: string[]): Promise<[number | null, string]> => {
    const r = await etcdctl(m, args);
    return [r.code, r.stderr.trimEnd().split('\n').at(-1)!];
  };

  beforeAll(async () => {
    m = impl === 'ours' ? await startMember() : await startEtcd();
    id = (await ctl('member', 'list')).split(',')[0]!;
  });

  it('watch: live puts and deletes with prev-kv, then history from --rev', async () => {
    const w = watcher(m, ['w/', '--prefix', '--prev-kv']);
    try {
      // the watch is live once a probe written after the spawn shows up
      await until('watch to start', async () => (await ctl('put', 'w/probe', 'p'), /w\/probe/.test(w.out()) || undefined), 10_000);
      await ctl('put', 'w/a', '1');
      await ctl('put', 'w/a', '2');
      await ctl('del', 'w/a');
      await w.until(/DELETE\nw\/a\n2\nw\/a\n\n/);
      // each event: type, then the previous key and value (if any), then the key and value
      const out = w.out();
      expect(out.slice(out.lastIndexOf('w/probe\np\n') + 'w/probe\np\n'.length)).toBe('PUT\nw/a\n1\nPUT\nw/a\n1\nw/a\n2\nDELETE\nw/a\n2\nw/a\n\n');
    } finally {
      await w.stop();
    }
    const rev = JSON.parse(await ctl('get', 'w/probe', '-w', 'json')).kvs[0].create_revision as number;
    const h = watcher(m, ['w/probe', '--rev', String(rev)]);
    try {
      await h.until(/PUT\nw\/probe\np\n/);
    } finally {
      await h.stop();
    }
  });

  it('watch from a compacted revision is canceled with etcd\'s text', async () => {
    const rev = JSON.parse(await ctl('put', 'c', '1', '-w', 'json')).header.revision as number;
    await ctl('put', 'c', '2');
    await ctl('compaction', String(rev + 1));
    const r = await etcdctl(m, ['watch', 'c', '--rev', String(rev)]);
    expect([r.code, r.stdout, r.stderr]).toEqual([5, '', 'watch was canceled (etcdserver: mvcc: required revision has been compacted)\nError: watch is canceled by the server\n']);
  });

  it('lease: grant, put --lease, timetolive --keys, list, keep-alive --once, revoke', async () => {
    const granted = await ctl('lease', 'grant', '100');
    const lease = /^lease ([0-9a-f]{16}) granted with TTL\(100s\)\n$/.exec(granted)?.[1];
    expect(lease, granted).toBeDefined();
    expect(await ctl('put', 'l/a', 'v', '--lease', lease!)).toBe('OK\n');
    expect(await ctl('put', 'l/b', 'v', '--lease', lease!)).toBe('OK\n');
    // (remaining: a second or more may pass between the grant and the question on a loaded machine)
    const ttl = new RegExp(`^lease ${lease} granted with TTL\\(100s\\), remaining\\((9\\d|100)s\\), attached keys\\(\\[(.*)\\]\\)\n$`).exec(await ctl('lease', 'timetolive', lease!, '--keys'));
    expect(ttl?.[2]?.split(' ').sort()).toEqual(['l/a', 'l/b']); // etcd lists them in map order
    expect(await ctl('lease', 'list')).toBe(`found 1 leases\n${lease}\n`);
    expect(await ctl('lease', 'keep-alive', '--once', lease!)).toBe(`lease ${lease} keepalived with TTL(100)\n`);
    expect(await ctl('lease', 'revoke', lease!)).toBe(`lease ${lease} revoked\n`);
    expect(await ctl('get', 'l/', '--prefix')).toBe('');
    expect(await ctl('lease', 'timetolive', lease!)).toBe(`lease ${lease} already expired\n`);
    expect(await lastErr('lease', 'keep-alive', '--once', lease!)).toEqual([2, 'Error: etcdserver: requested lease not found']);
    expect(await lastErr('put', 'l/c', 'v', '--lease', lease!)).toEqual([1, 'Error: etcdserver: requested lease not found']);
  });

  it('lease: a 2 s lease expires and deletes its key', async () => {
    const lease = /lease (\w+) granted with TTL\(2s\)/.exec(await ctl('lease', 'grant', '2'))![1]!;
    await ctl('put', 'short', 'lived', '--lease', lease);
    expect(await ctl('get', 'short')).toBe('short\nlived\n');
    await until('the key to be deleted by expiry', async () => ((await ctl('get', 'short')) === '' ? true : undefined), EXPIRY_WAIT_MS);
    expect(await ctl('lease', 'timetolive', lease)).toBe(`lease ${lease} already expired\n`);
    expect(await ctl('lease', 'list')).not.toContain(lease);
  });

  it('endpoint health, status, hashkv', async () => {
    const health = await etcdctl(m, ['endpoint', 'health']);
    expect([health.code, health.stdout]).toEqual([0, '']);
    expect(health.stderr).toMatch(new RegExp(`^${m.endpoint} is healthy: successfully committed proposal: took = [0-9.]+[µm]?s\n$`));
    const [st] = JSON.parse(await ctl('endpoint', 'status', '-w', 'json')) as { Endpoint: string; Status: Record<string, unknown> & { header: { revision: number } } }[];
    expect(st!.Endpoint).toBe(m.endpoint);
    expect(st!.Status).toMatchObject({ version: '3.4.23', raftTerm: 2 });
    expect(BigInt(st!.Status.leader as number).toString(16)).toHaveLength(id.length); // JSON numbers lose the low bits
    expect(st!.Status.raftAppliedIndex).toBe(st!.Status.raftIndex);
    const table = await ctl('endpoint', 'status');
    expect(table).toMatch(new RegExp(`^${m.endpoint}, ${id}, 3\\.4\\.23, [0-9.]+ [kM]?B, true, false, 2, \\d+, \\d+, \n$`));
    const hk = await ctl('endpoint', 'hashkv');
    expect(hk).toMatch(new RegExp(`^${m.endpoint}, \\d+\n$`));
    expect(await ctl('endpoint', 'hashkv')).toBe(hk); // no writes in between: the same hash
  });

  it('member list, alarm list, defrag, move-leader', async () => {
    expect(await ctl('member', 'list')).toBe(`${id}, started, default, ${m.peerUrl}, ${m.clientUrl}, false\n`);
    expect(await ctl('alarm', 'list')).toBe('');
    expect(await ctl('defrag')).toBe(`Finished defragmenting etcd member[${m.endpoint}]\n`);
    expect(await ctl('put', 'after-defrag', 'ok')).toBe('OK\n');
    expect(await ctl('get', 'after-defrag', '--print-value-only')).toBe('ok\n');
    expect(await ctl('move-leader', id)).toBe(`Leadership transferred from ${id} to ${id}\n`);
    expect(await lastErr('move-leader', '1234')).toEqual([1, 'Error: etcdserver: bad leader transferee']);
  });

  it('snapshot save: etcdctl checks the sha256 trailer and writes the file', async () => {
    await ctl('put', 'snap', 'shot');
    const file = join(await tempDir('it-snap-'), 'snap.db');
    const r = await etcdctl(m, ['snapshot', 'save', file]);
    expect([r.code, r.stdout], r.stderr).toEqual([0, `Snapshot saved at ${file}\n`]);
    expect(r.stderr).toMatch(/"msg":"fetched snapshot","endpoint":"127\.0\.0\.1:\d+","size":"[0-9.]+ [kM]?B"/);
    // the file is the page-aligned image followed by its sha256, as received
    const bytes = await readFile(file);
    expect(bytes.length % 512).toBe(32);
    const digest = createHash('sha256').update(bytes.subarray(0, -32)).digest();
    expect(digest.equals(bytes.subarray(-32))).toBe(true);
  });
});
