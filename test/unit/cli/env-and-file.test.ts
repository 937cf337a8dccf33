// ETCD_* variables and the YAML config file: the naming rule, precedence, our kinder conflict rule,
// etcd's warnings, and the file's keys (nested transport security).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/cli/config.js';
import { FLAGS, flagToEnv } from '../../../src/cli/flags.js';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('ETCD_* environment variables', () => {
  it('names every flag ETCD_ + upper snake case', () => {
    expect(flagToEnv('initial-cluster-token')).toBe('ETCD_INITIAL_CLUSTER_TOKEN');
    expect(flagToEnv('experimental-enable-v2v3')).toBe('ETCD_EXPERIMENTAL_ENABLE_V2V3');
  });

  it('every flag reads its variable', () => {
    const sample = (kind: string, def: string) =>
      def !== '' ? def : kind === 'urls' ? 'http://127.0.0.1:1' : kind === 'duration' ? '1s' : 'x';
    const env = Object.fromEntries(FLAGS.map((s) => [flagToEnv(s.name), sample(s.kind, s.default)]));
    const all = parseConfig([], env);
    expect([...all.config.explicit].sort()).toEqual(FLAGS.map((s) => s.name).sort());
    expect(all.notices.length).toBe(FLAGS.length);
    const { config, notices } = parseConfig([], {
      ETCD_NAME: 'infra1', ETCD_INITIAL_CLUSTER_TOKEN: 'tok', ETCD_ENABLE_V2: 'false', ETCD_HEARTBEAT_INTERVAL: '50',
      ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:12379', ETCD_ADVERTISE_CLIENT_URLS: 'http://127.0.0.1:12379',
    });
    expect(config).toMatchObject({ name: 'infra1', initialClusterToken: 'tok', enableV2: false, heartbeatIntervalMs: 50 });
    expect(config.listenClientUrls.map((u) => u.href)).toEqual(['http://127.0.0.1:12379/']);
    expect(notices).toContain('recognized and used environment variable ETCD_NAME=infra1');
  });

  it('accepts a variable and a flag that agree, silently (the systemd unit case)', () => {
    const { config, warnings } = parseConfig(['--name', 'infra1', '--enable-v2=true'], { ETCD_NAME: 'infra1', ETCD_ENABLE_V2: '1' });
    expect(config.name).toBe('infra1');
    expect(warnings).toEqual([]);
  });

  it('lets the command line win over a differing variable, and names both in a warning', () => {
    const { config, warnings } = parseConfig(['--name', 'infra1'], { ETCD_NAME: 'infra2' });
    expect(config.name).toBe('infra1');
    expect(warnings).toEqual(['environment variable ETCD_NAME="infra2" differs from command-line flag --name="infra1"; using the command-line value']);
  });

  it('warns on unrecognized ETCD_* variables as etcd does, but not on ones read elsewhere', () => {
    const { warnings } = parseConfig([], { ETCD_FOO: '1', ETCD_FAILPOINTS: 'x=panic', ETCDCTL_API: '3', ETCD_UNSUPPORTED_ARCH: 'arm', ETCD_TS_HTTP1: 'node', ETCD_TS_HTTP2: 'node' });
    expect(warnings).toEqual(['unrecognized environment variable ETCD_FOO=1']);
  });

  it('ignores empty variables (EnvironmentFile lines like ETCD_WAL_DIR=)', () => {
    expect(parseConfig([], { ETCD_WAL_DIR: '', ETCD_NAME: '' }).config).toMatchObject({ walDir: '', name: 'default' });
  });

  it('reports a bad value with the variable\'s name (etcd\'s line, exit 1)', () => {
    const e = errorOf(() => parseConfig([], { ETCD_HEARTBEAT_INTERVAL: 'abc' }));
    expect(e.message).toBe("error verifying flags, invalid value \"abc\" for ETCD_HEARTBEAT_INTERVAL: parse error. See 'etcd --help'.");
    expect(e.exitCode).toBe(1);
    expect(errorOf(() => parseConfig([], { ETCD_LISTEN_CLIENT_URLS: 'foo' })).message).toBe(
      "error verifying flags, invalid value \"foo\" for ETCD_LISTEN_CLIENT_URLS: URL scheme must be http, https, unix, or unixs: foo. See 'etcd --help'.",
    );
  });
});

