// A WAL damaged in the middle (not a torn tail, which is repaired) stops the member at start: exit 1,
// one fatal log line saying the WAL is corrupt (cli/errors.ts damageOf), and the WalCorruptError's
// file and offset on the last line, instead of serving from a log it cannot trust.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ctlOk, daemonCommand, failureLine, memberFlags, run, startMember } from './harness.js';

afterAll(cleanup);

describe('a member whose WAL is corrupt in the middle', () => {
  it('refuses to start: exit 1 and a fatal line naming the damage', async () => {
    const m = await startMember();
    await ctlOk(m, ['put', 'damaged-here', 'value-one']);
    for (let i = 0; i < 5; i++) await ctlOk(m, ['put', `later-${i}`, 'v']);
    expect((await m.stop()).code).toBe(0);

    const walDir = join(m.dataDir, 'member', 'wal');
    const segment = join(walDir, (await readdir(walDir)).filter((n) => n.endsWith('.wal')).sort()[0]!);
    const bytes = await readFile(segment);
    const at = bytes.indexOf('damaged-here');
    expect(at).toBeGreaterThan(0);
    bytes[at] ^= 0xff; // a record followed by valid ones: not a torn write
    await writeFile(segment, bytes);

    const [cmd, pre] = daemonCommand('ours');
    const port = (url: string): number => Number(new URL(url).port);
    const r = await run(cmd, [...pre, ...memberFlags(m.name, m.dataDir, port(m.clientUrl), port(m.peerUrl))], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(1);
    const fatal = r.stderr.split('\n').filter((l) => l.includes('"level":"fatal"'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain('"msg":"the WAL is corrupt; refusing to start"');
    expect(fatal[0]).toContain('WalCorruptError: WAL corrupt: ');
    expect(failureLine(r.stderr)).toMatch(/^etcd: WAL corrupt: \S+\.wal at offset \d+: /);
  });
});
