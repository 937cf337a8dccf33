/*
 * Starting raft for a member: the RawNode with etcd's settings, the WAL's and snapshotter's
 * observers (metrics, slow fdatasync), and the transport as the Ready loop sees it (every batch of
 * messages passes the leader's heartbeat check first).
 */
import type { Histogram } from '../pkg/prom.js';
import type { Logger } from '../pkg/logger.js';
import type { EtcdMetrics } from '../pkg/metrics.js';
import { seededRng } from '../pkg/rng.js';
import { RawNode } from '../raft/index.js';
import type { Transport } from '../transport/index.js';
import type { RaftBootstrap } from './bootstrap.js';
import type { ServerConfig } from './config.js';
import type { HeartbeatWatch } from './heartbeat-watch.js';

/** etcd's threshold for its "slow fdatasync" warning. */
const SLOW_FDATASYNC_SECONDS = 1;

/** The member's RawNode, its election clock nearly run out (etcd's --initial-election-tick-advance). */
export function newRawNode(cfg: ServerConfig, boot: RaftBootstrap, applied: number, nowMs: number): RawNode {
  const electionTick = Math.max(2, Math.round(cfg.electionTimeoutMs / cfg.heartbeatIntervalMs));
  const node = new RawNode({
    id: boot.memberId,
    electionTick,
    heartbeatTick: 1,
    storage: boot.storage,
    applied,
    preVote: cfg.preVote,
    checkQuorum: true,
    rng: seededRng(boot.memberId ^ BigInt(nowMs)),
  });
  // a member starts with its election clock nearly run out, so a cluster of one elects itself one
  // tick or so after start instead of a full timeout
  for (let i = 0; i < electionTick - 1; i++) node.tick();
  return node;
}

/** The WAL's and the snapshotter's timings into metrics (and etcd's slow fdatasync warning). */
export function observeRaftStorage(boot: RaftBootstrap, metrics: EtcdMetrics, logger: Logger): void {
  metrics.sample('etcd_disk_wal_write_bytes_total', () => boot.wal.bytesWritten);
  boot.snapshotter.observeSave = (marshal, total) => {
    (metrics.byName.get('etcd_debugging_snap_save_marshalling_duration_seconds') as Histogram).observe(marshal);
    (metrics.byName.get('etcd_debugging_snap_save_total_duration_seconds') as Histogram).observe(total);
  };
  boot.wal.observeSync = (s) => {
    metrics.walFsyncSeconds.observe(s);
    if (s > SLOW_FDATASYNC_SECONDS) logger.warn({ tookMs: Math.round(s * 1000), expectedDuration: '1s' }, 'slow fdatasync');
  };
}

/** The transport with every outgoing batch shown to the leader's heartbeat check first. */
export function heartbeatWatched(transport: Transport, heartbeats: HeartbeatWatch, metrics: EtcdMetrics): Transport {
  metrics.sample('etcd_server_heartbeat_send_failures_total', () => heartbeats.failures);
  return {
    send: (ms) => {
      heartbeats.observe(ms);
      transport.send(ms);
    },
    addPeer: (id, urls) => transport.addPeer(id, urls),
    removePeer: (id) => transport.removePeer(id),
    updatePeer: (id, urls) => transport.updatePeer(id, urls),
    close: () => transport.close(),
  };
}
