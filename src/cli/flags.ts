// The table of etcd 3.4.23's server flags: name, value kind, default (as `etcd --help` prints it) and
// help group. One table drives the command line (commander), the ETCD_* environment variables, the
// YAML config file and `etcd --help`, so the four can never disagree about a flag.
// The help sentences are ours; names, defaults and grouping follow etcd 3.4.23.

export type FlagKind =
  | 'string' // free text
  | 'bool' // Go strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False
  | 'uint' // non-negative integer (Go ParseUint, base prefixes 0x 0o 0b accepted)
  | 'int' // signed integer
  | 'duration' // Go duration: 5s, 2h, 100ms, 1h30m, 0
  | 'urls' // comma-separated URLs, scheme http|https|unix|unixs, host:port, no path
  | 'list' // comma-separated strings
  | 'enum'; // one of `choices`

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  /** The default as a string, parsed by the same code as user input ('' = empty). */
  default: string;
  /** What `etcd --help` shows between quotes when it differs from `default`. */
  shownDefault?: string;
  /** etcd prints a few integer defaults without quotes. */
  unquoted?: boolean;
  choices?: readonly string[];
  group: FlagGroup;
  help: string;
}

export type FlagGroup =
  | 'Member' | 'Clustering' | 'Security' | 'Auth' | 'Profiling and Monitoring' | 'Logging'
  | 'v2 Proxy (to be deprecated in v4)' | 'Experimental feature' | 'Unsafe feature' | 'TO BE DEPRECATED';

const f = (
  group: FlagGroup, name: string, kind: FlagKind, def: string, help: string, extra: Partial<FlagSpec> = {},
): FlagSpec => ({ group, name, kind, default: def, help, ...extra });

const M: FlagGroup = 'Member';
const C: FlagGroup = 'Clustering';
const S: FlagGroup = 'Security';
const A: FlagGroup = 'Auth';
const P: FlagGroup = 'Profiling and Monitoring';
const L: FlagGroup = 'Logging';
const X: FlagGroup = 'v2 Proxy (to be deprecated in v4)';
const E: FlagGroup = 'Experimental feature';

export const DEFAULT_NAME = 'default';
export const DEFAULT_INITIAL_CLUSTER = 'default=http://localhost:2380';
export const MAX_UINT32 = 4294967295;

