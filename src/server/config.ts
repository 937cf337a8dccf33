// What the server needs to know, in the server's own terms (cli/ maps its Config onto this).
import type { Logger } from '../pkg/logger.js';
import type { StartSteps } from '../pkg/start-steps.js';
import type { PeerClientTls } from '../transport/dial.js';
import type { MemberIo } from './io.js';

export interface ServerConfig {
  name: string;
  dataDir: string;
  /** '' = <dataDir>/member/wal */
  walDir: string;
  snapshotCount: number;
  /** Entries kept behind a snapshot for slow followers (etcd: 5000). */
  snapshotCatchUpEntries: number;
  /**
   * Period of the progress notifications of progress_notify watchers
   * (--experimental-watch-progress-notify-interval; etcd: 10 min, at least 100 ms). Default 10 min.
   */
  watchProgressNotifyIntervalMs?: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  /** name → peer URLs */
  initialCluster: Map<string, string[]>;
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  /** Restart from this data dir as a one-member cluster (etcd's --force-new-cluster). */
  forceNewCluster?: boolean;
  initialAdvertisePeerUrls: string[];
  advertiseClientUrls: string[];
  preVote: boolean;
  /** Refuse membership changes that would lose quorum (etcd's --strict-reconfig-check); default on. */
  strictReconfigCheck?: boolean;
  /** Bytes; 0 = etcd's default of 2 GiB. */
  quotaBackendBytes: number;
  maxTxnOps: number;
  maxRequestBytes: number;
  requestTimeoutMs: number;
  autoCompactionMode: 'periodic' | 'revision';
  /** periodic: ms; revision: revisions kept; 0 = off. */
  autoCompactionRetention: number;
  backendBatchIntervalMs: number;
  backendBatchLimit: number;
  logger: Logger;
  /** What this member presents and trusts when it dials its peers (https peer URLs). */
  peerClientTls?: PeerClientTls;
  /** Token provider and its options, as etcd's --auth-token ('simple', '', 'jwt,...'); default 'simple'. */
  authToken?: string;
  /** bcrypt cost of password hashes (etcd's --bcrypt-cost; default 10). */
  bcryptCost?: number;
  /** Life of a simple auth token after its last use, in seconds (--auth-token-ttl; default 300). */
  authTokenTtlSec?: number;
  /** --client-cert-auth: a request without a token runs as its certificate's common name. */
  clientCertAuth?: boolean;
  /** Wall clock in ms (leases, v2 TTLs); injectable for tests (default io.clock.now). */
  now?: () => number;
  /** Marks each step of the start (`--log-level debug`); none when absent. */
  steps?: StartSteps;
  /** WAL segment size (default 64 MiB; the simulation's members use small ones). */
  walSegmentBytes?: number;
  /** The member's disk, store, transport, clock and randomness (default nodeIo: io.ts). */
  io?: MemberIo;
}

export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
/** etcd's DefaultSnapshotCatchUpEntries. */
export const SNAPSHOT_CATCH_UP_ENTRIES = 5000;

export function memberDir(cfg: Pick<ServerConfig, 'dataDir'>): string {
  return `${cfg.dataDir}/member`;
}

export function walDirOf(cfg: Pick<ServerConfig, 'dataDir' | 'walDir'>): string {
  return cfg.walDir || `${memberDir(cfg)}/wal`;
}

export function snapDirOf(cfg: Pick<ServerConfig, 'dataDir'>): string {
  return `${memberDir(cfg)}/snap`;
}

export function backendPathOf(cfg: Pick<ServerConfig, 'dataDir'>): string {
  return `${snapDirOf(cfg)}/db`;
}
