// The typed server configuration, every value parsed: URLs as URL objects, durations in ms,
// sizes in bytes, booleans as booleans. Produced by parseConfig (config.ts) from the command line,
// ETCD_* variables or the YAML config file; read by the server wiring (src/cli/main.ts).

export interface TransportSecurity {
  certFile: string;
  keyFile: string;
  clientCertAuth: boolean;
  trustedCaFile: string;
  crlFile: string;
  /** --client-cert-allowed-hostname / --peer-cert-allowed-hostname */
  allowedHostname: string;
  autoTls: boolean;
}

export interface PeerTransportSecurity extends TransportSecurity {
  /** --peer-cert-allowed-cn */
  allowedCn: string;
  /** --experimental-peer-skip-client-san-verification */
  skipClientSanVerification: boolean;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';

/** TLS, auth, monitoring, logging, v2 proxy and experimental settings. */
export interface OperationsConfig {
  cipherSuites: string[];
  cors: string[];
  hostWhitelist: string[];

  // Auth
  /** 'simple' or 'jwt,pub-key=...,priv-key=...,sign-method=...' as given. */
  authToken: string;
  bcryptCost: number;
  authTokenTtlSec: number;

  // Monitoring and logging
  enablePprof: boolean;
  metrics: 'basic' | 'extensive';
  listenMetricsUrls: URL[];
  logger: 'zap' | 'capnslog';
  logOutputs: string[];
  /** 'debug' when --debug is set. */
  logLevel: LogLevel;
  logPackageLevels: string;

  // v2 proxy (only 'off' is served)
  proxy: 'off' | 'readonly' | 'on';
  proxyFailureWaitMs: number;
  proxyRefreshIntervalMs: number;
  proxyDialTimeoutMs: number;
  proxyWriteTimeoutMs: number;
  proxyReadTimeoutMs: number;

  // Experimental and unsafe
  experimentalInitialCorruptCheck: boolean;
  experimentalCorruptCheckTimeMs: number;
  experimentalEnableV2v3: string;
  experimentalBackendBboltFreelistType: string;
  experimentalEnableLeaseCheckpoint: boolean;
  experimentalCompactionBatchLimit: number;
  experimentalWatchProgressNotifyIntervalMs: number;
  experimentalWarningApplyDurationMs: number;
  forceNewCluster: boolean;
}

export interface Config extends OperationsConfig {
  // Member
  name: string;
  /** `${name}.etcd` when not given. */
  dataDir: string;
  /** '' = inside the data dir. */
  walDir: string;
  snapshotCount: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  initialElectionTickAdvance: boolean;
  listenPeerUrls: URL[];
  listenClientUrls: URL[];
  maxSnapshots: number;
  maxWals: number;
  /** 0 = the default quota of 2 GiB (etcd's DefaultQuotaBytes). */
  quotaBackendBytes: number;
  /** 0 = the backend's default. */
  backendBatchIntervalMs: number;
  backendBatchLimit: number;
  maxTxnOps: number;
  maxRequestBytes: number;
  maxConcurrentStreams: number;
  grpcKeepaliveMinTimeMs: number;
  grpcKeepaliveIntervalMs: number;
  grpcKeepaliveTimeoutMs: number;

  // Clustering
  initialAdvertisePeerUrls: URL[];
  /** name → peer URLs, in the order given (a name may list several URLs). */
  initialCluster: Map<string, URL[]>;
  /** The raw --initial-cluster string after etcd's name substitution (for logs). */
  initialClusterRaw: string;
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  advertiseClientUrls: URL[];
  discovery: string;
  discoveryFallback: 'exit' | 'proxy';
  discoveryProxy: string;
  discoverySrv: string;
  discoverySrvName: string;
  strictReconfigCheck: boolean;
  preVote: boolean;
  autoCompactionMode: 'periodic' | 'revision';
  /** periodic: retention in ms (a bare number means hours); revision: revisions kept. 0 = off. */
  autoCompactionRetention: number;
  enableV2: boolean;

  // Security
  clientTls: TransportSecurity;
  peerTls: PeerTransportSecurity;

  /** The YAML file the configuration came from, '' when from flags and environment. */
  configFile: string;
  /** Names of the flags given explicitly (command line, ETCD_* or config file). */
  explicit: ReadonlySet<string>;
  /** 5 s + 2 × election timeout, as etcd derives its request timeout. */
  requestTimeoutMs: number;
}
