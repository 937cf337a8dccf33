// Raft entry data against real etcd 3.4.23 (the oracle): the WALs in test/fixtures/etcd-entries/
// (made by capture.mjs there: one member taken through a script of v3 and v2 operations, and the first
// member of a 3-member cluster) hold what etcd wrote. Checked here:
//  - our bootstrap entries for the same --initial-cluster are etcd's, byte for byte;
//  - we read every entry etcd wrote, and write it back to the same bytes;
//  - given the same requests (the operations of the script, with etcd's request ids and times), the
//    code paths that build our proposals write etcd's bytes: publication, cluster version, /health,
//    SYNC, every /v2/keys request (through the HTTP layer's parser) and every v3 request;
//  - replaying etcd's log through a member of ours gives etcd's end state (keys with their revisions,
//    leases, the v2 tree, members, cluster version).
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseForm } from '../../../src/api/v2/form.js';
import { parseKeysRequest } from '../../../src/api/v2/keys-request.js';
import { computeClusterId, decodeConfChangeContext, encodeConfChangeMember } from '../../../src/membership/index.js';
import { ConfChangeType, decodeConfChange, encodeConfChange } from '../../../src/raft/index.js';
import { EntryType, type Entry } from '../../../src/raft/types.js';
import { bootstrapEntries, initialMembers } from '../../../src/server/bootstrap.js';
import {
  clusterVersionRequest, decodeEntry, encodeRequest, encodeV2Request, healthRequest, publishRequest, syncRequest, type InternalRaftRequest,
} from '../../../src/server/internal-request.js';
import { EtcdServer } from '../../../src/server/server.js';
import { v2KeysRequest } from '../../../src/server/v2-api.js';
import { WAL } from '../../../src/wal/index.js';
import { readEtcdWal, type EtcdWal, type EtcdWalEntry } from './etcd-wal.js';
import { removeDir, tempDir, testConfig } from './helpers.js';

const fixtures = fileURLToPath(new URL('../../fixtures/etcd-entries/', import.meta.url));
const protoDir = fileURLToPath(new URL('../../../proto/', import.meta.url));

interface Transcript {
  v3?: string[];
  stdin?: string;
  health?: boolean;
  v2?: { method: string; path: string; form?: string };
}
interface SoloInfo { flags: string[]; vars: Record<string, string>; transcript: Transcript[]; state: Record<string, string> }
interface TrioInfo { flags: string[]; learnerUrl: string; members: string; changes: string[]; membersAfter: string }

const solo = readEtcdWal(await readFile(path.join(fixtures, 'solo.wal')));
const trio = readEtcdWal(await readFile(path.join(fixtures, 'trio.wal')));
const soloInfo = JSON.parse(await readFile(path.join(fixtures, 'solo.json'), 'utf8')) as SoloInfo;
const trioInfo = JSON.parse(await readFile(path.join(fixtures, 'trio.json'), 'utf8')) as TrioInfo;

/** JSON with its 64-bit integers kept exact (as decimal strings). */
const parseExact = <T>(text: string): T => JSON.parse(text.replace(/([:[,])(\d{16,})(?=[,}\]])/g, '$1"$2"')) as T;

const flag = (flags: string[], name: string): string => flags[flags.indexOf(name) + 1]!;

