/*
 * Bootstrap: turn a data dir into a raft node's starting state.
 *
 * First boot (no WAL): derive member and cluster ids from --initial-cluster as etcd does, create the
 * WAL, and write etcd's bootstrap entries (bootstrapEntries: one ConfChangeAddNode per initial member
 * in id order, term 1, indexes 1..n, committed), so the membership is replicated state from the first
 * entry on: applying those entries is what makes raft (and the membership room) know the voters, on
 * first boot and on every restart alike.
 * Restart: newest usable snapshot (snap/ files the WAL has markers for), then the WAL after it.
 */
import { ByteArena } from '../pkg/byte-arena.js';
import type { Disk } from '../pkg/disk.js';
import { dirnamePath } from '../pkg/path.js';
import type { Logger } from '../pkg/logger.js';
import { computeClusterId, computeMemberId, encodeConfChangeMember, idToHex, type Member } from '../membership/index.js';
import { MemoryStorage, encodeConfChange, type Snapshot } from '../raft/index.js';
import { ConfChangeType, EntryType, type Entry, type HardState } from '../raft/types.js';
import { Snapshotter, WAL, type WalOptions, type WalSnapshotMarker } from '../wal/index.js';
import { maybeTakeOverEtcdDataDir } from './etcd-takeover.js';
import { forceStandalone } from './force-new-cluster.js';
import { assignExistingIds, fetchExistingCluster } from './join-existing.js';
import { snapDirOf, walDirOf, type ServerConfig } from './config.js';
import { ioOf } from './io.js';

export interface RaftBootstrap {
  memberId: bigint;
  clusterId: bigint;
  wal: WAL;
  snapshotter: Snapshotter;
  storage: MemoryStorage;
  /** The snapshot the state machine must start from (undefined: from nothing). */
  snapshot: Snapshot | undefined;
  isNew: boolean;
  /** A member joining a running cluster: its members, to reach until the log has taught ours. */
  remotes?: Member[];
  /** A restart's WAL bytes as read, no longer used (WAL.openAtChosen): for the key index's values. */
  spareMemory?: Buffer[];
}

/** The members of --initial-cluster as etcd makes them (NewMember: peer URLs sorted), in etcd's order: by id. */
export function initialMembers(cfg: Pick<ServerConfig, 'initialCluster' | 'initialClusterToken'>): Member[] {
  const members = [...cfg.initialCluster].map(([name, urls]) => ({
    id: computeMemberId(urls, cfg.initialClusterToken),
    name,
    peerURLs: [...urls].sort(),
    clientURLs: [],
    isLearner: false,
  }));
  return members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The first entries of a new member's log, exactly as etcd 3.4 writes them (raft's Bootstrap from
 * etcd's startNode): for each initial member in id order, a ConfChangeAddNode with ID 0 and the member's
 * JSON as context, at term 1 and indexes 1..n. Every member of a new cluster, ours or etcd's, writes the
 * same ones.
 */
export function bootstrapEntries(members: readonly Member[]): Entry[] {
  return members.map((m, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.EntryConfChange,
    data: encodeConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: m.id, id: 0n, context: encodeConfChangeMember(m) }),
  }));
}

/** The in-memory raft log; the entries it keeps are packed into an arena (see pkg/byte-arena.ts). */
function newLogStorage(): MemoryStorage {
  const arena = new ByteArena();
  return new MemoryStorage((data) => arena.copy(data));
}

/** fsync every directory from `dir`'s parent up to the root, so the entries leading to `dir` survive a crash. */
async function fsyncParents(disk: Disk, dir: string): Promise<void> {
  for (let d = dirnamePath(dir); ; d = dirnamePath(d)) {
    await disk.fsyncDir(d);
    if (d === '/' || d === '.' || d === dirnamePath(d)) return;
  }
}

function walOptions(cfg: ServerConfig, logger: Logger): WalOptions {
  return { logger, disk: ioOf(cfg).disk, ...(cfg.walSegmentBytes ? { segmentBytes: cfg.walSegmentBytes } : {}) };
}

export async function bootstrapRaft(cfg: ServerConfig, logger: Logger): Promise<RaftBootstrap> {
  const walDir = walDirOf(cfg);
  const snapDir = snapDirOf(cfg);
  await maybeTakeOverEtcdDataDir(ioOf(cfg), cfg.dataDir, cfg.name, Boolean(cfg.walDir), logger);
  const { disk } = ioOf(cfg);
  await disk.mkdir(snapDir, { recursive: true, mode: 0o700 });
  const snapshotter = new Snapshotter(snapDir, logger, disk);
  if (await WAL.exists(walDir, disk)) return restart(cfg, walDir, snapshotter, logger, cfg.forceNewCluster === true);
  // a new member: the directories just made (the data dir itself, maybe) are durable before the WAL is
  await fsyncParents(disk, snapDir);
  if (cfg.initialClusterState === 'existing') return joinExisting(cfg, walDir, snapshotter, logger);
  return firstBoot(cfg, walDir, snapshotter, logger);
}

