// From parsed flag values to a Config: etcd's derivations (data dir `${name}.etcd`, the initial
// cluster renamed after --name, auto-compaction retention units) and its checks, in its wording.
import { DEFAULT_NAME } from './flags.js';
import { ConfigError, verifyError } from './errors.js';
import { advertiseMismatch } from './advertise-check.js';
import { checkLogOutputs } from './logger.js';
import { ValueError, formatUrl, parseDurationMs, parseInteger, parseOneUrl, type FlagValue } from './values.js';
import type { Config, LogLevel, OperationsConfig } from './config-types.js';

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'];
const MAX_ELECTION_TIMEOUT_MS = 50_000;

class Values {
  constructor(private readonly v: Map<string, FlagValue>) {}
  str(n: string): string { return this.v.get(n) as string; }
  num(n: string): number { return this.v.get(n) as number; }
  bool(n: string): boolean { return this.v.get(n) as boolean; }
  urls(n: string): URL[] { return this.v.get(n) as URL[]; }
  list(n: string): string[] { return this.v.get(n) as string[]; }
}

/** etcd's InitialClusterFromName: "name=url1,name=url2" from the advertised peer URLs. */
function initialClusterFromName(name: string, peerUrls: URL[]): string {
  return peerUrls.map((u) => `${name}=${formatUrl(u)}`).join(',');
}

/** "a=http://x:2380,a=http://y:2380,b=..." → name → URLs. Errors as etcd's types.NewURLsMap. */
export function parseInitialCluster(s: string): Map<string, URL[]> {
  const out = new Map<string, URL[]>();
  if (s.trim() === '') return out;
  for (const item of s.split(',')) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const rawUrl = eq < 0 ? '' : item.slice(eq + 1);
    let url: URL;
    try {
      url = parseOneUrl(rawUrl);
    } catch (e) {
      if (e instanceof ValueError) throw new ConfigError(`error setting up initial cluster: ${e.message}`);
      throw e;
    }
    const list = out.get(name) ?? [];
    list.push(url);
    out.set(name, list);
  }
  return out;
}