function clusterConfig(flags: string[], dataDir = '/nonexistent') {
  const initialCluster = new Map<string, string[]>();
  for (const part of flag(flags, '--initial-cluster').split(',')) {
    const [name, url] = part.split('=') as [string, string];
    initialCluster.set(name, [...(initialCluster.get(name) ?? []), url]);
  }
  return testConfig(dataDir, {
    name: flag(flags, '--name'),
    initialCluster,
    initialClusterToken: flag(flags, '--initial-cluster-token'),
    initialAdvertisePeerUrls: [flag(flags, '--initial-advertise-peer-urls')],
    advertiseClientUrls: [flag(flags, '--advertise-client-urls')],
  });
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const normal = (w: EtcdWal): EtcdWalEntry[] => w.entries.filter((e) => e.type === EntryType.EntryNormal && e.data.length > 0);
/** etcd 3.4 never sets InternalRaftRequest.ID, and a bare Request always opens with its ID: field 1, a varint. */
const isBareRequest = (e: EtcdWalEntry): boolean => e.data[0] === 0x08;

describe('bootstrap entries', () => {
  for (const [what, wal, flags] of [['one member', solo, soloInfo.flags], ['three members', trio, trioInfo.flags]] as const) {
    it(`are etcd's, byte for byte (${what})`, () => {
      const members = initialMembers(clusterConfig(flags));
      const ours = bootstrapEntries(members);
      const theirs = wal.entries.slice(0, members.length);
      expect(ours.map((e) => ({ ...e, data: hex(e.data) }))).toEqual(theirs.map((e) => ({ ...e, data: hex(e.data) })));
      expect(computeClusterId(members.map((m) => m.id))).toBe(wal.metadata.clusterId);
      expect(members.find((m) => m.name === flag(flags, '--name'))!.id).toBe(wal.metadata.nodeId);
    });
  }

  it('read back as the members etcd lists', () => {
    const listed = parseExact<{ members: Array<{ ID: string; name: string; peerURLs: string[] }> }>(trioInfo.members).members;
    const read = trio.entries.slice(0, listed.length).map((e) => {
      const cc = decodeConfChange(e.data);
      const { member, isPromote } = decodeConfChangeContext(cc.context!);
      expect(isPromote).toBe(false);
      expect(member.id).toBe(cc.nodeId);
      return { ID: String(member.id), name: member.name, peerURLs: member.peerURLs };
    });
    expect(read).toEqual(listed.map(({ ID, name, peerURLs }) => ({ ID, name, peerURLs })));
  });
});

describe('membership changes', () => {
  type Listed = { ID: string; name: string; peerURLs: string[]; clientURLs: string[] };
  const changes = trio.entries.filter((e, i) => e.type === EntryType.EntryConfChange && i >= 3);
  const hexId = (text: string): bigint => BigInt(`0x${/Member ([0-9a-f]+) /.exec(text)![1]}`);

  it('are written by us as etcd writes them: update (member JSON), add a learner (isLearner), remove (no context)', () => {
    const [update, add, remove] = changes.map((e) => decodeConfChange(e.data));
    const t3 = hexId(trioInfo.changes[0]!);
    const t4 = hexId(trioInfo.changes[1]!);
    const t3Url = parseExact<{ members: Listed[] }>(trioInfo.members).members.find((m) => m.name === 't3')!.peerURLs;
    const member = (id: bigint, peerURLs: string[], isLearner: boolean) => ({ id, name: '', peerURLs, clientURLs: [], isLearner });
    const ours = [
      encodeConfChange({ type: ConfChangeType.ConfChangeUpdateNode, nodeId: t3, id: update!.id, context: encodeConfChangeMember(member(t3, t3Url, false)) }),
      encodeConfChange({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: t4, id: add!.id, context: encodeConfChangeMember(member(t4, [trioInfo.learnerUrl], true)) }),
      encodeConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: t4, id: remove!.id }),
    ];
    expect(ours.map(hex)).toEqual(changes.map((e) => hex(e.data)));
    // the proposal ids come from the request id generator: not 0, unlike the bootstrap entries'
    for (const cc of [update, add, remove]) expect(cc!.id).not.toBe(0n);
  });
});

describe('every entry etcd wrote', () => {
  it('reads, and writes back to the same bytes', () => {
    let v2 = 0;
    let v3 = 0;
    for (const e of [...solo.entries, ...trio.entries]) {
      if (e.type === EntryType.EntryConfChange) {
        expect(hex(encodeConfChange(decodeConfChange(e.data)))).toBe(hex(e.data));
        continue;
      }
      if (e.data.length === 0) continue;
      const d = decodeEntry(e.data);
      expect(d.kind, `entry ${e.index}`).toBe(isBareRequest(e) ? 'v2' : 'v3');
      if (d.kind === 'v2') {
        v2++;
        expect(hex(encodeV2Request(d.req)), `entry ${e.index}`).toBe(hex(e.data));
      } else {
        v3++;
        expect(hex(encodeRequest(d.req)), `entry ${e.index}`).toBe(hex(e.data));
      }
    }
    expect(v2).toBeGreaterThan(25);
    expect(v3).toBeGreaterThan(20);
  });
});

