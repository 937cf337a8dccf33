// The daemon caps V8's heap growth at Go's default unless node was given its own setting.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capHeapGrowth, HEAP_GROWING_PERCENT } from '../../../src/platform/heap-growth.js';

describe('capHeapGrowth', () => {
  it('leaves an explicit node --heap-growing-percent alone, in either spelling', () => {
    expect(capHeapGrowth(['--heap-growing-percent=0'])).toBe(false);
    expect(capHeapGrowth(['--max-old-space-size=900', '--heap_growing_percent=30'])).toBe(false);
  });

  it('sets the flag otherwise, and V8 takes it: a churning process stays well below its uncapped peak', () => {
    expect(HEAP_GROWING_PERCENT).toBe(100);
    // A child keeps ~20 MB live while making garbage fast enough to be promoted, and prints its peak
    // old-space size: with the cap (about 170 MB here) and with V8's own factor (280-320 MB on Node
    // 20 and 22). Node 24's V8 (13.x) ignores the flag, and its own sizing stays near the capped
    // size (about 200 MB either way): there the check is that it does.
    const script = path.join(import.meta.dirname, 'heap-growth-child.mjs');
    const run = (cap: string): number => Number(execFileSync(process.execPath, ['--import', 'tsx', script, cap], { encoding: 'utf8', timeout: 60_000 }).trim());
    const capped = run('cap');
    const free = run('nocap');
    expect(capped).toBeGreaterThan(0);
    if (Number(process.versions.v8.split('.')[0]) >= 13) expect(free).toBeLessThan(1.25 * capped);
    else expect(capped).toBeLessThan(0.8 * free);
  });
});
