// The stores over the backend, opened at start-up (openStores); adapters from the backend to the
// stores of the lease and membership rooms (same pending batch as the entry being applied) and the
// loading of their state; and the MVCC store's key index image: written at a graceful stop, read
// (then removed) at the next start.
import { AuthStore, DEFAULT_BCRYPT_COST, newTokenProvider, type TokenProvider } from '../auth/index.js';
import { Bucket, type Backend } from '../backend/index.js';
import { Lessor, leaseIdFromKey, leaseKey, minLeaseTTLSeconds, type LeaseStore } from '../lease/index.js';
import { decodeMember, encodeMember, type Member, type MembershipStore } from '../membership/index.js';
import { KvStore, type KvStoreOptions } from '../mvcc/index.js';
import type { Logger } from '../pkg/logger.js';
import type { EtcdMetrics } from '../pkg/metrics.js';
import { exists, readChunks, removeDurable, writeChunksDurable, type Disk } from '../pkg/disk.js';
import { nodeDisk } from '../platform/fs.js';
import type { Snapshot } from '../raft/types.js';
import { AlarmStore } from './alarms.js';
import { snapDirOf, type ServerConfig } from './config.js';
import { ioOf } from './io.js';
import { openBackend } from './snapshot-db.js';

/** Everything the member keeps in its backend, opened. */
export interface Stores {
  backend: Backend;
  leaseStore: BackendLeaseStore;
  lessor: Lessor;
  kv: KvStore;
  alarms: AlarmStore;
  auth: AuthStore;
  tokens: TokenProvider;
}

/**
 * Opens the backend (installing the raft snapshot's database first when a crash left the backend
 * behind it: snapshot-db.ts), then the lessor before MVCC, which attaches keys to their leases.
 */
export async function openStores(cfg: ServerConfig, snapshot: Snapshot | undefined, metrics: EtcdMetrics, spareMemory?: Buffer[]): Promise<Stores> {
  const backend = await openBackend(cfg, snapshot, {
    logger: cfg.logger,
    batchIntervalMs: cfg.backendBatchIntervalMs || undefined,
    batchLimit: cfg.backendBatchLimit || undefined,
    observeCommit: (seconds) => metrics.backendCommitSeconds.observe(seconds),
  });
  cfg.steps?.mark('open backend');
  const leaseStore = await backendLeaseStore(backend);
  const electionTicks = Math.round(cfg.electionTimeoutMs / cfg.heartbeatIntervalMs);
  const lessor = new Lessor({ store: leaseStore, minTTLSeconds: minLeaseTTLSeconds(electionTicks, cfg.heartbeatIntervalMs) });
  lessor.recover();
  cfg.steps?.mark('load leases');
  const kv = await openKvStore(backend, keyIndexImagePathOf(cfg), {
    logger: cfg.logger,
    ...(spareMemory ? { spareMemory } : {}),
    leases: {
      exists: (id) => lessor.has(id),
      attach: (id, key) => void lessor.attach(id, [key]),
      detach: (id, key) => void lessor.detach(id, [key]),
    },
  }, ioOf(cfg).disk);
  cfg.steps?.mark('load key index', { keys: kv.indexedKeys() });
  const alarms = new AlarmStore(backend);
  await alarms.load();
  const { auth, tokens } = await openAuth(backend, cfg);
  cfg.steps?.mark('load alarms and auth');
  return { backend, leaseStore, lessor, kv, alarms, auth, tokens };
}

/** The auth store and the simple token provider it starts, stops and prunes. */
export async function openAuth(backend: Backend, cfg: Pick<ServerConfig, 'authToken' | 'bcryptCost' | 'authTokenTtlSec' | 'logger' | 'io'>): Promise<{ auth: AuthStore; tokens: TokenProvider }> {
  const logger = cfg.logger.child({ room: 'auth' });
  const io = ioOf(cfg);
  let tokens: TokenProvider;
  try {
    tokens = newTokenProvider(cfg.authToken ?? 'simple', {
      ttlMs: (cfg.authTokenTtlSec ?? 300) * 1000,
      randomInt: (n) => io.randomInt(n),
      readFile: (p) => {
        if (!io.readFileSync) throw new Error(`cannot read ${p}: this member has no file system`);
        return io.readFileSync(p);
      },
      warn: (fields, msg) => logger.warn(fields, msg),
    });
  } catch (e) {
    logger.warn({ error: (e as Error).message }, 'failed to create token provider');
    throw e;
  }
  const auth = await AuthStore.open(backend, {
    bcryptCost: cfg.bcryptCost ?? DEFAULT_BCRYPT_COST,
    onEnabledChange: (on) => (on ? tokens.enable() : tokens.disable()),
    onUserInvalidated: (user) => tokens.invalidateUser(user),
  });
  return { auth, tokens };
}

