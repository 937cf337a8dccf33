// readFileZeroTail returns what fs.readFile returns, whatever mix of data and zero chunks the file has,
// and records the offset from which it found only zeros (the chunk after the last data, 1 MiB chunks).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { knownZeroFrom } from '../../../src/pkg/disk.js';
import { readFileZeroTail } from '../../../src/platform/read-zero-tail.js';

const dir = mkdtempSync(path.join(tmpdir(), 'zero-tail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MB = 1 << 20;

function fileOf(name: string, size: number, dataAt: [number, number][]): string {
  const b = Buffer.alloc(size);
  for (const [from, to] of dataAt) for (let i = from; i < to; i++) b[i] = (i % 251) + 1;
  const f = path.join(dir, name);
  writeFileSync(f, b);
  return f;
}

describe('readFileZeroTail', () => {
  it.each([
    ['data then a zero tail (a preallocated segment)', 9 * MB + 123, [[0, 3 * MB + 17]], 4 * MB],
    ['data after zero chunks (a dirty tail), then zeros', 10 * MB, [[0, 100], [5 * MB + 3, 5 * MB + 9], [8 * MB - 1, 8 * MB + 1]], 9 * MB],
    ['data ending in a partial last chunk', 4 * MB + 5, [[4 * MB, 4 * MB + 5]], 4 * MB + 5],
    ['all zeros', 2 * MB, [], 0],
    ['empty', 0, [], 0],
  ] as [string, number, [number, number][], number][])('%s', async (name, size, dataAt, zeroFrom) => {
    const f = fileOf(name.replace(/\W+/g, '-'), size, dataAt);
    const got = await readFileZeroTail(f);
    expect(got.length).toBe(size);
    expect(got.equals(readFileSync(f))).toBe(true);
    expect(knownZeroFrom(got)).toBe(zeroFrom);
    expect(got.subarray(zeroFrom).every((b) => b === 0)).toBe(true);
  });
});
