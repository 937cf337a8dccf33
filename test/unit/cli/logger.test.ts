import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLogOutputs, makeLogger } from '../../../src/cli/logger.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function waitFor(file: string, text: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const s = await readFile(file, 'utf8').catch(() => '');
    if (s.includes(text)) return s;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${text} never reached ${file}`);
}

describe('the member logger (etcd zap shape, --log-outputs)', () => {
  it('writes level words and ISO timestamps to every file output', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'logger-'));
    dirs.push(dir);
    const [a, b] = [path.join(dir, 'a.log'), path.join(dir, 'b.log')];
    const logger = makeLogger({ logger: 'zap', logLevel: 'info', logOutputs: [a, b] });
    logger.child({ room: 'server' }).warn({ memberId: 'abc' }, 'slow fdatasync');
    logger.debug('not at info');
    logger.flush();
    for (const f of [a, b]) {
      const line = JSON.parse((await waitFor(f, 'slow fdatasync')).trim().split('\n').at(-1)!) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 'warn', msg: 'slow fdatasync', room: 'server', memberId: 'abc' });
      expect(line.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Object.keys(line).slice(0, 2)).toEqual(['level', 'ts']);
      expect(await readFile(f, 'utf8')).not.toContain('not at info');
    }
  });

  it('refuses the combinations etcd 3.4 refuses, with its words', () => {
    expect(() => checkLogOutputs('capnslog', ['stderr', 'stdout'])).toThrow(`--logger=capnslog supports only 1 value in '--log-outputs', got ["stderr" "stdout"]`);
    expect(() => checkLogOutputs('capnslog', ['/var/log/etcd.log'])).toThrow('unknown log-output "/var/log/etcd.log" (only supports "default", "stderr", "stdout")');
    expect(() => checkLogOutputs('zap', ['default', 'stderr'])).toThrow('multi logoutput for "default" is not supported yet');
    expect(() => checkLogOutputs('zap', ['stderr', '/var/log/etcd.log'])).not.toThrow();
    expect(() => checkLogOutputs('capnslog', ['default'])).not.toThrow();
    expect(() => makeLogger({ logger: 'zap', logLevel: 'info', logOutputs: ['/nonexistent-dir/x.log'] }))
      .toThrow('open sink "/nonexistent-dir/x.log": open /nonexistent-dir/x.log: no such file or directory');
  });
});
