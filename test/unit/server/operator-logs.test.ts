// The events an operator searches the logs for, with etcd's messages: the member became leader and
// published itself, a compaction finished, an alarm was raised.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, startMember, tempDir, type TestMember } from './helpers.js';

const lines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
    done();
  },
});
let m: TestMember | undefined;
let dir = '';
afterAll(async () => {
  await m?.server.stop();
  if (dir) await removeDir(dir);
});

async function logged(msg: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const l = lines.find((x) => x.msg === msg);
    if (l) return l;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never logged: ${msg}; got ${lines.map((l) => String(l.msg)).join(' | ')}`);
}

const put = (key: string, value: string) => ({ key: Buffer.from(key), value: Buffer.from(value), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false });

describe('operator events in the log', () => {
  it('became leader, published, finished compaction, alarm raised', async () => {
    dir = await tempDir();
    m = await startMember(dir, { logger: pino({ level: 'info' }, sink), quotaBackendBytes: 64 * 1024 });
    expect(await logged('became leader')).toMatchObject({ term: expect.any(Number) });
    expect(await logged('published local member to cluster through raft')).toMatchObject({ name: expect.any(String) });
    for (let i = 0; i < 5; i++) await m.facade.put(put('k', `v${i}`));
    await m.facade.compact({ revision: '4', physical: true });
    expect(await logged('finished scheduled compaction')).toMatchObject({ compactRevision: 4, deletedRevisions: 2 });
    // over the 64 KiB quota (the backend's size is measured now and then): a put is refused and
    // the NOSPACE alarm raised, once
    let refused: unknown;
    for (let i = 0; i < 300 && refused === undefined; i++) {
      await m.facade.put(put(`big${i}`, 'x'.repeat(16 * 1024))).catch((e: unknown) => (refused = e));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(refused).toMatchObject({ code: 'NoSpace' });
    expect(await logged('alarm raised')).toMatchObject({ alarm: 'NOSPACE' });
    expect(lines.filter((l) => l.msg === 'alarm raised')).toHaveLength(1);
  }, 30_000);
});