export const FLAGS: readonly FlagSpec[] = [
  f(M, 'name', 'string', DEFAULT_NAME, 'Name of this member, unique in the cluster.'),
  f(M, 'data-dir', 'string', '', 'Directory holding the member\'s data.', { shownDefault: '${name}.etcd' }),
  f(M, 'wal-dir', 'string', '', 'Separate directory for the write-ahead log (optional).'),
  f(M, 'snapshot-count', 'uint', '100000', 'Committed entries between two snapshots.'),
  f(M, 'heartbeat-interval', 'uint', '100', 'Leader heartbeat period, in milliseconds.'),
  f(M, 'election-timeout', 'uint', '1000', 'Follower election timeout, in milliseconds.'),
  f(M, 'initial-election-tick-advance', 'bool', 'true', 'Fast-forward election ticks at boot for a quicker first election.'),
  f(M, 'listen-peer-urls', 'urls', 'http://localhost:2380', 'URLs to listen on for peer traffic.'),
  f(M, 'listen-client-urls', 'urls', 'http://localhost:2379', 'URLs to listen on for client traffic.'),
  f(M, 'max-snapshots', 'uint', '5', 'Snapshot files kept (0 keeps all).'),
  f(M, 'max-wals', 'uint', '5', 'WAL files kept (0 keeps all).'),
  f(M, 'quota-backend-bytes', 'int', '0', 'Backend size that raises the NOSPACE alarm (0 = 2 GiB).'),
  f(M, 'backend-batch-interval', 'duration', '', 'Longest time before the backend commits a batch.'),
  f(M, 'backend-batch-limit', 'int', '0', 'Most operations before the backend commits a batch.'),
  f(M, 'max-txn-ops', 'uint', '128', 'Most operations allowed in one transaction.'),
  f(M, 'max-request-bytes', 'uint', '1572864', 'Largest client request accepted, in bytes.'),
  f(M, 'max-concurrent-streams', 'uint', String(MAX_UINT32), 'Most concurrent streams per client connection.',
    { shownDefault: 'math.MaxUint32' }),
  f(M, 'grpc-keepalive-min-time', 'duration', '5s', 'Shortest interval a client may ping the server at.'),
  f(M, 'grpc-keepalive-interval', 'duration', '2h', 'Server-to-client ping period (0 disables).'),
  f(M, 'grpc-keepalive-timeout', 'duration', '20s', 'Wait for a ping answer before closing (0 disables).'),

  f(C, 'initial-advertise-peer-urls', 'urls', 'http://localhost:2380', 'Peer URLs this member announces to the cluster.'),
  f(C, 'initial-cluster', 'string', DEFAULT_INITIAL_CLUSTER, 'Members at bootstrap: name=peerURL,...'),
  f(C, 'initial-cluster-state', 'enum', 'new', 'Bootstrap state: \'new\' or \'existing\'.', { choices: ['new', 'existing'] }),
  f(C, 'initial-cluster-token', 'string', 'etcd-cluster', 'Token that keeps separately bootstrapped clusters apart.'),
  f(C, 'advertise-client-urls', 'urls', 'http://localhost:2379', 'Client URLs this member announces to clients.'),
  f(C, 'discovery', 'string', '', 'Discovery service URL for bootstrapping (not supported yet).'),
  f(C, 'discovery-fallback', 'enum', 'proxy', 'What to do when discovery fails: \'exit\' or \'proxy\'.', { choices: ['exit', 'proxy'] }),
  f(C, 'discovery-proxy', 'string', '', 'HTTP proxy for the discovery service.'),
  f(C, 'discovery-srv', 'string', '', 'DNS SRV domain for bootstrapping (not supported yet).'),
  f(C, 'discovery-srv-name', 'string', '', 'Suffix of the DNS SRV name.'),
  f(C, 'strict-reconfig-check', 'bool', 'true', 'Refuse membership changes that would lose quorum.'),
  f(C, 'pre-vote', 'bool', 'false', 'Run the Raft pre-vote phase before elections.'),
  f(C, 'auto-compaction-retention', 'string', '0', 'History kept by auto compaction (0 disables).'),
  f(C, 'auto-compaction-mode', 'string', 'periodic', 'How retention is read: \'periodic\' (hours or a duration) or \'revision\'.'),
  f(C, 'enable-v2', 'bool', 'true', 'Serve the v2 API (default true here; etcd 3.4 defaults to false).'),

  f(S, 'cert-file', 'string', '', 'Client-port TLS certificate.'),
  f(S, 'key-file', 'string', '', 'Client-port TLS key.'),
  f(S, 'client-cert-auth', 'bool', 'false', 'Require client certificates signed by --trusted-ca-file.'),
  f(S, 'client-crl-file', 'string', '', 'Client certificate revocation list.'),
  f(S, 'client-cert-allowed-hostname', 'string', '', 'Hostname a client certificate must carry.'),
  f(S, 'trusted-ca-file', 'string', '', 'CA bundle for client certificates.'),
  f(S, 'auto-tls', 'bool', 'false', 'Client TLS with a generated self-signed certificate.'),
  f(S, 'peer-cert-file', 'string', '', 'Peer-port TLS certificate.'),
  f(S, 'peer-key-file', 'string', '', 'Peer-port TLS key.'),
  f(S, 'peer-client-cert-auth', 'bool', 'false', 'Require peer certificates signed by --peer-trusted-ca-file.'),
  f(S, 'peer-trusted-ca-file', 'string', '', 'CA bundle for peer certificates.'),
  f(S, 'peer-cert-allowed-cn', 'string', '', 'Common name a peer certificate must carry.'),
  f(S, 'peer-cert-allowed-hostname', 'string', '', 'Hostname a peer certificate must carry.'),
  f(S, 'peer-auto-tls', 'bool', 'false', 'Peer TLS with a generated certificate when no peer cert/key is given.'),
  f(S, 'peer-crl-file', 'string', '', 'Peer certificate revocation list.'),
  f(S, 'cipher-suites', 'list', '', 'Comma-separated TLS cipher suites (empty = Node\'s defaults).'),
  f(S, 'cors', 'list', '*', 'Comma-separated CORS origins (empty or * allows all).'),
  f(S, 'host-whitelist', 'list', '*', 'Accepted Host headers on plain HTTP (empty or * allows all).'),

  f(A, 'auth-token', 'string', 'simple', 'Auth token type and options: \'simple\' or \'jwt,...\'.'),
  f(A, 'bcrypt-cost', 'uint', '10', 'bcrypt cost for password hashes (4 to 31).', { unquoted: true }),
  f(A, 'auth-token-ttl', 'uint', '300', 'Lifetime of a simple auth token, in seconds.', { unquoted: true }),

  f(P, 'enable-pprof', 'bool', 'false', 'Serve profiling data under /debug/pprof/ (not supported yet).'),
  f(P, 'metrics', 'enum', 'basic', 'Metrics detail: \'basic\' or \'extensive\'.', { choices: ['basic', 'extensive'] }),
  f(P, 'listen-metrics-urls', 'urls', '', 'Extra URLs serving only /metrics and /health.'),

  f(L, 'logger', 'string', 'capnslog', 'Log format: \'zap\' (structured) or \'capnslog\'.'),
  f(L, 'log-outputs', 'list', 'default', 'Where logs go: \'default\', \'stdout\', \'stderr\' or file paths, comma separated.'),
  f(L, 'log-level', 'string', 'info', 'Log level: debug, info, warn, error, panic or fatal.'),

  f(X, 'proxy', 'enum', 'off', 'v2 proxy mode: \'off\', \'readonly\' or \'on\' (only \'off\' is supported).', { choices: ['off', 'readonly', 'on'] }),
  f(X, 'proxy-failure-wait', 'uint', '5000', 'Milliseconds a failed endpoint is set aside.', { unquoted: true }),
  f(X, 'proxy-refresh-interval', 'uint', '30000', 'Milliseconds between endpoint refreshes.', { unquoted: true }),
  f(X, 'proxy-dial-timeout', 'uint', '1000', 'Milliseconds before a dial times out.', { unquoted: true }),
  f(X, 'proxy-write-timeout', 'uint', '5000', 'Milliseconds before a write times out.', { unquoted: true }),
  f(X, 'proxy-read-timeout', 'uint', '0', 'Milliseconds before a read times out.', { unquoted: true }),

  f(E, 'experimental-initial-corrupt-check', 'bool', 'false', 'Check for data corruption before serving.'),
  f(E, 'experimental-corrupt-check-time', 'duration', '0s', 'Period of cluster corruption checks.'),
  f(E, 'experimental-enable-v2v3', 'string', '', 'Serve v2 through the v3 store under this prefix (not supported).'),
  f(E, 'experimental-backend-bbolt-freelist-type', 'string', 'array', 'bbolt freelist type (accepted, no effect here).'),
  f(E, 'experimental-enable-lease-checkpoint', 'bool', 'false', 'Persist remaining lease TTLs through checkpoints.'),
  f(E, 'experimental-compaction-batch-limit', 'int', '1000', 'Most revisions deleted per compaction batch.', { unquoted: true }),
  f(E, 'experimental-peer-skip-client-san-verification', 'bool', 'false', 'Skip the SAN check of peer client certificates.'),
  f(E, 'experimental-watch-progress-notify-interval', 'duration', '10m', 'Period of watch progress notifications.'),
  f(E, 'experimental-warning-apply-duration', 'duration', '100ms', 'Warn when applying a request takes longer.'),

  f('Unsafe feature', 'force-new-cluster', 'bool', 'false', 'Restart as a new one-member cluster keeping the data.'),

  f('TO BE DEPRECATED', 'debug', 'bool', 'false', 'Same as --log-level=debug.'),
  f('TO BE DEPRECATED', 'log-package-levels', 'string', '', 'Per-package log levels (accepted, no effect here).'),
];

/** Flags that exist on the command line but are not server settings. */
export const META_FLAGS = ['config-file', 'version', 'help'] as const;

const BY_NAME = new Map(FLAGS.map((s) => [s.name, s]));

export function flagSpec(name: string): FlagSpec | undefined {
  return BY_NAME.get(name);
}

/** etcd's naming rule: flag `--foo-bar` ↔ environment variable `ETCD_FOO_BAR`. */
export function flagToEnv(name: string): string {
  return 'ETCD_' + name.toUpperCase().replace(/-/g, '_');
}
