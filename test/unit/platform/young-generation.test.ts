// A start holds V8's young generation at its initial size; released, it grows again with the load.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { holdYoungGeneration } from '../../../src/platform/young-generation.js';

describe('holdYoungGeneration', () => {
  it('leaves explicit semi-space flags alone, in either spelling', () => {
    expect(holdYoungGeneration(['--max-semi-space-size=64'])).toBe(false);
    expect(holdYoungGeneration(['--semi_space_growth_factor=4'])).toBe(false);
    expect(holdYoungGeneration(['--min-semi-space-size=8', '--heap-growing-percent=50'])).toBe(false);
  });

  it('keeps the new space small while held; released, V8 grows it again up to the cap', () => {
    const script = path.join(import.meta.dirname, 'young-generation-child.mjs');
    const run = (...args: string[]): number => Number(execFileSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: 60_000 }).trim());
    const MB = 1024 * 1024;
    const held = run('hold');
    const free = run('free');
    const capped = run('released', String(8 * MB));
    const higher = run('released', String(16 * MB));
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(free / 4);
    // grows past the hold and never past the cap (where V8 shrank it first, it may stop short of
    // it: doublings from a size that is not a power of two), which V8's own growth goes beyond
    expect(capped).toBeGreaterThan(held);
    expect(capped).toBeLessThanOrEqual(8 * MB);
    expect(higher).toBeGreaterThan(capped);
    expect(higher).toBeLessThanOrEqual(16 * MB);
    expect(free).toBeGreaterThan(16 * MB);
  });
});
