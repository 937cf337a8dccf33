// Bad configurations make the daemon exit non-zero with one clear line, compared with what etcd
// 3.4.23 prints for the same command line: unknown flag, malformed URLs, a bad enum or number (exit 2,
// the same first line), a client port already in use (exit 1, etcd's line without its log prefix),
// a data dir that cannot be created (exit 1, a line naming the dir; etcd's text differs, see below).
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, daemonCommand, failureLine, freePort, memberFlags, run, tempDir, type Impl, type Run } from './harness.js';

const RUN_TIMEOUT_MS = 30_000; // hang guard: a daemon that starts instead of failing is killed

afterAll(cleanup);

function daemon(impl: Impl, args: string[]): Promise<Run> {
  const [cmd, pre] = daemonCommand(impl);
  return run(cmd, [...pre, ...args], { timeoutMs: RUN_TIMEOUT_MS });
}

const reason = (r: Run): string => failureLine(r.stderr);

describe('bad configuration: exit code and message, ours vs etcd 3.4.23', () => {
  let dir: string;
  let flags: string[];
  beforeAll(async () => {
    dir = await tempDir('it-badcfg-');
    flags = memberFlags('default', join(dir, 'unused'), await freePort(), await freePort()).slice(4); // no --name, --data-dir
  });

  const flagCases: [string, string[]][] = [
    ['unknown flag', ['--no-such-flag']],
    ['URL without a scheme', ['--listen-client-urls', 'localhost:2379']],
    ['malformed URL', ['--listen-client-urls', 'http//bad url']],
    ['URL with a path', ['--listen-peer-urls', 'http://127.0.0.1:2380/x']],
    ['bad enum value', ['--initial-cluster-state', 'bogus']],
    ['bad number', ['--heartbeat-interval', 'abc']],
  ];

  it.concurrent.each(flagCases)('%s: exit 2 and the same first line', async (_, bad) => {
    const args = ['--data-dir', join(dir, 'never'), ...flags, ...bad];
    const [etcd, ours] = await Promise.all([daemon('etcd', args), daemon('ours', args)]);
    expect(etcd.code).toBe(2);
    expect(ours.code, ours.stderr).toBe(2);
    const first = etcd.stderr.split('\n')[0]!;
    expect(ours.stderr.split('\n')[0]).toBe(first);
    expect(ours.stdout).toBe('');
  });

  const logCases: [string, string[]][] = [
    ['capnslog with two log outputs', ['--log-outputs', 'stderr,stdout']],
    ['capnslog with a file', ['--log-outputs', '/tmp/etcd-ts-never.log']],
    ['zap with default among others', ['--logger', 'zap', '--log-outputs', 'default,stderr']],
    ['zap with a file in a missing dir', ['--logger', 'zap', '--log-outputs', '/nonexistent-dir/etcd.log']],
  ];

  it.concurrent.each(logCases)('%s: exit 1 and etcd\'s line', async (_, bad) => {
    const args = ['--data-dir', join(dir, 'never'), ...flags, ...bad];
    const [etcd, ours] = await Promise.all([daemon('etcd', args), daemon('ours', args)]);
    expect(etcd.code).toBe(1);
    expect([ours.code, reason(ours)], ours.stderr).toEqual([1, reason(etcd)]);
  });

  describe('client port already in use', () => {
    let holder: Server;
    let port: number;
    beforeAll(async () => {
      holder = createServer();
      await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
      port = (holder.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((r) => holder.close(() => r())));

    it('exit 1 with etcd\'s line', async () => {
      const c = `http://127.0.0.1:${port}`;
      const withPort = (impl: Impl): string[] =>
        ['--data-dir', join(dir, `inuse-${impl}`), ...flags, '--listen-client-urls', c, '--advertise-client-urls', c];
      const [etcd, ours] = await Promise.all([daemon('etcd', withPort('etcd')), daemon('ours', withPort('ours'))]);
      const line = `listen tcp 127.0.0.1:${port}: bind: address already in use`;
      expect([etcd.code, reason(etcd)]).toEqual([1, line]);
      expect([ours.code, reason(ours)], ours.stderr).toEqual([1, line]);
    });
  });

  it('data dir that cannot be created: exit 1 with one line naming it', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    const bad = join(file, 'data');
    const args = ['--data-dir', bad, ...flags];
    const [etcd, ours] = await Promise.all([daemon('etcd', args), daemon('ours', args)]);
    expect([etcd.code, reason(etcd)]).toEqual([1, `error listing data dir: ${bad}`]);
    expect(ours.code, ours.stderr).toBe(1);
    expect(reason(ours)).toContain(bad);
    expect(ours.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('{'))).toHaveLength(1);
  });
});
