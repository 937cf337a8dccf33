// parseConfig on the command line: etcd 3.4.23's defaults, Go flag syntax, and etcd's error lines
// and exit codes (the expected lines were taken from running /usr/bin/etcd 3.4.23 with the same input).
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/cli/config.js';

const NO_ENV = {};
const parse = (argv: string[], env: NodeJS.ProcessEnv = NO_ENV) => parseConfig(argv, env);
const hrefs = (u: URL[]) => u.map((x) => x.href);

function errorOf(argv: string[], env: NodeJS.ProcessEnv = NO_ENV): ConfigError {
  try {
    parse(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`expected a ConfigError for ${argv.join(' ')}`);
}

describe('defaults (etcd with no flags)', () => {
  const { config: c, warnings } = parse([]);
  it('is member "default" in default.etcd on localhost:2379/2380', () => {
    expect(c.name).toBe('default');
    expect(c.dataDir).toBe('default.etcd');
    expect(c.walDir).toBe('');
    expect(hrefs(c.listenClientUrls)).toEqual(['http://localhost:2379/']);
    expect(hrefs(c.advertiseClientUrls)).toEqual(['http://localhost:2379/']);
    expect(hrefs(c.listenPeerUrls)).toEqual(['http://localhost:2380/']);
    expect(hrefs(c.initialAdvertisePeerUrls)).toEqual(['http://localhost:2380/']);
    expect([...c.initialCluster.keys()]).toEqual(['default']);
    expect(hrefs(c.initialCluster.get('default')!)).toEqual(['http://localhost:2380/']);
    expect(c.initialClusterState).toBe('new');
    expect(c.initialClusterToken).toBe('etcd-cluster');
    expect(warnings).toEqual([]);
  });
  it('has etcd\'s numbers, in ms and bytes', () => {
    expect(c).toMatchObject({
      heartbeatIntervalMs: 100, electionTimeoutMs: 1000, snapshotCount: 100000, quotaBackendBytes: 0,
      maxRequestBytes: 1572864, maxTxnOps: 128, maxConcurrentStreams: 4294967295, maxSnapshots: 5, maxWals: 5,
      grpcKeepaliveMinTimeMs: 5000, grpcKeepaliveIntervalMs: 7_200_000, grpcKeepaliveTimeoutMs: 20_000,
      autoCompactionMode: 'periodic', autoCompactionRetention: 0, bcryptCost: 10, authTokenTtlSec: 300,
      authToken: 'simple', logger: 'capnslog', logLevel: 'info', logOutputs: ['default'], cors: ['*'],
      experimentalWatchProgressNotifyIntervalMs: 600_000, experimentalWarningApplyDurationMs: 100,
      requestTimeoutMs: 7000, strictReconfigCheck: true, preVote: false, initialElectionTickAdvance: true,
    });
  });
  it('enables v2 (our deliberate departure from etcd 3.4)', () => {
    expect(c.enableV2).toBe(true);
  });
});

describe('Go flag syntax', () => {
  it.each([
    [['--name', 'infra1'], 'infra1'],
    [['--name=infra1'], 'infra1'],
    [['-name', 'infra1'], 'infra1'],
    [['-name=infra1'], 'infra1'],
  ])('%j sets the name', (argv, name) => {
    expect(parse(argv).config.name).toBe(name);
  });
  it.each([
    [['--enable-v2=false'], false],
    [['--enable-v2=0'], false],
    [['--enable-v2=F'], false],
    [['--enable-v2'], true],
    [['--enable-v2=TRUE'], true],
  ])('%j → enableV2 %s', (argv, v) => {
    expect(parse(argv).config.enableV2).toBe(v);
  });
  it('reads integers as Go does (0x prefix) and comma-separated URL lists', () => {
    const { config } = parse([
      '--heartbeat-interval', '0x10', '--election-timeout=500',
      '--listen-client-urls', 'http://127.0.0.1:2379,https://10.0.0.1:2379', '--advertise-client-urls=http://127.0.0.1:2379',
      '--cert-file=/c', '--key-file=/k',
    ]);
    expect(config.heartbeatIntervalMs).toBe(16);
    expect(config.electionTimeoutMs).toBe(500);
    expect(hrefs(config.listenClientUrls)).toEqual(['http://127.0.0.1:2379/', 'https://10.0.0.1:2379/']);
  });
  it('derives the data dir and the initial cluster from --name, as etcd does', () => {
    const { config } = parse(['--name', 'infra1']);
    expect(config.dataDir).toBe('infra1.etcd');
    expect(config.initialClusterRaw).toBe('infra1=http://localhost:2380');
    expect([...config.initialCluster.keys()]).toEqual(['infra1']);
  });
  it('keeps an explicit initial cluster with several URLs per member', () => {
    const { config } = parse(['--name', 'a', '--initial-cluster', 'a=http://10.0.0.1:2380,a=http://10.0.0.2:2380,b=https://10.0.0.3:2380']);
    expect(hrefs(config.initialCluster.get('a')!)).toEqual(['http://10.0.0.1:2380/', 'http://10.0.0.2:2380/']);
    expect(hrefs(config.initialCluster.get('b')!)).toEqual(['https://10.0.0.3:2380/']);
  });
  it.each([
    [['--auto-compaction-retention=1'], 3_600_000],
    [['--auto-compaction-retention=5m'], 300_000],
    [['--auto-compaction-retention=1h30m'], 5_400_000],
    [['--auto-compaction-mode=revision', '--auto-compaction-retention=1000'], 1000],
  ])('auto compaction %j → %d', (argv, v) => {
    expect(parse(argv).config.autoCompactionRetention).toBe(v);
  });
  it('accepts flags it does not implement yet, with a warning', () => {
    const { config, warnings } = parse(['--proxy=on', '--enable-pprof', '--discovery-srv=example.com', '--max-wals=0']);
    expect(config.proxy).toBe('on');
    expect(config.maxWals).toBe(0);
    expect(warnings.length).toBe(3);
  });
  it('--debug means log level debug', () => {
    expect(parse(['--debug']).config.logLevel).toBe('debug');
  });
});

describe('bad command lines (etcd\'s wording and exit code)', () => {
  it.each([
    [['--bogus'], 2, 'flag provided but not defined: -bogus'],
    [['--name'], 2, 'flag needs an argument: -name'],
    [['--heartbeat-interval=abc'], 2, 'invalid value "abc" for flag -heartbeat-interval: parse error'],
    [['--heartbeat-interval=1.5'], 2, 'invalid value "1.5" for flag -heartbeat-interval: parse error'],
    [['--snapshot-count=-1'], 2, 'invalid value "-1" for flag -snapshot-count: parse error'],
    [['--quota-backend-bytes=1k'], 2, 'invalid value "1k" for flag -quota-backend-bytes: parse error'],
    [['--grpc-keepalive-min-time=5'], 2, 'invalid value "5" for flag -grpc-keepalive-min-time: parse error'],
    [['--enable-v2=maybe'], 2, 'invalid boolean value "maybe" for -enable-v2: parse error'],
    [['--initial-cluster-state=weird'], 2, 'invalid value "weird" for flag -initial-cluster-state: invalid value'],
    [['--proxy=bogus'], 2, 'invalid value "bogus" for flag -proxy: invalid value'],
    [['--listen-client-urls=foo'], 2, 'invalid value "foo" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: foo'],
    [['--listen-client-urls=ftp://127.0.0.1:1'], 2, 'invalid value "ftp://127.0.0.1:1" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:1'],
    [['--listen-client-urls=http://127.0.0.1:2379/x'], 2, 'invalid value "http://127.0.0.1:2379/x" for flag -listen-client-urls: URL must not contain a path: http://127.0.0.1:2379/x'],
    [['--listen-client-urls=http://127.0.0.1'], 2, 'invalid value "http://127.0.0.1" for flag -listen-client-urls: URL address does not have the form "host:port": http://127.0.0.1'],
    [['--listen-client-urls=http://[::1:32379'], 2, 'invalid value "http://[::1:32379" for flag -listen-client-urls: parse "http://[::1:32379": missing \']\' in host'],
    [['extra-positional'], 1, "error verifying flags, 'extra-positional' is not a valid flag. See 'etcd --help'."],
    [['--auto-compaction-mode=foo'], 1, 'error verifying flags, unknown auto-compaction-mode "foo". See \'etcd --help\'.'],
    [['--logger=bogus'], 1, 'error verifying flags, unknown logger option "bogus". See \'etcd --help\'.'],
    [['--election-timeout=100', '--heartbeat-interval=100'], 1, "error verifying flags, --election-timeout[100ms] should be at least as 5 times as --heartbeat-interval[100ms]. See 'etcd --help'."],
    [['--listen-client-urls=http://127.0.0.1:32379'], 1, "error verifying flags, --advertise-client-urls is required when --listen-client-urls is set explicitly. See 'etcd --help'."],
    [['--auto-compaction-retention=abc'], 1, 'error parsing CompactionRetention: time: invalid duration "abc"'],
    [['--initial-cluster', 'foo'], 1, 'error setting up initial cluster: URL scheme must be http, https, unix, or unixs: '],
    [['--initial-cluster', 'default=foo'], 1, 'error setting up initial cluster: URL scheme must be http, https, unix, or unixs: foo'],
    [['--listen-client-urls=https://127.0.0.1:32379', '--advertise-client-urls=https://127.0.0.1:32379'], 1,
      'TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:32379 with HTTPS scheme'],
    [['--listen-peer-urls=https://127.0.0.1:32380', '--initial-advertise-peer-urls=https://127.0.0.1:32380',
      '--initial-cluster=default=https://127.0.0.1:32380'], 1,
      'cannot listen on TLS for 127.0.0.1:32380: KeyFile and CertFile are not presented'],
  ])('%j exits %d: %s', (argv, code, line) => {
    const e = errorOf(argv);
    expect(e.message).toBe(line);
    expect(e.exitCode).toBe(code);
  });
  it('an unknown log level is one clear line (etcd panics)', () => {
    expect(errorOf(['--log-level=bogus']).message).toMatch(/^error verifying flags, unknown log level "bogus"/);
  });
});
