// Joining a running cluster with --initial-cluster-state existing, ours and etcd 3.4.23 side by side
// (each joiner of the same implementation as its 3-member cluster), compared by exit status and the
// line that says why (ids, ports and the order of Go's map listing masked): a member that was never
// added (member count is unequal), one started with other peer URLs than were added (no match
// found), none of the peers reachable; a joiner whose --initial-cluster-token differs joins all the
// same (the cluster id comes from the peers); and once its data dir exists, the bootstrap flags are
// ignored on a restart; a data dir made by another cluster makes the member that cluster's.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, failureLine, freePort, tempDir, type Impl } from './harness.js';
import { clusterMember, startCluster, waitHealthy, type ClusterMember } from './cluster-harness.js';
import { initialClusterOf, memberIdOf, planJoiner, sleep, startJoiner, type Joiner } from './members-harness.js';

afterAll(cleanup);

const EXIT_WAIT_MS = 40_000;

interface Ctx {
  tags: [string, string][];
}

/** Starts a joiner that must fail; its exit status and masked reason. */
async function failingJoin(impl: Impl, ctx: Ctx, j: Joiner, initialCluster: string, args: string[] = []): Promise<string> {
  const m = await startJoiner(impl, j, initialCluster, { wait: false, args });
  const timer = setTimeout(() => void m.kill(), EXIT_WAIT_MS);
  const exit = await m.exited();
  clearTimeout(timer);
  return `exit ${exit.code ?? exit.signal}: ${mask(failureLine(m.logs()), ctx)}`;
}

