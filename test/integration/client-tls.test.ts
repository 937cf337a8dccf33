// Client TLS on the one client port, ours and real etcd 3.4.23 side by side with the same flags and
// certificates made here by openssl: etcdctl put/get over https with a client certificate (URL and
// host:port endpoint forms), GET /health with and without a certificate, a stranger's certificate
// refused; --auto-tls answering etcdctl --insecure-skip-tls-verify; https URLs without certificates
// refused with etcd's words; and etcdctl's URL endpoints (`--endpoints http://...`, the --cluster
// forms) whose :authority Node's HTTP/2 used to refuse. Needs openssl, etcd and etcdctl: fails
// without them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issue, makeCa } from '../unit/platform/certs.js';
import {
  cleanup, daemonCommand, etcdctl, freePort, httpsText, run, startEtcd, startMember, tempDir,
  type Impl, type Member, type MemberOpts,
} from './harness.js';

const IMPLS: Impl[] = ['ours', 'etcd'];
const QUICK = ['--dial-timeout', '1s', '--command-timeout', '3s']; // refusals end at the dial timeout

let dir: string;
const f = (name: string): string => join(dir, name);
const pem = (name: string): Buffer => readFileSync(f(name));

beforeAll(async () => {
  dir = await tempDir('it-tls-');
  makeCa(dir, 'ca');
  makeCa(dir, 'stranger-ca');
  issue(dir, 'server', '/CN=server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue(dir, 'client', '/CN=client', 'extendedKeyUsage=clientAuth\n');
  issue(dir, 'stranger', '/CN=client', 'extendedKeyUsage=clientAuth\n', 'stranger-ca');
});
afterAll(cleanup);

const start = (impl: Impl, opts: MemberOpts): Promise<Member> => (impl === 'ours' ? startMember(opts) : startEtcd(opts));
/** etcdctl that must succeed: its stdout (`endpoint health` writes its lines to stderr: both then). */
const ok = async (ep: string, args: string[]): Promise<string> => {
  const r = await etcdctl(ep, [...QUICK, ...args]);
  expect(r.code, `etcdctl ${args.join(' ')}:\n${r.stderr}`).toBe(0);
  return args.includes('health') ? r.stdout + r.stderr : r.stdout;
};

// ours and etcd at once (a member each; the refusals wait out etcdctl's dial timeout), each one's tests in turn
describe.concurrent.each(IMPLS)('%s: --cert-file --key-file --trusted-ca-file --client-cert-auth', (impl) => {
  let m: Member;
  const mine = (): string[] => ['--cacert', f('ca.crt'), '--cert', f('client.crt'), '--key', f('client.key')];
  beforeAll(async () => {
    m = await start(impl, {
      https: { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') },
      args: ['--cert-file', f('server.crt'), '--key-file', f('server.key'), '--trusted-ca-file', f('ca.crt'), '--client-cert-auth'],
    });
  });

  it.sequential('etcdctl with a client certificate: https URL and host:port endpoints', async () => {
    expect(await ok(m.clientUrl, [...mine(), 'put', '/a', '1'])).toBe('OK\n');
    expect(await ok(m.endpoint, [...mine(), 'get', '/', '--prefix', '--keys-only'])).toBe('/a\n\n'); // the seeds' form
    expect(await ok(m.endpoint, [...mine(), 'get', '/a', '--print-value-only'])).toBe('1\n');
  });

  it.sequential('etcdctl without a certificate, or with a stranger\'s, is refused', async () => {
    const refused = [['--cacert', f('ca.crt')], ['--cacert', f('ca.crt'), '--cert', f('stranger.crt'), '--key', f('stranger.key')]];
    for (const r of await Promise.all(refused.map((certs) => etcdctl(m.clientUrl, [...QUICK, ...certs, 'get', '/a'])))) {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/context deadline exceeded/);
    }
  });

  it.sequential('GET /health over https: with the client certificate served, without one or with a stranger\'s refused', async () => {
    expect(await httpsText(`${m.clientUrl}/health`, { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') })).toBe('{"health":"true"}');
    expect(await httpsText(`${m.clientUrl}/health`, { ca: pem('ca.crt') })).toBe('');
    expect(await httpsText(`${m.clientUrl}/health`, { ca: pem('ca.crt'), cert: pem('stranger.crt'), key: pem('stranger.key') })).toBe('');
  });

  it.sequential('endpoint status, hashkv and health, with --cluster too', async () => {
    for (const args of [['endpoint', 'status'], ['endpoint', 'hashkv'], ['endpoint', 'health', '--cluster'], ['endpoint', 'status', '--cluster'], ['endpoint', 'hashkv', '--cluster']]) {
      expect(await ok(m.clientUrl, [...mine(), ...args])).toContain(m.clientUrl);
    }
  });
});

describe.each(IMPLS)('%s: --auto-tls', (impl) => {
  let m: Member;
  beforeAll(async () => {
    m = await start(impl, { https: {}, args: ['--auto-tls'] });
  });

  it('answers etcdctl --insecure-skip-tls-verify, and a client that trusts the generated certificate', async () => {
    const skip = ['--insecure-transport=false', '--insecure-skip-tls-verify'];
    expect(await ok(m.clientUrl, [...skip, 'put', 'k', 'v'])).toBe('OK\n');
    expect(await ok(m.endpoint, [...skip, 'get', 'k', '--print-value-only'])).toBe('v\n');
    const cert = join(m.dataDir, 'fixtures', 'client', 'cert.pem');
    expect(await ok(m.clientUrl, ['--cacert', cert, 'get', 'k', '--print-value-only'])).toBe('v\n');
    const text = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-text']).toString();
    expect(text).toMatch(/NIST CURVE: P-521/);
    expect(text).toMatch(/Subject: O = etcd/);
    expect(text).toMatch(/IP Address:127\.0\.0\.1/);
  });
});

describe.each(IMPLS)('%s: etcdctl with URL endpoints over http (grpc-go sends the URL as :authority)', (impl) => {
  let m: Member;
  beforeAll(async () => {
    m = await start(impl, {});
  });

  it.each([
    ['endpoint status'], ['endpoint hashkv'], ['defrag'], ['endpoint health --cluster'],
    ['endpoint status --cluster'], ['endpoint hashkv --cluster'], ['defrag --cluster'],
  ])('%s', async (cmd) => {
    expect(await ok(m.clientUrl, cmd.split(' '))).toContain(m.clientUrl);
  });
});

describe('https URLs without certificates are refused as etcd refuses them', () => {
  /** The line that explains the failure, without etcd's log prefix. */
  const reason = (stderr: string): string => stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{') && !/ [IWN] \| |^\[WARNING\]/.test(l))
    .at(-1)?.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ C \| etcdmain: /, '') ?? '';

  it.each([['client'], ['peer']])('%s URL', async (which) => {
    const [c, p] = [await freePort(), await freePort()];
    const cu = `${which === 'client' ? 'https' : 'http'}://127.0.0.1:${c}`;
    const pu = `${which === 'peer' ? 'https' : 'http'}://127.0.0.1:${p}`;
    const got = await Promise.all(IMPLS.map(async (impl) => {
      const [cmd, pre] = daemonCommand(impl);
      const args = ['--data-dir', join(await tempDir(`it-tls-${impl}-`), 'd'), '--listen-client-urls', cu, '--advertise-client-urls', cu,
        '--listen-peer-urls', pu, '--initial-advertise-peer-urls', pu, '--initial-cluster', `default=${pu}`];
      const r = await run(cmd, [...pre, ...args], { timeoutMs: 30_000 });
      return [r.code, reason(r.stderr)];
    }));
    expect(got[0]).toEqual(got[1]);
    expect(got[0]![0]).toBe(1);
    expect(got[0]![1]).toMatch(which === 'client' ? /^TLS key\/cert \(--cert-file, --key-file\) must be provided/ : /^cannot listen on TLS for 127\.0\.0\.1:\d+: KeyFile and CertFile are not presented$/);
  });
});
