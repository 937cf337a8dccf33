// The debug log of a start's steps: each step's own time and the time since the process started.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { startSteps } from '../../../src/pkg/start-steps.js';

function capture(level: string): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c))), cb()) });
  return { lines, logger: pino({ level }, sink) as unknown as Logger };
}

describe('startSteps', () => {
  it('logs each step at debug with its own ms, the ms since process start, and extra fields', async () => {
    const { lines, logger } = capture('debug');
    const steps = startSteps(logger);
    steps.mark('modules imported');
    const busyUntil = performance.now() + 15;
    while (performance.now() < busyUntil);
    steps.mark('read WAL', { entries: 3 });
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.msg, l.step, l.level])).toEqual([['start step', 'modules imported', 20], ['start step', 'read WAL', 20]]);
    const [a, b] = lines as { ms: number; cpuMs: number; sinceStartMs: number; entries?: number }[];
    expect(a!.ms).toBe(a!.sinceStartMs); // the first step counts from the process start
    expect(b!.ms).toBeGreaterThanOrEqual(14);
    expect(b!.cpuMs).toBeGreaterThanOrEqual(1); // it spun
    expect(b!.sinceStartMs).toBeGreaterThanOrEqual(a!.sinceStartMs + b!.ms - 1);
    expect(b!.entries).toBe(3);
  });

  it('logs nothing above debug', async () => {
    const { lines, logger } = capture('info');
    startSteps(logger).mark('modules imported');
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([]);
  });
});
