// The key index image across real restarts of a member of ours: SIGTERM writes it, the next start
// loads the index from it (and removes it) and serves the same keys, revisions and lease attachments;
// after SIGKILL there is no image and the start scans the backend.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cleanup, ctlOk, startMember, type Member } from './harness.js';

afterAll(cleanup);

const imageOf = (m: Member): string => join(m.dataDir, 'member', 'snap', 'keyindex');
/** How the current process built its key index ('image' or 'scan'), from its log. */
function openedFrom(m: Member): unknown {
  const line = m.logs().split('\n').find((l) => l.includes('"msg":"mvcc store opened"'));
  return line ? (JSON.parse(line) as { from?: unknown }).from : undefined;
}

async function snapshotOf(m: Member): Promise<unknown> {
  const get = JSON.parse(await ctlOk(m, ['get', '', '--from-key', '-w', 'json'])) as { header: { revision: number }; kvs?: unknown[] };
  const old = JSON.parse(await ctlOk(m, ['get', 'k/1', '--rev', '12', '-w', 'json'])) as { kvs?: unknown[] };
  const hash = JSON.parse(await ctlOk(m, ['endpoint', 'hashkv', '-w', 'json'])) as { HashKV: { hash: number } }[];
  return { rev: get.header.revision, kvs: get.kvs, old: old.kvs, hash: hash[0]!.HashKV.hash };
}

it('a restart after SIGTERM loads the key index image; after SIGKILL it scans', async () => {
  const m = await startMember();
  const lease = /lease (\w+) granted/.exec(await ctlOk(m, ['lease', 'grant', '600']))![1]!;
  for (let i = 0; i < 20; i++) await ctlOk(m, ['put', `k/${i % 7}`, `v${i}`]);
  await ctlOk(m, ['put', 'leased', 'yes', '--lease', lease]);
  await ctlOk(m, ['del', 'k/3']);
  await ctlOk(m, ['compact', '10']);
  const before = await snapshotOf(m);
  expect(openedFrom(m)).toBe('scan');

  const exit = await m.stop();
  expect(exit.code, m.logs()).toBe(0);
  expect(m.logs()).toMatch(/"msg":"key index image written"/);
  expect(existsSync(imageOf(m))).toBe(true);

  await m.restart();
  expect(openedFrom(m), m.logs()).toBe('image');
  expect(existsSync(imageOf(m))).toBe(false);
  expect(await snapshotOf(m)).toEqual(before);
  expect(await ctlOk(m, ['lease', 'timetolive', lease, '--keys'])).toMatch(/attached keys\(\[leased\]\)/);
  await ctlOk(m, ['put', 'after', 'image']);

  await m.kill();
  expect(existsSync(imageOf(m))).toBe(false);
  await m.restart();
  expect(openedFrom(m), m.logs()).toBe('scan');
  expect(m.logs()).not.toMatch(/key index image not used/);
  expect(await ctlOk(m, ['get', 'after', '--print-value-only'])).toBe('image\n');
  await m.stop();
});
