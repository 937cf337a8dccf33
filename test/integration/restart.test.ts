// Durability across restarts on the same data dir: every write a client saw acknowledged is there
// after SIGKILL in the middle of a write stream, and after SIGTERM; revisions continue where they
// were; a lease and its keys survive. Run against ours and, for the same assertions, etcd 3.4.23.
import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, startEtcd, startMember, type Impl, type Member } from './harness.js';

const WRITERS = 8; // concurrent client writers
const KEYS_BEFORE_KILL = 150; // acknowledged writes we wait for before the SIGKILL

afterAll(cleanup);

interface Dump {
  rev: number;
  kvs: Map<string, string>;
}

async function dump(m: Member, prefix: string): Promise<Dump> {
  const r = JSON.parse(await ctlOk(m, ['get', prefix, '--prefix', '-w', 'json'])) as { header: { revision: number }; kvs?: { key: string; value: string }[] };
  const dec = (s: string): string => Buffer.from(s, 'base64').toString();
  return { rev: r.header.revision, kvs: new Map((r.kvs ?? []).map((kv) => [dec(kv.key), dec(kv.value)])) };
}

/** Writers put k/<w>/<i> = v<i> until stopped; returns the acknowledged keys. */
function writeStream(client: Etcd3): { acked: Map<string, string>; stop: () => Promise<void> } {
  const acked = new Map<string, string>();
  let running = true;
  const loops = Array.from({ length: WRITERS }, async (_, w) => {
    for (let i = 0; running; i++) {
      const key = `k/${w}/${String(i).padStart(5, '0')}`;
      try {
        await client.put(key).value(`v${i}`);
        acked.set(key, `v${i}`);
      } catch {
        return; // the member is gone: this write was not acknowledged
      }
    }
  });
  return {
    acked,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe.each<Impl>(['ours', 'etcd'])('restart on the same data dir (%s)', (impl) => {
  const start = (): Promise<Member> => (impl === 'ours' ? startMember() : startEtcd());

  it('SIGKILL during a write stream loses no acknowledged write; revisions continue', async () => {
    const m = await start();
    const lease = /lease (\w+) granted/.exec(await ctlOk(m, ['lease', 'grant', '600']))![1]!;
    await ctlOk(m, ['put', 'leased', 'yes', '--lease', lease]);
    const client = new Etcd3({ hosts: m.clientUrl });
    const s = writeStream(client);
    try {
      const deadline = Date.now() + 30_000; // hang guard
      while (s.acked.size < KEYS_BEFORE_KILL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(s.acked.size).toBeGreaterThanOrEqual(KEYS_BEFORE_KILL);
      await m.kill();
      await s.stop();
    } finally {
      client.close();
    }
    const acked = new Map(s.acked);
    await m.restart();
    const after = await dump(m, 'k/');
    const missing = [...acked].filter(([k, v]) => after.kvs.get(k) !== v).map(([k]) => k);
    expect(missing, `acknowledged writes lost after SIGKILL + restart:\n${m.logs()}`).toEqual([]);
    // each key was written once: the revision is the initial one + 1 (leased) + every surviving write
    expect(after.rev).toBe(2 + after.kvs.size);
    expect(JSON.parse(await ctlOk(m, ['put', 'next', 'x', '-w', 'json'])).header.revision).toBe(after.rev + 1);
    expect(await ctlOk(m, ['lease', 'timetolive', lease, '--keys'])).toMatch(new RegExp(`^lease ${lease} granted with TTL\\(600s\\), remaining\\(\\d+s\\), attached keys\\(\\[leased\\]\\)\n$`));
  });

  it('SIGTERM exits cleanly and a restart reads every key back', async () => {
    const m = await start();
    const client = new Etcd3({ hosts: m.clientUrl });
    try {
      for (let i = 0; i < 20; i++) await client.put(`t/${i}`).value(`v${i}`);
    } finally {
      client.close();
    }
    const before = await dump(m, 't/');
    expect(before.kvs.size).toBe(20);
    // clean: etcd 3.4 re-raises SIGTERM after its shutdown (killed by the signal); ours exits 0
    const exit = await m.stop();
    expect(exit.code === 0 || exit.signal === 'SIGTERM', JSON.stringify(exit)).toBe(true);
    expect(m.logs()).not.toMatch(/panic|uncaught|unhandled/i);
    await m.restart();
    const after = await dump(m, 't/');
    expect([after.rev, [...after.kvs]]).toEqual([before.rev, [...before.kvs]]);
  });
});