describe('our proposals for the same requests', () => {
  const soloId = solo.metadata.nodeId;
  const requestId = (e: EtcdWalEntry): bigint => decodeEntry(e.data).id;

  it('publication and cluster version: etcd\'s bytes', () => {
    const [publish, version] = normal(solo);
    const client = flag(soloInfo.flags, '--advertise-client-urls');
    expect(hex(encodeV2Request({ ...publishRequest(soloId, { name: 'solo', clientURLs: [client] }), ID: requestId(publish!) }))).toBe(hex(publish!.data));
    expect(hex(encodeV2Request({ ...clusterVersionRequest('3.4.0'), ID: requestId(version!) }))).toBe(hex(version!.data));
    // the three publications of a cluster, in the order they were committed
    const listed = parseExact<{ members: Array<{ ID: string; name: string; clientURLs: string[] }> }>(trioInfo.members).members;
    const publications = normal(trio).filter((e) => decodeEntry(e.data).kind === 'v2' && e.data.includes(Buffer.from('/attributes')));
    expect(publications).toHaveLength(3);
    for (const e of publications) {
      const d = decodeEntry(e.data);
      const m = listed.find((x) => d.kind === 'v2' && d.req.Path.includes(BigInt(x.ID).toString(16)))!;
      expect(hex(encodeV2Request({ ...publishRequest(BigInt(m.ID), { name: m.name, clientURLs: m.clientURLs }), ID: d.id }))).toBe(hex(e.data));
    }
  });

  it('/health\'s read and SYNC: etcd\'s bytes', () => {
    const bare = normal(solo).filter(isBareRequest).map((e) => ({ e, d: decodeEntry(e.data) }));
    const health = bare.find(({ d }) => d.kind === 'v2' && d.req.Method === 'QGET' && d.req.Path === '')!;
    expect(hex(encodeV2Request({ ...healthRequest(), ID: health.d.id }))).toBe(hex(health.e.data));
    const syncs = bare.filter(({ d }) => d.kind === 'v2' && d.req.Method === 'SYNC');
    expect(syncs.length).toBeGreaterThan(2);
    for (const { e, d } of syncs) {
      if (d.kind !== 'v2') continue;
      // etcd's clock has nanoseconds, ours whole ms: the same layout, and Time written as given
      expect(hex(encodeV2Request({ ...syncRequest(0), Time: d.req.Time, ID: d.id }))).toBe(hex(e.data));
      expect(syncRequest(Number(d.req.Time / 1_000_000n)).Time).toBe((d.req.Time / 1_000_000n) * 1_000_000n);
    }
  });

  it('every /v2/keys request of the script, through the HTTP layer\'s parser: etcd\'s bytes', () => {
    const ops = soloInfo.transcript.filter((t) => t.v2);
    const entries = normal(solo).filter((e) => {
      const d = decodeEntry(e.data);
      return d.kind === 'v2' && d.req.Path.startsWith('/1');
    });
    expect(entries).toHaveLength(ops.length);
    ops.forEach((op, i) => {
      const e = entries[i]!;
      const d = decodeEntry(e.data);
      if (d.kind !== 'v2') throw new Error('not a v2 entry');
      const [urlPath, query] = op.v2!.path.split('?') as [string, string | undefined];
      const body = op.v2!.form === undefined ? undefined : Buffer.from(op.v2!.form);
      const form = parseForm(op.v2!.method, query ?? '', body ? 'application/x-www-form-urlencoded' : undefined, body);
      if ('error' in form) throw new Error(form.error);
      const parsed = parseKeysRequest(op.v2!.method, urlPath.slice('/v2/keys'.length) || '/', form.form);
      const ttl = parsed.req.ttlSeconds;
      const nowNs = ttl === undefined ? 0n : d.req.Expiration - BigInt(ttl) * 1_000_000_000n; // the time etcd read
      const ours = encodeV2Request({ ...v2KeysRequest(parsed.req, nowNs), ID: d.id });
      expect(hex(ours), `${op.v2!.method} ${op.v2!.path} ${op.v2!.form ?? ''}`).toBe(hex(e.data));
    });
  });

  it('every v3 request of the script, as the gRPC layer hands it over: etcd\'s bytes', () => {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => `${protoDir}${target.replace(/^.*\//, '')}`;
    root.loadSync('rpc.proto', { keepCase: true });
    /** A client's request as it reaches us: encoded by the client, decoded as proto-loader does. */
    const asReceived = (type: string, o: object): never => {
      const t = root.lookupType(`etcdserverpb.${type}`);
      const wire = t.encode(t.fromObject(o)).finish();
      return t.toObject(t.decode(wire), { longs: String, enums: String, bytes: Buffer, defaults: true, oneofs: true }) as never;
    };
    const b = (s: string): Buffer => Buffer.from(s, 'latin1');
    const lease = (name: string): string => BigInt(`0x${soloInfo.vars[name]}`).toString();
    const put = (key: string, value: string, more: object = {}): Partial<InternalRaftRequest> => ({ put: asReceived('PutRequest', { key: b(key), value: b(value), ...more }) });
    const op = (o: object): object => o;
    const requests: Array<Partial<InternalRaftRequest>> = [
      put('foo', 'bar'),
      put('foo', 'baz', { prev_kv: true }),
      put('empty', ''),
      { put: asReceived('PutRequest', { key: b('bin'), value: Buffer.from([0xc3, 0xbf, 0x01]) }) },
      { lease_grant: asReceived('LeaseGrantRequest', { TTL: 9000000, ID: lease('kept') }) },
      { lease_grant: asReceived('LeaseGrantRequest', { TTL: 60, ID: lease('revoked') }) },
      put('leased', 'v', { lease: lease('kept') }),
      put('gone-with-lease', 'v', { lease: lease('revoked') }),
      { lease_revoke: asReceived('LeaseRevokeRequest', { ID: lease('revoked') }) },
      put('a/1', '1'),
      put('a/2', '2'),
      put('a/3', '3'),
      { delete_range: asReceived('DeleteRangeRequest', { key: b('a/2') }) },
      { delete_range: asReceived('DeleteRangeRequest', { key: b('a/'), range_end: b('a0'), prev_kv: true }) },
      {
        txn: asReceived('TxnRequest', {
          compare: [{ result: 'GREATER', target: 'MOD', key: b('foo'), mod_revision: 0 }, { result: 'EQUAL', target: 'VALUE', key: b('empty'), value: b('') }],
          success: [op({ request_put: { key: b('foo'), value: b('txn-yes') } }), op({ request_range: { key: b('foo') } }), op({ request_delete_range: { key: b('nothing') } })],
          failure: [op({ request_put: { key: b('foo'), value: b('txn-no') } })],
        }),
      },
      {
        txn: asReceived('TxnRequest', {
          compare: [{ result: 'EQUAL', target: 'CREATE', key: b('missing'), create_revision: 5 }],
          success: [op({ request_put: { key: b('never'), value: b('x') } })],
          failure: [op({ request_put: { key: b('failure-branch'), value: b('y') } }), op({ request_range: { key: b('foo'), range_end: b('fop') } })],
        }),
      },
      {
        txn: asReceived('TxnRequest', {
          compare: [{ result: 'NOT_EQUAL', target: 'VERSION', key: b('foo'), version: 0 }, { result: 'GREATER', target: 'CREATE', key: b('leased'), create_revision: 0 }],
          success: [op({ request_put: { key: b('t1'), value: b('1') } })],
          failure: [],
        }),
      },
      { compaction: asReceived('CompactionRequest', { revision: 3 }) },
      { compaction: asReceived('CompactionRequest', { revision: 5, physical: true }) },
      { alarm: asReceived('AlarmRequest', {}) },
      put('last', 'one'),
    ];
    const entries = normal(solo).filter((e) => !isBareRequest(e));
    expect(entries).toHaveLength(requests.length);
    requests.forEach((req, i) => {
      const e = entries[i]!;
      const ours = encodeRequest({ header: { ID: requestId(e).toString() }, ...req });
      expect(hex(ours), `entry ${e.index}: ${Object.keys(req).join()}`).toBe(hex(e.data));
    });
  });
});