function mask(line: string, ctx: Ctx): string {
  let t = line;
  for (const [from, to] of ctx.tags) t = t.split(from).join(to);
  t = t.replace(/\b[0-9a-f]{12,16}\b/g, '<ID>');
  // which local member etcd compared last goes by the ids --initial-cluster-token gives: any of them
  t = t.replace(/(last resolver error \(resolved urls: "[^"]*" != )"[^"]*"\)/, '$1"<a local member\'s peer URL>")');
  // Go lists the existing members from a map: in any order
  t = t.replace(/Members:\[(.*)\] RemovedMemberIDs/, (_, inner: string) => `Members:[${inner.split(/ (?=&\{ID:)/).sort().join(' ')}] RemovedMemberIDs`);
  return t;
}

async function portTag(ctx: Ctx, url: string, tag: string): Promise<void> {
  ctx.tags.push([`127.0.0.1:${new URL(url).port}`, `127.0.0.1:<${tag}>`]);
}

async function scenarios(impl: Impl): Promise<string[]> {
  const ms = await startCluster([impl, impl, impl]);
  const ctx: Ctx = { tags: [] };
  for (const m of ms) {
    await portTag(ctx, m.peerUrl, `P-${m.name}`);
    await portTag(ctx, m.clientUrl, `C-${m.name}`);
    ctx.tags.push([`ID:${await memberIdOf(ms[0]!.endpoint, m.peerUrl)} `, `ID:<ID-${m.name}> `]);
  }
  const out: string[] = [];
  const j1 = await planJoiner('j1');
  await portTag(ctx, j1.peerUrl, 'P-j1');
  out.push(`never added: ${await failingJoin(impl, ctx, j1, initialClusterOf([...ms, j1]))}`);

  const dead = `http://127.0.0.1:${await freePort()}`;
  await portTag(ctx, dead, 'P-dead');
  out.push(`no peer answers: ${await failingJoin(impl, ctx, j1, `x=${dead},j1=${j1.peerUrl}`)}`);

  await sleep(5500); // etcd's strict reconfiguration wants every link up for 5 s
  const j2 = await planJoiner('j2');
  await portTag(ctx, j2.peerUrl, 'P-j2');
  await portTag(ctx, j2.clientUrl, 'C-j2');
  await ctlOk(ms[0]!.endpoint, ['member', 'add', 'j2', `--peer-urls=${j2.peerUrl}`]);
  ctx.tags.push([`ID:${await memberIdOf(ms[0]!.endpoint, j2.peerUrl)} `, 'ID:<ID-j2> ']);
  const elsewhere: Joiner = { ...j2, peerUrl: `http://127.0.0.1:${await freePort()}` };
  await portTag(ctx, elsewhere.peerUrl, 'P-elsewhere');
  out.push(`other peer URLs than added: ${await failingJoin(impl, ctx, elsewhere, initialClusterOf([...ms, elsewhere]))}`);

  // another token: the cluster id is the peers', and the member's id the one `member add` gave it
  const fresh: Joiner = { ...j2, dataDir: `${await tempDir('it-join2-')}/j2` };
  const joined = await startJoiner(impl, fresh, initialClusterOf([...ms, fresh]), { args: ['--initial-cluster-token', 'another-token'] });
  await ctlOk(ms[1]!.endpoint, ['put', 'k', 'v']);
  out.push(`another token: ${(await ctlOk(joined.endpoint, ['member', 'list'])).includes(`, started, j2, ${j2.peerUrl}, ${j2.clientUrl}, false`)}`);

  // a data dir that exists: --initial-cluster, its state and token are not read
  await joined.kill();
  const bogus = [
    '--name', 'j2', '--data-dir', fresh.dataDir, '--listen-client-urls', j2.clientUrl, '--advertise-client-urls', j2.clientUrl,
    '--listen-peer-urls', j2.peerUrl, '--initial-advertise-peer-urls', j2.peerUrl, '--initial-cluster', `j2=${j2.peerUrl},zz=http://127.0.0.1:1`,
    '--initial-cluster-state', 'new', '--initial-cluster-token', 'yet-another',
  ];
  const again = await restartWith(impl, fresh, bogus);
  out.push(`restart with other bootstrap flags: ${(await ctlOk(again.endpoint, ['get', 'k', '--consistency=s'])).trim().replace('\n', '=')}`);
  out.push(`members after: ${(await ctlOk(again.endpoint, ['member', 'list'])).trim().split('\n').length}`);
  await again.kill();
  out.push(...(await otherClustersDataDir(impl, ms, fresh)));
  for (const m of ms) await m.kill();
  return out;
}

const clusterIdAt = async (endpoint: string): Promise<string> =>
  /"cluster_id":(\d+)/.exec(await ctlOk(endpoint, ['endpoint', 'status', '-w', 'json']))![1]!;

/**
 * j2's place (name, URLs) started with the data dir of another cluster, a one-member cluster made
 * there first: it is that cluster's member, whatever the flags say, and the cluster it was added to
 * still lists it as its own.
 */
async function otherClustersDataDir(impl: Impl, ms: ClusterMember[], j2: Joiner): Promise<string[]> {
  const dataDir = `${await tempDir('it-other-')}/j2`;
  const flags = (initialCluster: string, token: string): string[] => [
    '--name', 'j2', '--data-dir', dataDir, '--listen-client-urls', j2.clientUrl, '--advertise-client-urls', j2.clientUrl,
    '--listen-peer-urls', j2.peerUrl, '--initial-advertise-peer-urls', j2.peerUrl, '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'new', '--initial-cluster-token', token,
  ];
  const other = await restartWith(impl, { ...j2, dataDir }, flags(`j2=${j2.peerUrl}`, 'other-cluster'));
  await ctlOk(other.endpoint, ['put', 'only-there', '1']);
  await other.kill();
  const m = await restartWith(impl, { ...j2, dataDir }, [...flags(initialClusterOf([...ms, j2]), 'it-cluster').slice(0, -4), '--initial-cluster-state', 'existing']);
  await ctlOk(ms[0]!.endpoint, ['put', 'k2', 'v2']);
  const out = [
    `other cluster's data dir: same cluster id ${(await clusterIdAt(m.endpoint)) === (await clusterIdAt(ms[0]!.endpoint))}`,
    `its members: ${(await ctlOk(m.endpoint, ['member', 'list'])).trim().split('\n').length}`,
    `its keys: ${(await ctlOk(m.endpoint, ['get', '', '--prefix', '--keys-only', '--consistency=s'])).trim()}`,
    `the cluster still lists it: ${(await ctlOk(ms[0]!.endpoint, ['member', 'list'])).includes(`, j2, ${j2.peerUrl}, `)}`,
  ];
  await m.kill();
  return out;
}

async function restartWith(impl: Impl, j: Joiner, args: string[]): Promise<ClusterMember> {
  const m = clusterMember(impl, j, args);
  await waitHealthy([m]);
  return m;
}

describe('--initial-cluster-state existing', () => {
  it('refuses, joins and restarts as etcd 3.4 does', async () => {
    // the two clusters at once: their steps mostly wait (failing joiners' exits, the HealthInterval)
    const [etcd, ours] = await Promise.all([scenarios('etcd'), scenarios('ours')]);
    expect(etcd.slice(-4)).toEqual([
      'other cluster\'s data dir: same cluster id false', 'its members: 1', 'its keys: only-there', 'the cluster still lists it: true',
    ]);
    expect(ours).toEqual(etcd);
  }, 180_000);
});
