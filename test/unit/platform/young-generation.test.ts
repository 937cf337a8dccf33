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

  it('keeps the new space small while held, and V8 grows it again once released', () => {
    const script = path.join(import.meta.dirname, 'young-generation-child.mjs');
    const run = (mode: string): number => Number(execFileSync(process.execPath, ['--import', 'tsx', script, mode], { encoding: 'utf8', timeout: 60_000 }).trim());
    const held = run('hold');
    const released = run('released');
    const free = run('free');
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(free / 4);
    expect(released).toBeGreaterThan(held * 4);
  });
});