describe('etcd\'s log replayed by a member of ours', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await removeDir(d);
  });

  /** A member of ours restarted on etcd's entries (in a WAL of ours), once it has applied them all. */
  async function replay(wal: EtcdWal, flags: string[], over: Partial<ReturnType<typeof testConfig>> = {}): Promise<EtcdServer> {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    await mkdir(path.join(dataDir, 'member', 'snap'), { recursive: true });
    const cfg = { ...clusterConfig(flags, dataDir), ...over };
    const ours = await WAL.create(path.join(dataDir, 'member', 'wal'), { memberId: wal.metadata.nodeId, clusterId: wal.metadata.clusterId, name: cfg.name });
    const entries: Entry[] = wal.entries.map((e) => ({ term: e.term, index: e.index, type: e.type as EntryType, data: e.data }));
    await ours.save({ term: wal.hardState.term, vote: wal.hardState.vote, commit: wal.hardState.commit }, entries, true);
    await ours.close();
    const last = entries.at(-1)!.index;
    expect(wal.hardState.commit).toBe(last);
    const server = await EtcdServer.start(cfg);
    const deadline = Date.now() + 10_000;
    while (server.appliedIndex < last) {
      if (Date.now() > deadline) throw new Error(`applied ${server.appliedIndex} of ${last}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return server;
  }

  it('of a cluster: etcd\'s members after bootstrap, publications and membership changes', async () => {
    // a follower that never campaigns while it is looked at (it has no peers to talk to)
    const server = await replay(trio, trioInfo.flags, { heartbeatIntervalMs: 1000, electionTimeoutMs: 10_000_000 });
    try {
      type Listed = { ID: string; name: string; peerURLs: string[]; clientURLs: string[] };
      const after = parseExact<{ members: Listed[] }>(trioInfo.membersAfter).members;
      const byId = (a: Listed, b: Listed): number => (BigInt(a.ID) < BigInt(b.ID) ? -1 : 1);
      expect(server.cluster.members().map((m) => ({ ID: m.id.toString(), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs }))).toEqual([...after].sort(byId));
      expect(server.cluster.isRemoved(BigInt(`0x${/Member ([0-9a-f]+) removed/.exec(trioInfo.changes[2]!)![1]}`))).toBe(true);
      expect(server.clusterVersion).toBe('3.4.0');
    } finally {
      await server.stop();
    }
  });

  it('of a member: etcd\'s end state', async () => {
    const server = await replay(solo, soloInfo.flags);
    try {
      const state = soloInfo.state;

      // v3: every key with its revisions, version and lease; the store's revision and compaction
      type Kv = { key: string; value?: string; create_revision: number; mod_revision: number; version: number; lease?: string };
      const theirs = parseExact<{ kvs: Kv[]; header: { revision: number } }>(state.v3!);
      const r = server.kv.range(Buffer.alloc(1), Buffer.alloc(1), {}); // etcdctl get "" --from-key
      const ours = r.kvs.map((kv) => {
        const o: Kv = { key: Buffer.from(kv.key).toString('base64'), create_revision: kv.createRevision, mod_revision: kv.modRevision, version: kv.version };
        if (kv.value.length > 0) o.value = Buffer.from(kv.value).toString('base64');
        if (kv.lease !== 0n) o.lease = kv.lease.toString();
        return o;
      });
      expect(ours).toEqual(theirs.kvs);
      expect(server.kv.rev()).toBe(theirs.header.revision);
      expect(server.kv.compactRevision()).toBe(5);

      // leases: the kept one with its TTL and key, the revoked one gone
      const kept = parseExact<{ id: string; 'granted-ttl': number; keys: string[] }>(state.kept!);
      expect(server.lessor.leases().map((l) => l.id.toString())).toEqual([kept.id]);
      expect(server.lessor.leases()[0]!.ttl).toBe(kept['granted-ttl']);

      // the v2 tree under /1: nodes, values, indexes; the TTL'd node's expiration to the microsecond
      // (etcd's has nanoseconds, our store ms) and its ttl left aside (it counts down)
      const mask = (json: string): string => json.replace(/("expiration":"[^"]{26})[^"]*"/g, '$1…"').replace(/"ttl":\d+/g, '"ttl":…');
      const ourTree = `${server.v2.get('/', { recursive: true, sorted: true }, server.now()).serialize()}\n`;
      expect(mask(ourTree)).toBe(mask(state.v2!));

      // members and the cluster version
      const members = parseExact<{ members: Array<{ ID: string; name: string; peerURLs: string[]; clientURLs: string[] }> }>(state.members!).members;
      expect(server.cluster.members().map((m) => ({ ID: m.id.toString(), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs }))).toEqual(members);
      expect(server.clusterVersion).toBe('3.4.0');
    } finally {
      await server.stop();
    }
  });
});