/** --initial-cluster-state existing: ids from the running cluster, an empty log (see join-existing.ts). */
async function joinExisting(cfg: ServerConfig, walDir: string, snapshotter: Snapshotter, logger: Logger): Promise<RaftBootstrap> {
  const local = initialMembers(cfg);
  if (!local.some((m) => m.name === cfg.name)) throw new Error(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
  const remoteUrls = local.filter((m) => m.name !== cfg.name).flatMap((m) => m.peerURLs).sort();
  const existing = await fetchExistingCluster(ioOf(cfg), remoteUrls, cfg.peerClientTls);
  const self = assignExistingIds(local, existing).find((m) => m.name === cfg.name)!;
  const wal = await WAL.create(walDir, { memberId: self.id, clusterId: existing.clusterId, name: cfg.name }, walOptions(cfg, logger));
  logger.info({ memberId: idToHex(self.id), clusterId: idToHex(existing.clusterId), members: existing.members.length }, 'joining an existing cluster');
  const remotes = existing.members.filter((m) => m.id !== self.id);
  return { memberId: self.id, clusterId: existing.clusterId, wal, snapshotter, storage: newLogStorage(), snapshot: undefined, isNew: true, remotes };
}

async function firstBoot(cfg: ServerConfig, walDir: string, snapshotter: Snapshotter, logger: Logger): Promise<RaftBootstrap> {
  const members = initialMembers(cfg);
  const self = members.find((m) => m.name === cfg.name);
  if (!self) throw new Error(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
  const clusterId = computeClusterId(members.map((m) => m.id));
  const wal = await WAL.create(walDir, { memberId: self.id, clusterId, name: cfg.name }, walOptions(cfg, logger));
  const entries = bootstrapEntries(members);
  const hardState: HardState = { term: 1, vote: 0n, commit: entries.length };
  await wal.save(hardState, entries, true);
  const storage = newLogStorage();
  storage.setHardState(hardState);
  storage.append(entries);
  logger.info({ memberId: idToHex(self.id), clusterId: idToHex(clusterId), members: members.length }, 'starting a new member');
  return { memberId: self.id, clusterId, wal, snapshotter, storage, snapshot: undefined, isNew: true };
}

async function restart(cfg: ServerConfig, walDir: string, snapshotter: Snapshotter, logger: Logger, force: boolean): Promise<RaftBootstrap> {
  // the log is read once: the newest snapshot among its markers is loaded, then the log replayed from it
  let snapshot: Snapshot | undefined;
  let from: WalSnapshotMarker = { index: 0, term: 0 };
  const opened = await WAL.openAtChosen(walDir, async (markers) => {
    snapshot = await snapshotter.loadNewestAvailable(markers);
    if (snapshot) from = { index: snapshot.metadata.index, term: snapshot.metadata.term };
    return from;
  }, walOptions(cfg, logger));
  const { wal, metadata } = opened;
  let { hardState, entries } = opened;
  if (force) {
    const f = forceStandalone(metadata.memberId, snapshot, hardState, entries);
    if (f.discarded > 0) logger.info({ entryIndex: hardState.commit + 1, commitIndexFromWal: hardState.commit, discarded: f.discarded }, 'discarding uncommitted WAL entries');
    // As etcd: the forced entries are saved without a hard state; the commit index is the WAL's own
    // plus theirs only in memory, until raft saves the next hard state.
    await wal.save(undefined, f.forced, true);
    ({ hardState, entries } = f);
    logger.info({ clusterId: idToHex(metadata.clusterId), localMemberId: idToHex(metadata.memberId), commitIndex: hardState.commit }, 'forcing restart member');
  }
  const storage = newLogStorage();
  if (snapshot) storage.applySnapshot(snapshot);
  storage.setHardState(hardState);
  storage.append(entries);
  logger.info(
    { memberId: idToHex(metadata.memberId), clusterId: idToHex(metadata.clusterId), commit: hardState.commit, snapshotIndex: from.index, entries: entries.length },
    'restarting member',
  );
  return { memberId: metadata.memberId, clusterId: metadata.clusterId, wal, snapshotter, storage, snapshot, isNew: false, spareMemory: opened.spare };
}
