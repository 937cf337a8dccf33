// A cluster of ours over mutual TLS grows 1 → 3 → 5 with etcdctl `member add` and members started
// with --initial-cluster-state existing, then shrinks back to 1 with `member remove`, while a client
// writes all along. Every write the client saw acknowledged is on the last member standing, each
// removed member exits as etcd's does, and at 3 and 5 members `endpoint hashkv --cluster` is equal.
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, tempDir, type CtlOpts } from './harness.js';
import { makeCerts, type Certs } from './certs.js';
import { startCluster, type ClusterMember } from './cluster-harness.js';
import { ctlSettled, initialClusterOf, memberIdOf, planJoiner, sleep, startJoiner } from './members-harness.js';

afterAll(cleanup);

/** Puts w/<n> one after another through the first member; remembers which were acknowledged. */
class Writer {
  readonly acked: string[] = [];
  unknown = 0;
  private paused = false;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly client: Etcd3) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    for (let n = 0; !this.stopped; n++) {
      while (this.paused && !this.stopped) await sleep(50);
      const key = `w/${String(n).padStart(6, '0')}`;
      try {
        await Promise.race([this.client.put(key).value(String(n)), sleep(5000).then(() => Promise.reject(new Error('timeout')))]);
        this.acked.push(key);
      } catch {
        this.unknown++; // failed or timed out: may or may not have been applied
      }
      await sleep(20);
    }
  }

  /** Runs `f` with no write in flight (so every member can reach the same revision). */
  async quiet<T>(f: () => Promise<T>): Promise<T> {
    this.paused = true;
    await sleep(300);
    try {
      return await f();
    } finally {
      this.paused = false;
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }
}

const ctlTls = (c: Certs): CtlOpts => ({ env: { ETCDCTL_CACERT: c.caCert, ETCDCTL_CERT: c.clientCert, ETCDCTL_KEY: c.clientKey } });

async function clusterHashes(endpoint: string, tls: CtlOpts): Promise<number[]> {
  for (let i = 0; ; i++) {
    const r = JSON.parse(await ctlOk(endpoint, ['endpoint', 'hashkv', '--cluster', '-w', 'json'], tls)) as Array<{ HashKV: { hash: number; header: { revision: number } } }>;
    // members may still be applying the last writes: ask again until their revisions agree
    if (new Set(r.map((x) => x.HashKV.header.revision)).size === 1 || i === 20) return r.map((x) => x.HashKV.hash);
    await sleep(250);
  }
}

describe('grow and shrink under writes (ours, mutual TLS)', () => {
  it('1 → 3 → 5 → 1: every acknowledged write kept, hashes equal, removed members exit', async () => {
    const certs = makeCerts(await tempDir('it-certs-'));
    const tls = ctlTls(certs);
    const [first] = (await startCluster(['ours'], { certs })) as [ClusterMember];
    const client = new Etcd3({
      hosts: first.clientUrl,
      credentials: { rootCertificate: readFileSync(certs.caCert), certChain: readFileSync(certs.clientCert), privateKey: readFileSync(certs.clientKey) },
    });
    const writer = new Writer(client);
    const members: ClusterMember[] = [first];
    try {
      for (const size of [3, 5]) {
        while (members.length < size) {
          const j = await planJoiner(`m${members.length}`, 'https');
          const added = await ctlSettled(first.endpoint, ['member', 'add', j.name, `--peer-urls=${j.peerUrl}`], tls);
          expect(added).toContain(`ETCD_INITIAL_CLUSTER_STATE="existing"`);
          members.push(await startJoiner('ours', j, initialClusterOf([...members, j]), { certs }));
        }
        const list = (await ctlOk(first.endpoint, ['member', 'list'], tls)).trim().split('\n');
        expect(list).toHaveLength(size);
        for (const m of members) expect(list.join('\n')).toContain(`, started, ${m.name}, ${m.peerUrl}, ${m.clientUrl}, false`);
        const hs = await writer.quiet(() => clusterHashes(first.endpoint, tls));
        expect(hs).toHaveLength(size);
        expect(new Set(hs).size).toBe(1);
      }
      while (members.length > 1) {
        const m = members.pop()!;
        const id = await memberIdOf(first.endpoint, m.peerUrl, tls);
        expect(await ctlSettled(first.endpoint, ['member', 'remove', id], tls)).toMatch(new RegExp(`^Member +${id} removed from cluster +[0-9a-f]+\\n$`));
        expect(await m.exited()).toEqual({ code: 0, signal: null });
        if (members.length === 3) {
          const hs = await writer.quiet(() => clusterHashes(first.endpoint, tls));
          expect(new Set(hs).size).toBe(1);
        }
      }
      await sleep(500);
    } finally {
      await writer.stop();
      client.close();
    }
    expect(writer.acked.length).toBeGreaterThan(50);
    const have = new Set((await ctlOk(first.endpoint, ['get', 'w/', '--prefix', '--keys-only'], tls)).split('\n').filter(Boolean));
    expect(writer.acked.filter((k) => !have.has(k))).toEqual([]);
    expect((await ctlOk(first.endpoint, ['member', 'list'], tls)).trim().split('\n')).toHaveLength(1);
  }, 400_000);
});