function compactionRetention(mode: string, raw: string): number {
  if (mode === 'revision') {
    try {
      return parseInteger(raw, false);
    } catch {
      throw new ConfigError(`error parsing CompactionRetention: strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
    }
  }
  if (/^[0-9]+$/.test(raw)) return Number(raw) * 3_600_000; // a bare number means hours
  try {
    return parseDurationMs(raw);
  } catch (e) {
    throw new ConfigError(`error parsing CompactionRetention: ${(e as Error).message}`);
  }
}

function verify(v: Values, explicit: ReadonlySet<string>, fromFile: boolean): void {
  if (!fromFile && explicit.has('listen-client-urls') && !explicit.has('advertise-client-urls')) {
    throw verifyError('--advertise-client-urls is required when --listen-client-urls is set explicitly');
  }
  const logger = v.str('logger');
  if (logger !== 'zap' && logger !== 'capnslog') throw verifyError(`unknown logger option ${JSON.stringify(logger)}`);
  checkLogOutputs(logger, v.list('log-outputs'));
  const mode = v.str('auto-compaction-mode');
  if (mode !== 'periodic' && mode !== 'revision') throw verifyError(`unknown auto-compaction-mode ${JSON.stringify(mode)}`);
  const level = v.str('log-level');
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw verifyError(`unknown log level ${JSON.stringify(level)} (want debug, info, warn, error, panic or fatal)`);
  }
  const hb = v.num('heartbeat-interval');
  const et = v.num('election-timeout');
  if (hb === 0) throw verifyError('--heartbeat-interval must be greater than 0');
  if (5 * hb > et) throw verifyError(`--election-timeout[${et}ms] should be at least as 5 times as --heartbeat-interval[${hb}ms]`);
  if (et > MAX_ELECTION_TIMEOUT_MS) throw verifyError(`--election-timeout[${et}ms] is too long, and should be set less than 50 seconds`);
  const cost = v.num('bcrypt-cost');
  if (cost < 4 || cost > 31) throw verifyError(`--bcrypt-cost[${cost}] must be between 4 and 31`);
}

function checkTlsSchemes(c: Config, warnings: string[]): void {
  // etcd sets up its peer listeners first, so a peer error is the one shown when both are wrong
  const kinds = [
    { urls: c.listenPeerUrls, tls: c.peerTls, what: 'peer',
      missing: (u: URL) => `cannot listen on TLS for ${u.host}: KeyFile and CertFile are not presented` },
    { urls: c.listenClientUrls, tls: c.clientTls, what: 'client',
      missing: (u: URL) => `TLS key/cert (--cert-file, --key-file) must be provided for client url ${formatUrl(u)} with HTTPS scheme` },
  ];
  for (const k of kinds) {
    const hasFiles = k.tls.certFile !== '' && k.tls.keyFile !== '';
    if (hasFiles && k.tls.autoTls) warnings.push(`ignoring ${k.what} auto TLS since certs given`);
    for (const u of k.urls) {
      const secure = u.protocol === 'https:' || u.protocol === 'unixs:';
      if (secure && !hasFiles && !k.tls.autoTls) throw new ConfigError(k.missing(u));
      if (!secure && hasFiles) {
        warnings.push(`the scheme of ${k.what} url ${formatUrl(u)} is HTTP while ${k.what} key/cert files are presented; ignored key/cert files for it`);
      }
    }
  }
}

function unsupportedWarnings(c: Config, warnings: string[]): void {
  if (c.proxy !== 'off') warnings.push(`--proxy=${c.proxy} is not supported; starting as a regular member`);
  if (c.discovery !== '' || c.discoverySrv !== '') warnings.push('--discovery and --discovery-srv are not supported; use --initial-cluster');
  if (c.enablePprof) warnings.push('--enable-pprof is not supported; no /debug/pprof endpoints are served');
  if (c.experimentalEnableV2v3 !== '') warnings.push('--experimental-enable-v2v3 is not supported; v2 requests use the v2 store');
}

type SecurityPart = Pick<Config, 'clientTls' | 'peerTls'>;
function securityPart(v: Values): SecurityPart {
  return {
    clientTls: {
      certFile: v.str('cert-file'), keyFile: v.str('key-file'), clientCertAuth: v.bool('client-cert-auth'),
      trustedCaFile: v.str('trusted-ca-file'), crlFile: v.str('client-crl-file'),
      allowedHostname: v.str('client-cert-allowed-hostname'), autoTls: v.bool('auto-tls'),
    },
    peerTls: {
      certFile: v.str('peer-cert-file'), keyFile: v.str('peer-key-file'), clientCertAuth: v.bool('peer-client-cert-auth'),
      trustedCaFile: v.str('peer-trusted-ca-file'), crlFile: v.str('peer-crl-file'),
      allowedHostname: v.str('peer-cert-allowed-hostname'), autoTls: v.bool('peer-auto-tls'),
      allowedCn: v.str('peer-cert-allowed-cn'),
      skipClientSanVerification: v.bool('experimental-peer-skip-client-san-verification'),
    },
  };
}

function operationsPart(v: Values): OperationsConfig {
  return {
    cipherSuites: v.list('cipher-suites'),
    cors: v.list('cors'),
    hostWhitelist: v.list('host-whitelist'),
    authToken: v.str('auth-token'),
    bcryptCost: v.num('bcrypt-cost'),
    authTokenTtlSec: v.num('auth-token-ttl'),
    enablePprof: v.bool('enable-pprof'),
    metrics: v.str('metrics') as Config['metrics'],
    listenMetricsUrls: v.urls('listen-metrics-urls'),
    logger: v.str('logger') as Config['logger'],
    logOutputs: v.list('log-outputs'),
    logLevel: v.bool('debug') ? 'debug' : (v.str('log-level') as LogLevel),
    logPackageLevels: v.str('log-package-levels'),
    proxy: v.str('proxy') as Config['proxy'],
    proxyFailureWaitMs: v.num('proxy-failure-wait'),
    proxyRefreshIntervalMs: v.num('proxy-refresh-interval'),
    proxyDialTimeoutMs: v.num('proxy-dial-timeout'),
    proxyWriteTimeoutMs: v.num('proxy-write-timeout'),
    proxyReadTimeoutMs: v.num('proxy-read-timeout'),
    experimentalInitialCorruptCheck: v.bool('experimental-initial-corrupt-check'),
    experimentalCorruptCheckTimeMs: v.num('experimental-corrupt-check-time'),
    experimentalEnableV2v3: v.str('experimental-enable-v2v3'),
    experimentalBackendBboltFreelistType: v.str('experimental-backend-bbolt-freelist-type'),
    experimentalEnableLeaseCheckpoint: v.bool('experimental-enable-lease-checkpoint'),
    experimentalCompactionBatchLimit: v.num('experimental-compaction-batch-limit'),
    experimentalWatchProgressNotifyIntervalMs: v.num('experimental-watch-progress-notify-interval'),
    experimentalWarningApplyDurationMs: v.num('experimental-warning-apply-duration'),
    forceNewCluster: v.bool('force-new-cluster'),
  };
}

export function buildConfig(
  values: Map<string, FlagValue>, explicit: ReadonlySet<string>, configFile: string, warnings: string[],
): Config {
  const v = new Values(values);
  verify(v, explicit, configFile !== '');
  const name = v.str('name');
  const apUrls = v.urls('initial-advertise-peer-urls');
  let initialClusterRaw = v.str('initial-cluster');
  if (name !== DEFAULT_NAME && initialClusterRaw === initialClusterFromName(DEFAULT_NAME, apUrls)) {
    initialClusterRaw = initialClusterFromName(name, apUrls);
  }
  const mode = v.str('auto-compaction-mode') as Config['autoCompactionMode'];
  const electionTimeoutMs = v.num('election-timeout');
  const c: Config = {
    name,
    dataDir: v.str('data-dir') || `${name}.etcd`,
    walDir: v.str('wal-dir'),
    snapshotCount: v.num('snapshot-count'),
    heartbeatIntervalMs: v.num('heartbeat-interval'),
    electionTimeoutMs,
    initialElectionTickAdvance: v.bool('initial-election-tick-advance'),
    listenPeerUrls: v.urls('listen-peer-urls'),
    listenClientUrls: v.urls('listen-client-urls'),
    maxSnapshots: v.num('max-snapshots'),
    maxWals: v.num('max-wals'),
    quotaBackendBytes: v.num('quota-backend-bytes'),
    backendBatchIntervalMs: v.num('backend-batch-interval'),
    backendBatchLimit: v.num('backend-batch-limit'),
    maxTxnOps: v.num('max-txn-ops'),
    maxRequestBytes: v.num('max-request-bytes'),
    maxConcurrentStreams: v.num('max-concurrent-streams'),
    grpcKeepaliveMinTimeMs: v.num('grpc-keepalive-min-time'),
    grpcKeepaliveIntervalMs: v.num('grpc-keepalive-interval'),
    grpcKeepaliveTimeoutMs: v.num('grpc-keepalive-timeout'),
    initialAdvertisePeerUrls: apUrls,
    initialCluster: parseInitialCluster(initialClusterRaw),
    initialClusterRaw,
    initialClusterState: v.str('initial-cluster-state') as Config['initialClusterState'],
    initialClusterToken: v.str('initial-cluster-token'),
    advertiseClientUrls: v.urls('advertise-client-urls'),
    discovery: v.str('discovery'),
    discoveryFallback: v.str('discovery-fallback') as Config['discoveryFallback'],
    discoveryProxy: v.str('discovery-proxy'),
    discoverySrv: v.str('discovery-srv'),
    discoverySrvName: v.str('discovery-srv-name'),
    strictReconfigCheck: v.bool('strict-reconfig-check'),
    preVote: v.bool('pre-vote'),
    autoCompactionMode: mode,
    autoCompactionRetention: compactionRetention(mode, v.str('auto-compaction-retention')),
    enableV2: v.bool('enable-v2'),
    ...securityPart(v),
    ...operationsPart(v),
    configFile,
    explicit,
    requestTimeoutMs: 5000 + 2 * electionTimeoutMs,
  };
  checkTlsSchemes(c, warnings);
  unsupportedWarnings(c, warnings);
  return c;
}

export function checkInitialCluster(c: Config): void {
  const mine = c.initialCluster.get(c.name);
  if (mine === undefined) {
    throw new ConfigError(`couldn't find local name ${JSON.stringify(c.name)} in the initial cluster configuration`);
  }
  const mismatch = advertiseMismatch(c.name, c.initialAdvertisePeerUrls.map(formatUrl), mine.map(formatUrl).sort());
  if (mismatch) throw new ConfigError(mismatch);
}