describe('--config-file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etcd-cfg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const full = file('full.yml', [
    'name: cfgname',
    'data-dir: /var/lib/etcd-x',
    'listen-client-urls: https://127.0.0.1:2379,https://10.0.0.1:2379',
    'advertise-client-urls: https://10.0.0.1:2379',
    'initial-cluster: cfgname=http://10.0.0.1:2380',
    'heartbeat-interval: 200',
    'election-timeout: 2000',
    'enable-v2: false',
    'log-outputs: [stderr]',
    'auto-compaction-retention: "1"',
    'bogus-key: 5',
    'client-transport-security:',
    '  cert-file: /etc/etcd/server.crt',
    '  key-file: /etc/etcd/server.key',
    '  client-cert-auth: true',
    '  trusted-ca-file: /etc/etcd/ca.crt',
    'peer-transport-security:',
    '  auto-tls: true',
    '',
  ].join('\n'));

  it('reads etcd\'s keys, nested transport security included', () => {
    const { config, warnings } = parseConfig(['--config-file', full], {});
    expect(config).toMatchObject({
      name: 'cfgname', dataDir: '/var/lib/etcd-x', heartbeatIntervalMs: 200, electionTimeoutMs: 2000,
      enableV2: false, logOutputs: ['stderr'], autoCompactionRetention: 3_600_000, configFile: full,
    });
    expect(config.clientTls).toMatchObject({ certFile: '/etc/etcd/server.crt', keyFile: '/etc/etcd/server.key', clientCertAuth: true, trustedCaFile: '/etc/etcd/ca.crt' });
    expect(config.peerTls.autoTls).toBe(true);
    expect(config.listenClientUrls.map((u) => u.href)).toEqual(['https://127.0.0.1:2379/', 'https://10.0.0.1:2379/']);
    expect(warnings).toEqual([`unknown key "bogus-key" in config file ${full} (ignored)`]);
  });

  it('ignores other flags and ETCD_* variables, as etcd does (and says so)', () => {
    const { config, warnings } = parseConfig(['--config-file', full, '--name', 'flagname'], { ETCD_NAME: 'envname', ETCD_BOGUS: '1' });
    expect(config.name).toBe('cfgname');
    expect(warnings).toContain('flag --name is ignored because --config-file is set');
  });

  it('is also named by ETCD_CONFIG_FILE, and takes defaults for missing keys', () => {
    const p = file('small.yml', 'name: foo\n');
    const { config } = parseConfig([], { ETCD_CONFIG_FILE: p });
    expect(config).toMatchObject({ name: 'foo', dataDir: 'foo.etcd', initialClusterRaw: 'foo=http://localhost:2380', enableV2: true });
  });

  it.each([
    ['missing.yml', undefined, "error verifying flags, open {p}: no such file or directory. See 'etcd --help'."],
    ['bad-type.yml', 'heartbeat-interval: abc\n', 'error verifying flags, invalid value "abc" for heartbeat-interval in {p}: parse error. See \'etcd --help\'.'],
    ['bad-url.yml', 'listen-client-urls: foo\n', 'error verifying flags, invalid value "foo" for listen-client-urls in {p}: URL scheme must be http, https, unix, or unixs: foo. See \'etcd --help\'.'],
    ['bad-nested.yml', 'client-transport-security:\n  client-cert-auth: maybe\n', 'error verifying flags, invalid value "maybe" for client-transport-security.client-cert-auth in {p}: parse error. See \'etcd --help\'.'],
  ])('%s fails with one line naming the key and file', (name, text, line) => {
    const p = text === undefined ? path.join(dir, name) : file(name, text);
    const e = errorOf(() => parseConfig(['--config-file', p], {}));
    expect(e.message).toBe(line.replace('{p}', p));
    expect(e.exitCode).toBe(1);
  });

  it('reports YAML syntax errors with the file name', () => {
    const p = file('bad.yml', 'name: [\n');
    expect(errorOf(() => parseConfig(['--config-file', p], {})).message).toMatch(
      new RegExp(`^error verifying flags, error converting YAML to JSON: ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .+ See 'etcd --help'\\.$`),
    );
  });
});

describe('ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES (test-only)', () => {
  it('keeps etcd 3.4\'s 5000 catch-up entries unless set to a positive integer, and draws no warning', async () => {
    const { snapshotCatchUpEntries } = await import('../../../src/cli/env.js');
    expect(snapshotCatchUpEntries({})).toBe(5000);
    expect(snapshotCatchUpEntries({ ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES: '20' })).toBe(20);
    for (const bad of ['0', '-1', '1.5', 'x']) expect(() => snapshotCatchUpEntries({ ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES: bad })).toThrow(ConfigError);
    expect(parseConfig([], { ETCD_TS_SNAPSHOT_CATCHUP_ENTRIES: '20' }).warnings).toEqual([]);
  });
});

describe('ETCD_TS_WAL_SEGMENT_BYTES (test-only)', () => {
  it('keeps the default unless set to an integer of at least 4096, and draws no warning', async () => {
    const { walSegmentBytes } = await import('../../../src/cli/env.js');
    expect(walSegmentBytes({})).toBeUndefined();
    expect(walSegmentBytes({ ETCD_TS_WAL_SEGMENT_BYTES: '65536' })).toBe(65536);
    for (const bad of ['0', '4095', '-1', '1.5', 'x']) expect(() => walSegmentBytes({ ETCD_TS_WAL_SEGMENT_BYTES: bad })).toThrow(ConfigError);
    expect(parseConfig([], { ETCD_TS_WAL_SEGMENT_BYTES: '65536' }).warnings).toEqual([]);
  });
});
