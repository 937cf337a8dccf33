// The server's side of the key index image: saveKvImage writes it durably beside the backend,
// openKvStore uses it when it matches and removes it whether it was used or not.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Backend } from '../../../src/backend/index.js';
import type { Logger } from '../../../src/pkg/logger.js';
import { openKvStore, saveKvImage } from '../../../src/server/stores.js';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'kv-image-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
  const l = { child: () => l, info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'), debug: at('debug'), trace: at('trace') };
  return { logger: l as unknown as Logger, lines };
}

const B = (s: string): Buffer => Buffer.from(s);

async function closeWithImage(image: string): Promise<void> {
  const backend = await Backend.open(join(dir, 'db'));
  const { logger } = captureLogger();
  const kv = await openKvStore(backend, image, { logger });
  for (let i = 1; i <= 50; i++) kv.put(i, { key: B(`k${i % 9}`), value: B(`v${i}`) });
  await backend.commit({ sync: true });
  await saveKvImage(kv, image, logger);
  await backend.close();
}

async function reopen(image: string): Promise<{ lines: string[]; values: string[] }> {
  const backend = await Backend.open(join(dir, 'db'));
  const { logger, lines } = captureLogger();
  const kv = await openKvStore(backend, image, { logger });
  const values = kv.range(B('k'), B('l')).kvs.map((x) => `${x.key.toString()}=${x.value.toString()}@${x.modRevision}`);
  await backend.close();
  return { lines, values };
}

it('an image written at close is used by the next open, then removed', async () => {
  const image = join(dir, 'keyindex');
  await closeWithImage(image);
  expect(existsSync(image)).toBe(true);
  expect(existsSync(`${image}.tmp`)).toBe(false);
  const r = await reopen(image);
  expect(r.lines.find((l) => l.includes('mvcc store opened'))).toMatch(/"from":"image"/);
  expect(r.values).toHaveLength(9);
  expect(r.values).toContain('k5=v50@51');
  expect(existsSync(image)).toBe(false);
  const again = await reopen(image);
  expect(again.lines.find((l) => l.includes('mvcc store opened'))).toMatch(/"from":"scan"/);
  expect(again.values).toEqual(r.values);
});

it('a damaged image is refused with a warning, removed, and the open scans', async () => {
  const image = join(dir, 'keyindex');
  await closeWithImage(image);
  const bytes = await readFile(image);
  bytes[bytes.length >> 1] ^= 0x01;
  await writeFile(image, bytes);
  await writeFile(`${image}.tmp`, 'left by a crash mid-write');
  const r = await reopen(image);
  expect(r.lines.find((l) => l.startsWith('warn'))).toMatch(/key index image not used.*CRC mismatch/);
  expect(r.lines.find((l) => l.includes('mvcc store opened'))).toMatch(/"from":"scan"/);
  expect(r.values).toContain('k5=v50@51');
  expect(existsSync(image)).toBe(false);
  expect(existsSync(`${image}.tmp`)).toBe(false);
});

it('a failed image write leaves no file and does not throw', async () => {
  const image = join(dir, 'no-such-dir', 'keyindex');
  const backend = await Backend.open(join(dir, 'db'));
  const { logger, lines } = captureLogger();
  const kv = await openKvStore(backend, image, { logger });
  kv.put(1, { key: B('a'), value: B('1') });
  await saveKvImage(kv, image, logger);
  await backend.close();
  expect(lines.find((l) => l.startsWith('warn'))).toMatch(/key index image not written/);
  expect(existsSync(image)).toBe(false);
});