function idKey(id: bigint): Buffer {
  const k = Buffer.alloc(8);
  k.writeBigUInt64BE(id);
  return k;
}

export interface BackendLeaseStore extends LeaseStore {
  /** Reads the records the backend holds now, for the next Lessor.recover() (a snapshot install). */
  reload(): Promise<void>;
}

/** The lessor reads its records at recover(); they are loaded before it is called (here, or by reload). */
export async function backendLeaseStore(backend: Backend): Promise<BackendLeaseStore> {
  let records: Array<[bigint, Uint8Array]> = [];
  const store: BackendLeaseStore = {
    put: (id, value) => backend.put(Bucket.lease, leaseKey(id), Buffer.from(value)),
    delete: (id) => backend.del(Bucket.lease, leaseKey(id)),
    loadAll: () => records.splice(0),
    reload: async () => {
      records = [];
      for await (const [k, v] of backend.iterate(Bucket.lease)) records.push([leaseIdFromKey(k), v]);
    },
  };
  await store.reload();
  return store;
}

export function backendMembershipStore(backend: Backend): MembershipStore {
  return {
    putMember: (m) => backend.put(Bucket.members, idKey(m.id), Buffer.from(encodeMember(m))),
    deleteMember: (id) => backend.del(Bucket.members, idKey(id)),
    putRemoved: (id) => backend.put(Bucket.membersRemoved, idKey(id), Buffer.alloc(0)),
  };
}

export async function loadMembership(backend: Backend): Promise<{ members: Member[]; removed: bigint[]; clusterVersion: string }> {
  const members: Member[] = [];
  const removed: bigint[] = [];
  for await (const [, v] of backend.iterate(Bucket.members)) members.push(decodeMember(v));
  for await (const [k] of backend.iterate(Bucket.membersRemoved)) removed.push(k.readBigUInt64BE(0));
  const version = backend.get(Bucket.cluster, CLUSTER_VERSION_KEY);
  return { members, removed, clusterVersion: version ? version.toString() : '' };
}

export const CLUSTER_VERSION_KEY = Buffer.from('clusterVersion');

/**
 * `<data-dir>/member/snap/keyindex`, beside the backend's `db`: the MVCC key index as it was at the
 * last graceful stop (mvcc/index-image.ts has the format). etcd keeps only `db`, `*.snap` and
 * `*.snap.db` in that directory; our snapshotter only looks at `*.snap` (and `*.snap.tmp`).
 */
export function keyIndexImagePathOf(cfg: Pick<ServerConfig, 'dataDir'>): string {
  return `${snapDirOf(cfg)}/keyindex`;
}

/**
 * Open the MVCC store, from the key index image when there is one that matches the backend (KvStore
 * decides), else by scanning the backend. The image is removed before this returns, used or not: it
 * describes one state of the backend, and the member is about to move on from it.
 */
export async function openKvStore(backend: Backend, imagePath: string, opts: KvStoreOptions, disk: Disk = nodeDisk): Promise<KvStore> {
  const image = (await exists(disk, imagePath)) ? readChunks(disk, imagePath, true) : undefined; // decodeImage keeps no chunk
  try {
    return await KvStore.open(backend, { ...opts, image });
  } finally {
    await removeDurable(disk, imagePath);
  }
}

/** Write the key index image; call after the backend's final commit, with the apply loop stopped. Never throws. */
export async function saveKvImage(kv: KvStore, imagePath: string, logger: Logger, disk: Disk = nodeDisk, monoMs = () => performance.now()): Promise<void> {
  const t0 = monoMs();
  try {
    await writeChunksDurable(disk, imagePath, kv.image());
    logger.info({ path: imagePath, keys: kv.indexedKeys(), ms: Math.round(monoMs() - t0) }, 'key index image written');
  } catch (err) {
    logger.warn({ err: String(err), path: imagePath }, 'key index image not written; the next start scans the backend');
  }
}
